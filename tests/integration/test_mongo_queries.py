"""The mongosh queries of scripts/mongo/, proven on a real replay's data.

Three operations (two strategies on USD-CAD, one on EUR-USD) trade the first
150 real hours through the engine; every pipeline file is then loaded through
``live_trading.store.queries`` and run with PyMongo against the test server,
and its answer is compared with one recomputed here in Python from the raw
collections. The journal-gaps query runs on a copy of the journal damaged by
hand. The mongosh scripts themselves run under Node with a stand-in for the
shell's ``db``/``EJSON``/``load``: they must build exactly the pipelines the
loader builds, on the collections the files name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from bson import ObjectId, json_util
from pymongo import MongoClient

from live_trading.bootstrap import open_services
from live_trading.engine.specs import OperationCreate
from live_trading.store.queries import (
    PIPELINES_DIR,
    QueryParameterError,
    load_query,
    query_names,
)
from tests.conftest import SAMPLE_DATA, make_settings

BARS = 150  # leaves two positions open (USD-CAD and EUR-USD momentum)
SCRIPTS = PIPELINES_DIR.parent
OPERATIONS = [
    ("USD-CAD", "MomentumStrategy"),
    ("USD-CAD", "MeanReversionStrategy"),
    ("EUR-USD", "MomentumStrategy"),
]


def _replay_dir(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("USDCAD_1h.csv", "EURUSD_1h.csv"):
        lines = (SAMPLE_DATA / name).read_text().splitlines()[: BARS + 1]
        (target / name).write_text("\n".join(lines) + "\n")
    return target


@pytest.fixture(scope="module")
async def replay(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    """(pymongo db, {(asset, strategy): operation id}) after the replays ended."""
    replay_dir = _replay_dir(tmp_path_factory.mktemp("queries") / "replay")
    services = await open_services(make_settings(mongo_url, replay_data_dir=replay_dir))
    await services.start()
    ids = {}
    for asset, strategy in OPERATIONS:
        ids[asset, strategy] = await services.engine.create_operation(
            OperationCreate(asset=asset, bar_sizes=["1 hour"], strategy_name=strategy),
            source="test",
        )
    await services.engine.wait_idle()
    await services.close()
    with MongoClient(mongo_url, tz_aware=True) as client:
        yield client[services.settings.mongodb_db_name], ids


def run(db, name: str, **params) -> list[dict]:
    query = load_query(name)
    return list(db[query.collection].aggregate(query.pipeline(**params)))


def operations_by_id(db) -> dict[ObjectId, dict]:
    return {op["_id"]: op for op in db.trading_operations.find({})}


def test_every_query_has_a_script_and_declares_its_placeholders() -> None:
    names = query_names()
    assert names == [
        "journal_gaps",
        "open_positions",
        "operation_journal",
        "pnl_by_asset_strategy",
        "trades_of_day",
    ]
    for name in names:
        query = load_query(name)
        used = set(re.findall(r"\{\{(\w+)\}\}", json.dumps(query.template)))
        assert used == set(query.parameters), name
        script = (SCRIPTS / f"{name}.js").read_text()
        assert f'ltRun("{name}")' in script and 'load(__dirname + "/lib.js")' in script


def test_open_positions(replay) -> None:
    db, _ = replay
    operations = operations_by_id(db)
    expected = sorted(db.positions.find({"status": "OPEN"}), key=lambda p: p["opened_at"])
    assert expected, "the replays must leave a position open"
    rows = run(db, "open_positions")
    assert [r["position_id"] for r in rows] == [p["_id"] for p in expected]
    for row, position in zip(rows, expected, strict=True):
        operation = operations[position["operation_id"]]
        assert (row["asset"], row["strategy_name"]) == (
            operation["asset"],
            operation["strategy_name"],
        )
        for field in (
            "position_type",
            "quantity",
            "entry_price",
            "stop_loss",
            "take_profit",
            "opened_at",
            "operation_id",
        ):
            assert row[field] == position[field], field


def test_an_operations_journal_in_sequence_order(replay) -> None:
    db, ids = replay
    op = ids["USD-CAD", "MomentumStrategy"]
    everything = list(db.journal.find({"operation_id": ObjectId(op)}))
    assert len(everything) > 20
    by_sequence = {e["sequence_number"]: e for e in everything}
    rows = run(db, "operation_journal", operation_id=op, after_sequence=5, limit=7)
    assert [r["sequence_number"] for r in rows] == list(range(6, 13))
    for row in rows:
        entry = by_sequence[row["sequence_number"]]
        assert (row["action_type"], row["event_id"], row["source"]) == (
            entry["action_type"],
            entry["event_id"],
            entry["source"],
        )
    first_page = run(db, "operation_journal", operation_id=op)
    assert [r["sequence_number"] for r in first_page] == sorted(by_sequence)[:100]
    assert run(db, "operation_journal", operation_id=str(ObjectId())) == []


def test_pnl_by_asset_and_strategy(replay) -> None:
    db, _ = replay
    operations = operations_by_id(db)
    expected: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    for trade in db.trades.find({}):
        op = operations[trade["operation_id"]]
        sign = 1 if trade["position_type"] == "LONG" else -1
        gross = sign * (trade["exit_price"] - trade["entry_price"]) * trade["quantity"]
        group = expected[op["asset"], op["strategy_name"]]
        group["trades"] += 1
        group["wins"] += gross - trade["total_commission"] > 0
        group["gross_pnl"] += gross
        group["commission"] += trade["total_commission"]
        group["pnl"] += gross - trade["total_commission"]
    rows = run(db, "pnl_by_asset_strategy")
    assert [(r["asset"], r["strategy_name"]) for r in rows] == sorted(expected)
    assert len(rows) == 3, "every operation traded"
    for row in rows:
        want = expected[row["asset"], row["strategy_name"]]
        assert row["operations"] == 1
        assert row["trades"] == want["trades"] and row["wins"] == want["wins"]
        assert row["win_rate"] == pytest.approx(want["wins"] / want["trades"])
        for field in ("gross_pnl", "commission", "pnl"):
            assert row[field] == pytest.approx(want[field], abs=1e-9), field


def test_trades_of_a_day(replay) -> None:
    db, _ = replay
    by_day: dict[str, list[dict]] = defaultdict(list)
    for trade in db.trades.find({}):
        by_day[trade["exit_time"].date().isoformat()].append(trade)
    busiest = max(by_day, key=lambda day: len(by_day[day]))
    assert len(by_day) > 2 and len(by_day[busiest]) >= 2
    for day, trades in by_day.items():
        rows = run(db, "trades_of_day", day=day)
        expected = sorted(trades, key=lambda t: (t["exit_time"], t["_id"]))
        assert [r["trade_id"] for r in rows] == [t["_id"] for t in expected], day
        assert sum(r["pnl"] for r in rows) == pytest.approx(sum(t["pnl"] for t in trades))
    assert run(db, "trades_of_day", day="2020-02-29") == []


def test_journal_gaps_on_a_damaged_copy(replay, mongo_url) -> None:
    db, ids = replay
    assert run(db, "journal_gaps") == [], "a real journal has no gaps"
    damaged = db.client[f"{db.name}_damaged"]
    damaged.journal.insert_many(list(db.journal.find({})))
    first, second = (
        ObjectId(ids["USD-CAD", "MomentumStrategy"]),
        ObjectId(ids["EUR-USD", "MomentumStrategy"]),
    )
    damaged.journal.delete_many(
        {"operation_id": first, "sequence_number": {"$in": [3, 10, 11, 12]}}
    )
    damaged.journal.delete_many({"operation_id": second, "sequence_number": 2})
    expected = {}
    for op in (first, second):
        seqs = {e["sequence_number"] for e in damaged.journal.find({"operation_id": op})}
        expected[op] = (
            len(seqs),
            min(seqs),
            max(seqs),
            sorted(set(range(min(seqs), max(seqs) + 1)) - seqs),
        )
    rows = run(damaged, "journal_gaps")
    assert [r["operation_id"] for r in rows] == sorted(expected)
    for row in rows:
        entries, low, high, missing = expected[row["operation_id"]]
        assert (row["entries"], row["first"], row["last"]) == (entries, low, high)
        assert row["expected"] == high - low + 1
        assert row["missing"] == missing and row["missing_count"] == len(missing)
    assert expected[first][3] == [3, 10, 11, 12] and expected[second][3] == [2]
    db.client.drop_database(damaged.name)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("operation_journal", {}, "operation_id"),
        ("operation_journal", {"operation_id": "not-an-id"}, "operation_id"),
        ("operation_journal", {"operation_id": "a" * 24, "limit": "ten"}, "limit"),
        ("trades_of_day", {"day": "2024-02-30"}, "day"),
        ("trades_of_day", {"day": "05/01/2024"}, "day"),
        ("open_positions", {"asset": "USD-CAD"}, "asset"),
    ],
)
def test_bad_parameters_are_refused_by_name(name, params, field) -> None:
    with pytest.raises(QueryParameterError) as error:
        load_query(name).pipeline(**params)
    assert error.value.field == field


NODE_SHELL = r"""
// A stand-in for mongosh: records what the script aggregates, on which database.
const vm = require("vm"), fs = require("fs"), path = require("path");
const calls = [];
function database(name) {
  return {
    getSiblingDB: (other) => database(other),
    getCollection: (collection) => ({
      aggregate: (pipeline) => {
        calls.push({database: name, collection, pipeline});
        return {forEach: () => {}, toArray: () => []};
      },
    }),
  };
}
const shell = {require, process, console, db: database("<url>"),
               EJSON: {deserialize: (value) => value, stringify: JSON.stringify},
               print: () => {}, printjson: () => {}};
