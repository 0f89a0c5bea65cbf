"""The embedded SecantusDB server's lifecycle, against the real ``secantusd-py``.

Start / stop / restart on the same data directory, borrowing a server owned by
another live process, adopting one whose owner died, the watchdog stopping a
server whose owner died and nobody adopted, replacing a stale or unresponsive
record, and the error when the program is not installed.

Every test leaves no ``secantusd-py`` (nor helper process) running: the
``reaper`` fixture kills every pid the test registered or left recorded in a
``secantus.json`` under its ``tmp_path`` (server and watchdog).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

import live_trading.store.embedded as embedded
from live_trading.store.embedded import EmbeddedServer, EmbeddedServerError
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.timeout(120)


# --- helpers ---------------------------------------------------------------


def _state(pid: int) -> str | None:
    """The process state letter (``R``, ``S``, ``Z``...), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return None


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (dead, awaiting its parent)."""
    return _state(pid) not in (None, "Z")


def _wait_not_running(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.05)
    return not _running(pid)


def _record(data_dir: Path) -> dict:
    return json.loads((data_dir / "secantus.json").read_text())


def _client(url: str) -> MongoClient:
    return MongoClient(url, serverSelectionTimeoutMS=5000)


def _answers(url: str) -> bool:
    client = MongoClient(url, serverSelectionTimeoutMS=2000)
    try:
        return client.admin.command("ping").get("ok") == 1
    except Exception:  # noqa: BLE001 - any failure means "does not answer"
        return False
    finally:
        client.close()


def _dead_pid() -> int:
    """A pid that no longer exists (a reaped child of ours)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert _state(proc.pid) is None
    return proc.pid


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    except PermissionError:  # not ours: leave it
        return
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:  # reap it if it is our child
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


@pytest.fixture
def reaper(tmp_path: Path) -> Iterator[list[int]]:
    """Pids to kill at teardown, plus every server pid recorded under tmp_path."""
    pids: list[int] = []
    yield pids
    for record_file in tmp_path.rglob("secantus.json"):
        try:
            record = json.loads(record_file.read_text())
            pids += [
                int(record["pid"]),
                *([record["watchdog_pid"]] if record.get("watchdog_pid") else []),
            ]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    for pid in dict.fromkeys(pids):
        if pid != os.getpid():
            _kill_and_reap(pid)
    leftovers = [pid for pid in dict.fromkeys(pids) if _running(pid)]
    assert not leftovers, f"processes left running: {leftovers}"


# --- tests -----------------------------------------------------------------


def test_start_stop_restart_keeps_data(tmp_path: Path, reaper: list[int]) -> None:
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir)
    url = server.start()
    record = _record(data_dir)
    pid = record["pid"]
    reaper.append(pid)
    assert record["owner_pid"] == os.getpid()
    assert url == f"mongodb://127.0.0.1:{record['port']}/?directConnection=true"
    assert server.url == url
    watchdog = record["watchdog_pid"]
    reaper.append(watchdog)
    assert _running(watchdog)

    with _client(url) as client:
        assert client.admin.command("ping")["ok"] == 1
        client.lt_test.docs.insert_one({"_id": "persisted", "value": 42})

    server.stop()
    # The server process has exited (see test_stop_reaps_the_server_it_spawned
    # for the stricter "reaped" check), so has its watchdog, and the record is gone.
    assert _wait_not_running(pid)
    assert _state(watchdog) is None, "the watchdog is stopped and reaped"
    assert not (data_dir / "secantus.json").exists()
    assert not _answers(url)
    with pytest.raises(EmbeddedServerError):
        _ = server.url

    again = EmbeddedServer(data_dir)
    url2 = again.start()
    pid2 = _record(data_dir)["pid"]
    reaper.append(pid2)
    assert pid2 != pid
    # The first server has been reaped by now at the latest (by CPython's
    # subprocess cleanup when start() spawned the new one).
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with _client(url2) as client:
        assert client.lt_test.docs.find_one({"_id": "persisted"}) == {
            "_id": "persisted",
            "value": 42,
        }
    again.stop()
    assert _wait_not_running(pid2)
    assert not (data_dir / "secantus.json").exists()


