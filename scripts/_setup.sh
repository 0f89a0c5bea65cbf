#!/usr/bin/env bash
# Shared set-up, sourced by run-dev.sh and test.sh: creates .venv with
# Python >= 3.11 and installs the project with the given extras (the embedded
# database server included) at exactly the versions of the lock file
# (requirements/lock.txt, or requirements/lock-bench.txt when the extras name
# bench; regenerate them with scripts/lock.sh). Re-installs when
# pyproject.toml or the lock file changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXTRAS="${1:-embedded}"

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)" 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Python >= 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY="$(find_python)"
  echo "creating .venv with $PY"
  "$PY" -m venv .venv
fi
case ",$EXTRAS," in
  *,bench,*) LOCK=requirements/lock-bench.txt ;;
  *)         LOCK=requirements/lock.txt ;;
esac
STAMP=".venv/.installed-$(cat pyproject.toml "$LOCK" | sha256sum | cut -c1-16)-${EXTRAS//,/_}"
if [ ! -f "$STAMP" ]; then
  echo "installing live_trading[$EXTRAS] into .venv (versions: $LOCK)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c "$LOCK" -e ".[$EXTRAS]"
  rm -f .venv/.installed-*
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
