#!/usr/bin/env bash
# Set up everything and run the whole test suite (arguments go to pytest):
# ruff (lint and format check), import-linter, mypy, then the dashboard's unit tests (Vitest) and build (frontend/dist,
# which the end-to-end test serves), then pytest. The dashboard's npm packages
# and Debian's chromium (for the end-to-end test) are installed when missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh" embedded,dev
source "$(dirname "${BASH_SOURCE[0]}")/_setup_frontend.sh"
ruff check live_trading tests bench scripts --quiet  # E,W,F,I,B,UP ([tool.ruff.lint])
ruff format --check live_trading tests bench scripts --quiet
lint-imports --no-logo --no-cache  # the layering contracts in pyproject.toml
mypy  # the type check ([tool.mypy] in pyproject.toml: live_trading/, strict on domain/)
if frontend_present; then
  frontend_install
  ensure_chromium
  echo "running the dashboard's unit tests (npm test)"
  (cd frontend && npm test --silent)
  (cd frontend && npm run lint --silent)  # ESLint: types, hooks, import boundaries
  frontend_build
fi
exec python -m pytest "$@"