def test_stop_reaps_the_server_it_spawned(tmp_path: Path, reaper: list[int]) -> None:
    server = EmbeddedServer(tmp_path / "data", sync_on_commit=False)
    server.start()
    pid = _record(tmp_path / "data")["pid"]
    reaper.append(pid)
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


_OWNER_SCRIPT = """
import sys, time
from live_trading.store.embedded import EmbeddedServer
server = EmbeddedServer(sys.argv[1], sync_on_commit=False, orphan_grace_s=float(sys.argv[2]))
print(server.start(), flush=True)
time.sleep(300)
"""


def _start_owner(
    data_dir: Path, log_path: Path, grace_s: float = 60.0
) -> tuple[subprocess.Popen, str]:
    """Another process that starts the embedded server and keeps owning it;
    the server's watchdog stops it ``grace_s`` after that process dies."""
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", _OWNER_SCRIPT, str(data_dir), str(grace_s)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().strip() if ready else ""
    if not line.startswith("mongodb://"):
        proc.kill()
        proc.wait()
        pytest.fail(f"owner process did not start the server:\n{log_path.read_text()}")
    return proc, line


def test_borrow_then_adopt_after_owner_dies(tmp_path: Path, reaper: list[int]) -> None:
    data_dir = tmp_path / "data"
    owner, owner_url = _start_owner(data_dir, tmp_path / "owner.log")
    reaper.append(owner.pid)
    record = _record(data_dir)
    server_pid = record["pid"]
    reaper.append(server_pid)
    assert record["owner_pid"] == owner.pid

    # Borrow: the owner is alive, so this process uses the server, leaves it be.
    borrower = EmbeddedServer(data_dir)
    assert borrower.start() == owner_url
    assert _record(data_dir) == record
    borrower.stop()
    assert _running(server_pid)
    assert _answers(owner_url)
    assert _record(data_dir) == record

    # Adopt: the owner died (kill -9), so the next start takes the server over.
    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=10)
    assert _running(server_pid), "the server must outlive its owner"
    adopter = EmbeddedServer(data_dir)
    assert adopter.start() == owner_url
    adopted = _record(data_dir)
    assert adopted == {
        "pid": server_pid,
        "port": record["port"],
        "owner_pid": os.getpid(),
        "watchdog_pid": record["watchdog_pid"],
    }  # the watchdog follows
    assert _answers(owner_url)

    adopter.stop()
    # Not our child: whoever it was reparented to reaps it; it must not run.
    assert _wait_not_running(server_pid)
    assert _wait_not_running(record["watchdog_pid"])
    assert not (data_dir / "secantus.json").exists()
    assert not _answers(owner_url)


def _wait_for_log(path: Path, text: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} not in {path}:\n{path.read_text()}"
        time.sleep(0.1)


def test_server_stops_itself_when_its_owner_is_killed(tmp_path: Path, reaper: list[int]) -> None:
    """An owner killed with SIGKILL cannot stop its server: the watchdog does,
    once the grace period has passed with nobody adopting it."""
    data_dir = tmp_path / "data"
    owner, url = _start_owner(data_dir, tmp_path / "owner.log", grace_s=1.0)
    record = _record(data_dir)
    reaper += [owner.pid, record["pid"], record["watchdog_pid"]]
    assert _running(record["watchdog_pid"])

    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=10)
    # generous deadline (a loaded machine); the grace itself is 1 s
    assert _wait_not_running(record["pid"], timeout_s=60), "the orphaned server still runs"
    assert _wait_not_running(record["watchdog_pid"], timeout_s=30)
    assert not (data_dir / "secantus.json").exists()
    assert not _answers(url)
    log = (data_dir / "secantus.log").read_text()
    assert f"owner pid {owner.pid} is gone" in log
    assert "has had no owner for 1 s: stopping it" in log

    # the next start finds no record and starts a fresh server on the same data
    server = EmbeddedServer(data_dir, sync_on_commit=False)
    server.start()
    reaper += [_record(data_dir)["pid"], _record(data_dir)["watchdog_pid"]]
    assert _record(data_dir)["pid"] != record["pid"]
    server.stop()


