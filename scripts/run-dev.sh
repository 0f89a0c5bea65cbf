#!/usr/bin/env bash
# Set up everything and run the API + engine with the demo operation
# (USD-CAD, 1 hour, MomentumStrategy on the shipped real data).
# Port: BACKEND_PORT (default 9000). Data: DATA_DIR (default ./var).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" embedded
exec live-trading run --demo --port "${BACKEND_PORT:-9000}" "$@"
