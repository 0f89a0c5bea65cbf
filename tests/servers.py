"""MongoDB wire-protocol servers the test suite can run against.

``start_test_server(kind, workdir)`` starts one server and returns its URL and
a function that stops it. Kinds:

* ``secantus`` (the default): SecantusDB through the project's own
  :class:`~live_trading.store.embedded.EmbeddedServer`, without an fsync per
  commit (speed). Advertises a single-node replica set.
* ``nx``: nx-27017 (PyPI ``nx-27017``, SQLite-backed), run as a child process
  in multi-file mode (one SQLite file per database under ``workdir/nx-data``).
  A standalone server: no ``setName`` in ``hello``.
* a ``mongodb://`` URL: a server someone else runs (a real MongoDB, e.g.
  ``docker-compose.mongo.yml``); it must answer ``ping``, and is left running.

Pick one with ``LT_TEST_SERVER=secantus|nx`` (see ``docs/store-servers.md``).

Nothing is left running: every server started here is stopped at exit too
(``atexit``) when its ``stop`` was skipped, and ``tests/conftest.py`` turns
SIGTERM and SIGHUP into an interrupt so that exit happens; a SecantusDB server
whose test process was killed outright stops itself after
``EMBEDDED_ORPHAN_GRACE_SECONDS`` (its watchdog).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from live_trading.store.embedded import answers, free_port

KINDS = ("secantus", "nx")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def start_test_server(kind: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """Start a ``kind`` server keeping its files under ``workdir``.

    Returns:
        ``(url, stop)``: a ``mongodb://`` URL (direct connection) and a
        function that stops the server (safe to call more than once).

    Raises:
        ValueError: ``kind`` is neither one of :data:`KINDS` nor a URL.
        RuntimeError: the server did not start or answer in time.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "secantus":
        return _start_secantus(workdir)
    if kind == "nx":
        return _start_nx(workdir)
    if kind.startswith(("mongodb://", "mongodb+srv://")):
        if not answers(kind, timeout_s=10):
            raise RuntimeError(f"no MongoDB server answers at {kind}")
        return kind, lambda: None
    raise ValueError(
        f"unknown test server kind {kind!r}: expected one of {', '.join(KINDS)} or a mongodb:// URL"
    )


def _start_secantus(workdir: Path) -> tuple[str, Callable[[], None]]:
    from live_trading.store.embedded import EmbeddedServer

    server = EmbeddedServer(workdir, sync_on_commit=False)
    return server.start(), server.stop


def _nx_command() -> list[str]:
    beside = Path(sys.executable).parent / "nx-27017"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("nx-27017")
    if found:
        return [found]
    try:
        import nx_27017  # noqa: F401 - only checks that the package is installed
    except ImportError as error:
        raise RuntimeError(
            "nx-27017 is not installed: `pip install nx-27017` to run the suite "
            "with LT_TEST_SERVER=nx"
        ) from error
    return [sys.executable, "-m", "nx_27017.nx_27017"]


def _stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()  # reap: no zombie is left behind


def _start_nx(workdir: Path) -> tuple[str, Callable[[], None]]:
    data_dir = workdir / "nx-data"
    log_path = workdir / "nx.log"
    last_error = ""
    for _attempt in range(3):  # the free port may be taken before the child binds it
        port = free_port()
        url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        args = [
            *_nx_command(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            # one SQLite file per database: in the single-file mode every
            # database shares one connection and dropDatabase drops them all
            "--data-dir",
            str(data_dir),
            # its own pid file (the default, /tmp/nx_27017.pid, is shared by
            # every nx-27017 on the machine and blocks a second start)
            "--pid-file",
            str(workdir / "nx.pid"),
            # the INFO log also goes to stderr, which we keep in nx.log
            "--log-file",
            os.devnull,
        ]
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(  # noqa: S603 - fixed program, our arguments
                args,
                cwd=workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            if answers(url, timeout_s=0.5):
                stopped = False

                def stop(proc: subprocess.Popen = proc) -> None:
                    nonlocal stopped
                    if not stopped:
                        stopped = True
                        _stop_process(proc)
                        atexit.unregister(stop)

                atexit.register(stop)
                return url, stop
            time.sleep(0.1)
        _stop_process(proc)
        last_error = log_path.read_text(errors="replace")[-3000:]
        if "address already in use" not in last_error.lower():
            break
    raise RuntimeError(f"nx-27017 did not start; its log ({log_path}):\n{last_error}")
