"""The embedded server's watchdog, one look at a time (``Watchdog.check``).

Real processes stand in for the owner and the server (``sleep``); the clock
is the test's, so the grace period passes without waiting. The full story,
with a real SecantusDB server and an owner killed with SIGKILL, is in
``tests/integration/test_embedded_server.py``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import live_trading.store.watchdog as watchdog
from live_trading.store.watchdog import Watchdog, pid_alive, process_start


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(watchdog.time, "monotonic", fake)
    return fake


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen]]:
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def sleeper(procs: list[subprocess.Popen]) -> subprocess.Popen:
    proc = subprocess.Popen(["sleep", "300"])
    procs.append(proc)
    return proc


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def write_record(data_dir: Path, server: int, owner: int) -> None:
    (data_dir / "secantus.json").write_text(
        json.dumps({"pid": server, "port": 1, "owner_pid": owner})
    )


def test_a_live_owner_keeps_the_server(tmp_path: Path, clock: Clock, sleepers) -> None:
    server, owner = sleeper(sleepers), sleeper(sleepers)
    write_record(tmp_path, server.pid, owner.pid)
    dog = Watchdog(tmp_path, server.pid, grace_s=5)
    for _ in range(3):
        assert dog.check()
        clock.now += 100
    assert (tmp_path / "secantus.json").exists()


def test_an_orphan_is_stopped_after_the_grace_unless_not_a_server(
    tmp_path: Path, clock: Clock, sleepers
) -> None:
    """After the grace the record goes; the pid is killed only when it runs
    secantusd-py (here it is a `sleep`: a reused pid is never killed)."""
    server = sleeper(sleepers)
    write_record(tmp_path, server.pid, dead_pid())
    dog = Watchdog(tmp_path, server.pid, grace_s=5)
    assert dog.check()  # the owner is gone: the grace starts
    clock.now += 4.9
    assert dog.check()
    clock.now += 0.2
    assert not dog.check()  # stopped watching: the server had no owner for 5 s
    assert not (tmp_path / "secantus.json").exists()
    assert pid_alive(server.pid), "a process that is not secantusd-py is never killed"


def test_the_watchdog_follows_an_adopter(tmp_path: Path, clock: Clock, sleepers) -> None:
    server, adopter = sleeper(sleepers), sleeper(sleepers)
    write_record(tmp_path, server.pid, dead_pid())
    dog = Watchdog(tmp_path, server.pid, grace_s=5)
    assert dog.check()
    clock.now += 4
    write_record(tmp_path, server.pid, adopter.pid)  # a start adopted the server
    assert dog.check()
    clock.now += 100
    assert dog.check() and (tmp_path / "secantus.json").exists()

    adopter.kill()
    adopter.wait()
    assert dog.check()  # the adopter is gone now: a new grace starts
    clock.now += 5
    assert not dog.check()
    assert not (tmp_path / "secantus.json").exists()


def test_a_replaced_or_stopped_server_ends_the_watch(
    tmp_path: Path, clock: Clock, sleepers
) -> None:
    server, other, owner = sleeper(sleepers), sleeper(sleepers), sleeper(sleepers)
    write_record(tmp_path, other.pid, owner.pid)  # the record names another server
    assert not Watchdog(tmp_path, server.pid, grace_s=5).check()
    (tmp_path / "secantus.json").unlink()  # stopped cleanly: no record
    assert not Watchdog(tmp_path, server.pid, grace_s=5).check()
    assert pid_alive(server.pid) and pid_alive(other.pid)


def test_a_reused_owner_pid_counts_as_gone(
    tmp_path: Path, clock: Clock, sleepers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner's pid alive again but started at another time: another process."""
    server, owner = sleeper(sleepers), sleeper(sleepers)
    write_record(tmp_path, server.pid, owner.pid)
    dog = Watchdog(tmp_path, server.pid, grace_s=5)
    assert dog.check()
    started = process_start(owner.pid)
    assert started is not None
    monkeypatch.setattr(
        watchdog,
        "process_start",
        lambda pid: started + 1 if pid == owner.pid else process_start(pid),
    )
    assert dog.check()  # the grace starts
    clock.now += 5
    assert not dog.check()


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert watchdog.main(["dir", "not-a-pid", "60"]) == 2
    assert "usage" in capsys.readouterr().err