def test_adoption_within_the_grace_keeps_the_server(tmp_path: Path, reaper: list[int]) -> None:
    """A start within the grace period adopts the server; its watchdog then
    watches the adopter and leaves the server running past the grace."""
    grace_s = 10.0
    data_dir = tmp_path / "data"
    owner, url = _start_owner(data_dir, tmp_path / "owner.log", grace_s=grace_s)
    record = _record(data_dir)
    reaper += [owner.pid, record["pid"], record["watchdog_pid"]]

    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=10)
    killed_at = time.monotonic()
    adopter = EmbeddedServer(data_dir, sync_on_commit=False)
    assert adopter.start() == url
    assert time.monotonic() - killed_at < grace_s, "adopted too late for this test to mean much"
    assert _record(data_dir)["pid"] == record["pid"]
    _wait_for_log(data_dir / "secantus.log", f"watching owner pid {os.getpid()}")

    time.sleep(max(0.0, killed_at + grace_s + 2 - time.monotonic()))  # past the grace
    assert _running(record["pid"]) and _answers(url)
    assert _running(record["watchdog_pid"])
    assert (
        "stopping it"
        not in (data_dir / "secantus.log").read_text().split(f"watching owner pid {os.getpid()}")[1]
    )

    adopter.stop()
    assert _wait_not_running(record["pid"])
    assert _wait_not_running(record["watchdog_pid"])


def test_stale_record_is_replaced(tmp_path: Path, reaper: list[int]) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    stale_pid, stale_port = _dead_pid(), free_port()
    (data_dir / "secantus.json").write_text(
        json.dumps({"pid": stale_pid, "port": stale_port, "owner_pid": _dead_pid()})
    )

    server = EmbeddedServer(data_dir, sync_on_commit=False)
    url = server.start()
    record = _record(data_dir)
    reaper.append(record["pid"])
    assert record["pid"] != stale_pid
    assert record["owner_pid"] == os.getpid()
    assert url == f"mongodb://127.0.0.1:{record['port']}/?directConnection=true"
    assert _running(record["pid"])
    assert _answers(url)

    server.stop()
    assert _wait_not_running(record["pid"])


def test_recorded_pid_of_another_program_is_left_alone_and_replaced(
    tmp_path: Path, reaper: list[int]
) -> None:
    """A recorded pid may have been reused by an unrelated process: it is not
    ours to kill. A new server is started and recorded instead."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    impostor = subprocess.Popen(["sleep", "60"])
    reaper.append(impostor.pid)
    impostor_port = free_port()  # nothing listens there
    (data_dir / "secantus.json").write_text(
        json.dumps({"pid": impostor.pid, "port": impostor_port, "owner_pid": os.getpid()})
    )

    server = EmbeddedServer(data_dir, sync_on_commit=False)
    url = server.start()
    assert impostor.poll() is None, "an unrelated process must not be killed"

    record = _record(data_dir)
    reaper.append(record["pid"])
    assert record["pid"] != impostor.pid
    assert record["owner_pid"] == os.getpid()
    assert _answers(url)

    server.stop()
    assert _wait_not_running(record["pid"])


def test_missing_program_names_the_fixes(
    tmp_path: Path, reaper: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    monkeypatch.setattr(embedded.sys, "executable", str(fake_bin / "python"))
    monkeypatch.setattr(embedded.shutil, "which", lambda *_args, **_kwargs: None)

    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir)
    with pytest.raises(EmbeddedServerError) as excinfo:
        server.start()
    message = str(excinfo.value)
    assert "secantusd-py" in message
    assert "pip install" in message
    assert "MONGODB_URL" in message
    assert not (data_dir / "secantus.json").exists()
    with pytest.raises(EmbeddedServerError):
        _ = server.url
