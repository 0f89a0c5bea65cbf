#!/usr/bin/env bash
# Set up everything and run one gateway: the API + engine, serving the built
# dashboard at / (built first when its sources changed), and the dashboard's
# dev server when frontend/ has one (START_FRONTEND=0: no dev server), with
# the demo operation (USD-CAD, 1 hour, MomentumStrategy on the shipped real
# data).
#
#   MODE=trading (default)   backend 9000, dashboard 4000, orders reach the
#                            broker (BROKER_TYPE, PAPER by default), trade log
#                            kept under ./logs
#   MODE=simulation          backend 9001, dashboard 4001, nothing reaches a
#                            broker; its own database (trading_bot_simulation)
#
# BACKEND_PORT and FRONTEND_PORT override the ports. Runs with
# ENVIRONMENT=development (a placeholder SECRET_KEY is accepted) and creates
# the user LT_ADMIN_USER (admin) with role admin and password
# LT_ADMIN_PASSWORD (admin-dev-password) if it does not exist.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" embedded

export MODE="${MODE:-trading}"
case "$MODE" in
  trading)    DEFAULT_BACKEND=9000; DEFAULT_FRONTEND=4000 ;;
  simulation) DEFAULT_BACKEND=9001; DEFAULT_FRONTEND=4001
              export MONGODB_DB_NAME="${MONGODB_DB_NAME:-trading_bot_simulation}" ;;
  *) echo "error: MODE must be trading or simulation, not '$MODE'" >&2; exit 2 ;;
esac
export BACKEND_PORT="${BACKEND_PORT:-$DEFAULT_BACKEND}"
export FRONTEND_PORT="${FRONTEND_PORT:-$DEFAULT_FRONTEND}"
export ENVIRONMENT="${ENVIRONMENT:-development}"

live-trading users create --username "${LT_ADMIN_USER:-admin}" --role admin \
  --password "${LT_ADMIN_PASSWORD:-admin-dev-password}" --exist-ok

# The backend serves the built dashboard at / (frontend/dist): build it when a
# source changed since the last build (BUILD_FRONTEND=0 skips this).
if [ "${BUILD_FRONTEND:-1}" = "1" ] && [ -f frontend/package.json ]; then
  source "$(dirname "${BASH_SOURCE[0]}")/_setup_frontend.sh"
  if ! { frontend_install && { ! frontend_build_stale || frontend_build; }; }; then
    echo "warning: the dashboard is not built; / says how to build it" >&2
  fi
fi

if [ -f frontend/package.json ] && [ "${START_FRONTEND:-1}" = "1" ]; then
  source "$(dirname "${BASH_SOURCE[0]}")/_frontend.sh"
  start_frontend_dev "$FRONTEND_PORT" "http://127.0.0.1:$BACKEND_PORT" "$MODE"
fi
echo "live_trading $MODE gateway: API and built dashboard on http://127.0.0.1:$BACKEND_PORT"
if [ -n "${FRONTEND_PID:-}" ]; then
  live-trading run --demo --port "$BACKEND_PORT" "$@"  # the EXIT trap stops the dashboard
else
  exec live-trading run --demo --port "$BACKEND_PORT" "$@"
fi
