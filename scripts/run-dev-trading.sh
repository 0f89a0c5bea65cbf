#!/usr/bin/env bash
# The trading gateway: backend 9000, dashboard 4000 (BACKEND_PORT, FRONTEND_PORT).
MODE=trading exec "$(dirname "${BASH_SOURCE[0]}")/run-dev.sh" "$@"