shell.load = (file) => {
  const full = path.resolve(file), saved = [shell.__dirname, shell.__filename];
  shell.__dirname = path.dirname(full);
  shell.__filename = full;
  vm.runInContext(fs.readFileSync(full, "utf8"), shell, {filename: full});
  [shell.__dirname, shell.__filename] = saved;
};
vm.createContext(shell);
shell.load(process.argv[2]);
process.stdout.write(JSON.stringify(calls));
"""

SCRIPT_CASES = [
    ("open_positions", {}),
    (
        "operation_journal",
        {"operation_id": "65a1b2c3d4e5f60718293a4b", "after_sequence": "5", "limit": "7"},
    ),
    ("operation_journal", {"operation_id": "65a1b2c3d4e5f60718293a4b"}),
    ("pnl_by_asset_strategy", {}),
    ("trades_of_day", {"day": "2025-01-20"}),
    ("journal_gaps", {}),
]


def _run_script(tmp_path: Path, name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    shell = tmp_path / "shell.js"
    shell.write_text(NODE_SHELL)
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPERATION_ID", "AFTER_SEQUENCE", "LIMIT", "DAY", "MONGODB_DB_NAME")
    }
    return subprocess.run(
        ["node", str(shell), str(SCRIPTS / f"{name}.js")],
        check=False,
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run the scripts")
@pytest.mark.parametrize(("name", "params"), SCRIPT_CASES)
def test_each_mongosh_script_builds_the_tested_pipeline(tmp_path, name, params) -> None:
    env = {key.upper(): value for key, value in params.items()}
    result = _run_script(tmp_path, name, {**env, "MONGODB_DB_NAME": "trading_bot"})
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    query = load_query(name)
    assert len(calls) == 1
    assert (calls[0]["database"], calls[0]["collection"]) == ("trading_bot", query.collection)
    built = json_util.loads(
        json.dumps(calls[0]["pipeline"]), json_options=json_util.JSONOptions(tz_aware=True)
    )
    assert built == query.pipeline(**params)


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run the scripts")
@pytest.mark.parametrize(
    ("name", "env", "field"),
    [
        ("operation_journal", {}, "operation_id"),
        ("operation_journal", {"OPERATION_ID": "xyz"}, "operation_id"),
        ("trades_of_day", {"DAY": "2024-02-30"}, "day"),
    ],
)
def test_a_mongosh_script_refuses_a_bad_parameter_by_name(tmp_path, name, env, field) -> None:
    result = _run_script(tmp_path, name, env)
    assert result.returncode != 0
    assert f"Error: {field}:" in result.stderr
    assert result.stdout == ""
