#!/usr/bin/env bash
# Shared set-up of the dashboard, sourced by test.sh and run-dev.sh (after
# _setup.sh, from the repository root). Defines:
#
#   frontend_present      true when frontend/package.json exists (else says why
#                         the dashboard steps are skipped)
#   frontend_install      `npm ci` when node_modules is missing or older than
#                         package-lock.json
#   frontend_build        `npm run build` (frontend/dist, served by the backend)
#   frontend_build_stale  true when dist is missing or older than a source file
#   ensure_chromium       Debian's chromium (/usr/bin/chromium) for the
#                         end-to-end test, installed with apt-get when missing
#
# Every function fails with a message saying what to do when it cannot work.

frontend_present() {
  if [ ! -f frontend/package.json ]; then
    echo "frontend/package.json not found: skipping the dashboard steps" >&2
    return 1
  fi
}

_require_npm() {
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "error: the dashboard needs Node.js >= 20.19 and npm (https://nodejs.org)" >&2
    return 1
  fi
}

frontend_install() {
  _require_npm || return 1
  local stamp=frontend/node_modules/.package-lock.json  # written by every npm install
  if [ ! -f "$stamp" ] || [ frontend/package-lock.json -nt "$stamp" ]; then
    echo "installing the dashboard's npm packages (npm ci)"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error) || {
      echo "error: npm ci failed in frontend/ (is package-lock.json in sync with" \
           "package.json? run 'npm install' there)" >&2
      return 1
    }
  fi
}

frontend_build_stale() {
  [ -f frontend/dist/index.html ] || return 0
  local newer
  newer="$(find frontend/src frontend/public frontend/index.html frontend/package-lock.json \
             frontend/vite.config.ts frontend/tsconfig*.json \
             -newer frontend/dist/index.html -print -quit 2>/dev/null || true)"
  [ -n "$newer" ]
}

frontend_build() {
  echo "building the dashboard (npm run build -> frontend/dist)"
  (cd frontend && npm run build --silent) || {
    echo "error: the dashboard build failed (cd frontend && npm run build)" >&2
    return 1
  }
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the end-to-end test (apt-get install chromium)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium >/dev/null || {
      echo "error: apt-get install chromium failed" >&2
      return 1
    }
    [ -x /usr/bin/chromium ] && return 0
  fi
  echo "error: the end-to-end test needs Debian's chromium at /usr/bin/chromium;" \
       "install it as root: apt-get install -y chromium" >&2
  return 1
}
