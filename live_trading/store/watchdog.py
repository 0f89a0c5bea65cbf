"""The embedded server's watchdog: stops a server whose owner is gone.

``python -m live_trading.store.watchdog DATA_DIR SERVER_PID GRACE_S`` runs
beside each embedded SecantusDB server this project starts (see
:mod:`live_trading.store.embedded`), in a session of its own so a Ctrl-C or a
closed terminal does not reach it. Every ``poll`` seconds it reads
``DATA_DIR/secantus.json``, the record of the server and of the process that
owns it, and:

* exits when the server is gone, or the record names another server (stopped
  cleanly, or replaced);
* follows the owner the record names: a process that adopts the server
  writes itself there, and from then on is the one watched;
* when the owner has been dead for ``GRACE_S`` seconds without anyone
  adopting the server, stops it with SIGTERM (SIGKILL after 15 s if it does
  not exit), deletes the record and exits.

The stop happens under the same file lock as a start (``secantus.lock``), so
it never races an adoption: a start either adopts a running server or finds
the record gone and starts a new one.

Stdlib only, so the watchdog stays small (no pymongo). The process helpers
here (:func:`pid_alive`, :func:`is_server_process`, :func:`stop_process`)
are shared with :mod:`live_trading.store.embedded`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("live_trading.store.watchdog")

SERVER_PROGRAM = "secantusd-py"
WATCHDOG_MODULE = "live_trading.store.watchdog"
DEFAULT_ORPHAN_GRACE_S = 60.0


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (dead, awaiting its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child still "exists": treat it as dead
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def process_start(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot; None when unknown), to
    tell a process from a later one that reuses its pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return int(fh.read().rsplit(") ", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def is_server_process(pid: int) -> bool:
    """True when ``pid`` runs the SecantusDB server (guards against pid reuse)."""
    return SERVER_PROGRAM.encode() in _cmdline(pid)


def is_watchdog_process(pid: int, data_dir: Path) -> bool:
    """True when ``pid`` is a watchdog of the server serving ``data_dir``."""
    args = _cmdline(pid).split(b"\0")
    return WATCHDOG_MODULE.encode() in args and str(data_dir).encode() in args


def reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so no zombie stays."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        reap(pid)
        if not pid_alive(pid):
            reap(pid)  # it may have become a zombie between the reap and the look
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def stop_process(pid: int, *, graceful: bool = True) -> None:
    """Stop ``pid``: SIGTERM (``graceful``) or SIGKILL, and SIGKILL again
    when it is still there 15 s later; returns once it is gone (or 5 s after
    that on a very loaded machine). Reaps it when it is our child."""
    try:
        os.kill(pid, signal.SIGTERM if graceful else signal.SIGKILL)
    except ProcessLookupError:
        return
    if _wait_gone(pid, 15.0):  # a loaded machine may take a while, even for SIGKILL
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _wait_gone(pid, 5.0)
    reap(pid)  # it may have turned zombie right after the last reap


@contextmanager
def record_lock(data_dir: Path):
    """The lock that serialises starts, adoptions and watchdog stops on ``data_dir``."""
    with open(data_dir / "secantus.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def read_record(data_dir: Path) -> dict | None:
    """``DATA_DIR/secantus.json`` as a dict (None when missing or unreadable)."""
    try:
        raw = json.loads((data_dir / "secantus.json").read_text())
        return raw if isinstance(raw, dict) else None
    except (OSError, ValueError):
        return None


class Watchdog:
    """Watches the server ``server_pid`` serving ``data_dir`` (see the module)."""

    def __init__(self, data_dir: Path, server_pid: int, grace_s: float) -> None:
        self.data_dir, self.server_pid, self.grace_s = Path(data_dir), server_pid, grace_s
        self.owner_pid = 0  # the owner being watched (0: none yet)
        self.owner_start: int | None = None  # when it started (tells a reused pid apart)
        self.orphaned_at: float | None = None

    def check(self) -> bool:
        """One look; False once there is nothing left to watch (stopped it, or gone)."""
        record = read_record(self.data_dir)
        if record is None or record.get("pid") != self.server_pid or not pid_alive(self.server_pid):
            return False
        if self._owner_alive(int(record.get("owner_pid", 0))):
            self.orphaned_at = None
            return True
        now = time.monotonic()
        if self.orphaned_at is None:
            self.orphaned_at = now
            log.warning(
                "embedded server pid %s: its owner pid %s is gone; stopping it in "
                "%.0f s unless a process adopts it",
                self.server_pid,
                self.owner_pid,
                self.grace_s,
            )
        if now - self.orphaned_at < self.grace_s:
            return True
        return self._stop_if_still_orphaned()

    def _owner_alive(self, owner_pid: int) -> bool:
        if owner_pid != self.owner_pid:  # the first look, or adopted since
            self.owner_pid, self.owner_start = owner_pid, process_start(owner_pid)
            self.orphaned_at = None
            log.info("embedded server pid %s: watching owner pid %s", self.server_pid, owner_pid)
        started = self.owner_start
        return (
            owner_pid > 0
            and pid_alive(owner_pid)
            and (started is None or process_start(owner_pid) == started)
        )

    def _stop_if_still_orphaned(self) -> bool:
        with record_lock(self.data_dir):
            record = read_record(self.data_dir)
            if record is None or record.get("pid") != self.server_pid:
                return False
            if record.get("owner_pid") != self.owner_pid:
                return True  # adopted while we waited for the lock: watch the new owner
            if is_server_process(self.server_pid):
                log.warning(
                    "embedded server pid %s has had no owner for %.0f s: stopping it",
                    self.server_pid,
                    self.grace_s,
                )
                stop_process(self.server_pid)
            (self.data_dir / "secantus.json").unlink(missing_ok=True)
        return False

    def run(self, poll_s: float | None = None) -> None:
        """Check every ``poll_s`` seconds (a quarter of the grace, at most 1 s)
        until there is nothing left to watch."""
        poll_s = poll_s if poll_s is not None else min(1.0, self.grace_s / 4)
        while self.check():
            time.sleep(poll_s)


def main(argv: list[str]) -> int:
    """``DATA_DIR SERVER_PID GRACE_S``; exit 2 on bad arguments."""
    try:
        data_dir, server_pid, grace_s = Path(argv[0]), int(argv[1]), float(argv[2])
    except (IndexError, ValueError):
        print(
            "usage: python -m live_trading.store.watchdog DATA_DIR SERVER_PID GRACE_S",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s watchdog[%(process)d] %(levelname)s %(message)s",
    )
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only its owner's death stops it
    Watchdog(data_dir, server_pid, grace_s).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
