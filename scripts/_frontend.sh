#!/usr/bin/env bash
# Sourced by run-dev.sh: installs the dashboard's npm packages when needed and
# starts its dev server in the background (stopped when the script exits).
start_frontend_dev() {
  local port="$1" api="$2" mode="$3"
  if ! command -v npm >/dev/null 2>&1; then
    echo "warning: npm not found; the dashboard dev server is not started" >&2
    return 0
  fi
  if [ ! -d frontend/node_modules ] || [ frontend/package.json -nt frontend/node_modules ]; then
    (cd frontend && npm install --no-audit --no-fund)
  fi
  (cd frontend && VITE_API_URL="$api" VITE_MODE="$mode" \
     npm run dev -- --port "$port" --strictPort --host 127.0.0.1) &
  FRONTEND_PID=$!
  trap 'kill "$FRONTEND_PID" 2>/dev/null || true' EXIT
  echo "dashboard dev server on http://127.0.0.1:$port (API $api, $mode)"
}
