"""The ``live-trading`` CLI against a real store: recover, journal, rebuild."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from bson import ObjectId

from live_trading.bootstrap import open_services
from live_trading.engine.specs import OperationCreate
from tests.conftest import BIN, ROOT, SAMPLE_DATA, make_settings


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "live-trading"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


@pytest.fixture(scope="module")
async def traded(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("replay")
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[:121]
    (data / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    settings = make_settings(mongo_url, replay_data_dir=data)
    services = await open_services(settings)
    await services.start()
    op = await services.engine.create_operation(
        OperationCreate(asset="USD-CAD", bar_sizes=["1 hour"], strategy_name="MomentumStrategy"),
        source="test")
    await services.engine.wait_idle()
    state = await services.journal.state(op)
    await services.engine.stop()
    await services.store.client.close()
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB_NAME": settings.mongodb_db_name}
    return env, op, state


def test_recover_json_reports_each_operation(traded) -> None:
    env, op, state = traded
    result = cli(env, "recover", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is False
    [found] = report["operations"]
    assert found["operation_id"] == op
    assert found["last_sequence"] == state.last_sequence
    assert found["journal_position"] == found["broker_position"] == state.position.doc["quantity"]
    [position] = found["positions"]
    assert position["side"] == "SHORT" and position["action"] == "close"  # CLOSE_ALL


def test_recover_dry_run_prints_a_table_and_changes_nothing(traded) -> None:
    env, op, _ = traded
    before = cli(env, "journal", op, "--json").stdout
    result = cli(env, "recover", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert op in result.stdout and "dry run" in result.stdout
    assert cli(env, "journal", op, "--json").stdout == before


def test_journal_prints_entries_in_order(traded) -> None:
    env, op, state = traded
    result = cli(env, "journal", op, "--json")
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["sequence_number"] for e in entries] == list(range(1, len(entries) + 1))
    assert len(entries) >= state.last_sequence  # recover (another test) may have appended
    after = cli(env, "journal", op, "--json", "--after", "5", "--limit", "2")
    assert [json.loads(x)["sequence_number"] for x in after.stdout.splitlines()] == [6, 7]


def test_journal_bad_input_exits_non_zero(traded) -> None:
    env, _, _ = traded
    bad = cli(env, "journal", "nope")
    assert bad.returncode == 2 and "not an operation id" in bad.stderr
    unknown = cli(env, "journal", str(ObjectId()))
    assert unknown.returncode == 1 and "no journal entries" in unknown.stderr


def test_projections_rebuild_prints_counts(traded) -> None:
    env, _, _ = traded
    result = cli(env, "projections", "rebuild")
    assert result.returncode == 0, result.stderr
    assert "trades: 2" in result.stdout and "trading_operations: 1" in result.stdout


def test_journal_verify_passes_then_catches_tampering(traded, mongo_url) -> None:
    from pymongo import MongoClient

    env, op, _ = traded
    ok = cli(env, "journal", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "0 with problems" in ok.stdout
    db = MongoClient(mongo_url)[env["MONGODB_DB_NAME"]]
    trade = db.trades.find_one({"operation_id": ObjectId(op)})
    db.trades.update_one({"_id": trade["_id"]}, {"$set": {"pnl": trade["pnl"] + 0.01}})
    bad = cli(env, "journal", "verify")
    assert bad.returncode == 1 and "differs from the journal's projection (pnl)" in bad.stderr
    db.trades.update_one({"_id": trade["_id"]}, {"$set": {"pnl": trade["pnl"]}})
    entry = db.journal.find_one({"operation_id": ObjectId(op), "sequence_number": 3})
    db.journal.delete_one({"_id": entry["_id"]})
    gap = cli(env, "journal", "verify")
    assert gap.returncode == 1 and "missing sequence numbers [3]" in gap.stderr
    db.journal.insert_one(entry)
    assert cli(env, "journal", "verify").returncode == 0
