"""``kill -9`` the server mid-replay, start it again: no gap, no drift.

Runs with the embedded store (no MONGODB_URL), as a user would: the restarted
server adopts the SecantusDB child left behind by the killed one.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path

from bson import ObjectId
from pymongo import MongoClient

from tests.conftest import BIN, ROOT, LiveServer
from tests.integration.test_replay_end_to_end import dump

KILLS = 2


def _db(data_dir: Path):
    record = json.loads((data_dir / "secantus.json").read_text())
    client = MongoClient(
        f"mongodb://127.0.0.1:{record['port']}/?directConnection=true", tz_aware=True
    )
    return client["trading_bot"]


def _assert_gapless(db) -> int:
    total = 0
    for op in db.journal.distinct("operation_id"):
        seqs = [
            e["sequence_number"]
            for e in db.journal.find({"operation_id": op}, {"sequence_number": 1}).sort(
                "sequence_number", 1
            )
        ]
        assert seqs == list(range(1, len(seqs) + 1))
        total += len(seqs)
    return total


def _assert_rebuild_equal(db, env: dict[str, str]) -> None:
    before = dump(db)
    result = subprocess.run(
        [str(BIN / "live-trading"), "projections", "rebuild"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert dump(db) == before


def test_kill_dash_nine_mid_replay_then_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = {"DATA_DIR": str(data_dir), "REPLAY_SPEED": "0", "MONGODB_URL": ""}
    rng = random.Random(20251111)
    server = LiveServer(env, tmp_path / "server.log").start("--demo")
    for _ in range(KILLS):
        time.sleep(rng.uniform(2.0, 5.0))
        assert server.proc is not None and server.proc.poll() is None
        server.kill()
        db = _db(data_dir)
        entries_at_kill = _assert_gapless(db)
        assert entries_at_kill > 1
        server = LiveServer(env, tmp_path / "server.log").start()
    health = server.wait_idle()
    db = _db(data_dir)
    [op_id] = db.journal.distinct("operation_id")
    assert 0 < health["engine"]["bars_processed"] < 5116, "the restart resumed mid-file"
    last_bar = db["market_data_1hour"].find_one({"operation_id": op_id}, sort=[("timestamp", -1)])
    assert last_bar["timestamp"].isoformat().startswith("2025-11-11")
    _assert_gapless(db)
    assert len(db.orders.distinct("client_order_id")) == db.orders.count_documents({})
    _assert_rebuild_equal(db, server.env)
    assert isinstance(op_id, ObjectId)
    server.stop()
