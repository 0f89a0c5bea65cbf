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
    return subprocess.run(
        [str(BIN / "live-trading"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


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
        source="test",
    )
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


def piped(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """``cli`` with stdout a pipe (as in ``| less``, ``> file``) and no COLUMNS."""
    clean = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [str(BIN / "live-trading"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
    )


def test_piped_tables_keep_every_column_whole(traded) -> None:
    """Piped, the tables are not squeezed to 80 columns (`ass…`, `sta…`)."""
    env, op, _ = traded
    plan = piped(env, "recover", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "…" not in plan.stdout
    header = next(line for line in plan.stdout.splitlines() if "asset" in line)
    for column in (
        "asset",
        "status",
        "mode",
        "in flight",
        "fills to adopt",
        "orders adopt/cancel",
        "positions",
        "operation",
    ):
        assert f" {column} " in header, header
    [row] = [line for line in plan.stdout.splitlines() if op in line]
    assert "USD-CAD" in row

    entries = [json.loads(line) for line in cli(env, "journal", op, "--json").stdout.splitlines()]
    table = piped(env, "journal", op)
    assert table.returncode == 0, table.stderr
    assert "…" not in table.stdout
    rows = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == len(entries)  # one line per entry, none wrapped
    assert [row.split("│")[4].strip() for row in rows] == [e["action_type"] for e in entries]
    assert max(len(line) for line in rows) > 80


def _dump(client, db_name: str) -> dict[str, list]:
    db = client[db_name]
    return {
        name: sorted(repr(d) for d in db[name].find())
        for name in sorted(db.list_collection_names())
    }


def test_recover_dry_run_writes_nothing_anywhere(traded, mongo_url) -> None:
    """`recover --dry-run` is read-only: no database the server uses changes
    (journal, read models, recovery reports, the paper broker's book)."""
    from pymongo import MongoClient

    env, _, _ = traded
    names = (env["MONGODB_DB_NAME"], f"{env['MONGODB_DB_NAME']}_paper_broker")
    with MongoClient(mongo_url) as client:
        before = {name: _dump(client, name) for name in names}
        assert before[names[1]], "the paper broker's book is where the test expects it"
        result = cli(env, "recover", "--dry-run")
        assert result.returncode == 0, result.stderr
        assert {name: _dump(client, name) for name in names} == before
