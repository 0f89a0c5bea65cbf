#!/bin/sh
# Start the live_trading backend the way the systemd unit does: crash recovery
# (`live-trading recover`) first, then `exec live-trading run`, so that the
# service manager's signals reach the server itself. Used by the launchd plist
# (launchd has no ExecStartPre); any other supervisor can use it too.
#
#   LIVE_TRADING_HOME      working directory (default: the project, one level up)
#   LIVE_TRADING_ENV_FILE  optional KEY=value file to export first
#   `live-trading` must be on PATH (the plist puts the virtualenv's bin first).
#   Arguments are passed on to `live-trading run` (e.g. --port 9000).
set -eu

cd "${LIVE_TRADING_HOME:-$(dirname "$0")/..}"
if [ -n "${LIVE_TRADING_ENV_FILE:-}" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$LIVE_TRADING_ENV_FILE"
    set +a
fi

echo "service-start: live-trading recover" >&2
live-trading recover
echo "service-start: exec live-trading run $*" >&2
exec live-trading run "$@"
