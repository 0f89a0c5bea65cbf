#!/usr/bin/env bash
# Set up everything and run the whole test suite (arguments go to pytest).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" embedded,dev
exec python -m pytest "$@"
