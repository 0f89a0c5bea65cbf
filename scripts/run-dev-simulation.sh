#!/usr/bin/env bash
# The simulation gateway: backend 9001, dashboard 4001 (BACKEND_PORT,
# FRONTEND_PORT); nothing reaches a broker.
MODE=simulation exec "$(dirname "${BASH_SOURCE[0]}")/run-dev.sh" "$@"
