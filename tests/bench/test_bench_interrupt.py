"""A benchmark stopped early (SIGTERM, SIGINT) leaves no server running.

``bench/peers.py`` keeps the durable engine's embedded SecantusDB server open
across its runs; it is signalled while that server runs, and must have
stopped it (and its watchdog) by the time it exits. The orphan grace period
is set to an hour, so the watchdog cannot be what stopped it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from live_trading.store.embedded import answers
from live_trading.store.watchdog import pid_alive

ROOT = Path(__file__).resolve().parents[2]


def _wait_for_record(under: Path, proc: subprocess.Popen, timeout_s: float = 120) -> dict:
    """The record of the embedded server the harness started, once it answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the harness exited before its server started"
        for path in under.rglob("secantus.json"):
            record = json.loads(path.read_text())
            if record.get("watchdog_pid") and answers(
                f"mongodb://127.0.0.1:{record['port']}/?directConnection=true"
            ):
                return {**record, "path": path}
        time.sleep(0.2)
    raise AssertionError("the harness started no embedded server")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_peers_run_stops_its_server(tmp_path: Path, signum: int) -> None:
    env = {
        **os.environ,
        "TMPDIR": str(tmp_path),
        "EMBEDDED_ORPHAN_GRACE_SECONDS": "3600",
        "PYTHONPATH": str(ROOT),
    }
    with open(tmp_path / "peers.log", "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "bench/peers.py",
                "--engines",
                "live_trading durable",
                "--durable-repeat",
                "20",
                "--tiled-bars",
                "0",
                "--json",
                str(tmp_path / "p.json"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        record = _wait_for_record(tmp_path, proc)
        proc.send_signal(signum)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = (tmp_path / "peers.log").read_text(errors="replace")
    assert code == 130, output[-3000:]
    assert "interrupted" in output
    assert not pid_alive(record["pid"]), "the server outlived the harness"
    assert not pid_alive(record["watchdog_pid"]), "the watchdog outlived the harness"
    assert not record["path"].exists()
    assert not (tmp_path / "p.json").exists()
