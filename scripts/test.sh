#!/usr/bin/env bash
# Set up everything and run the whole test suite (arguments go to pytest).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" embedded,dev
ruff check live_trading tests bench --select F,E9 --quiet
exec python -m pytest "$@"
