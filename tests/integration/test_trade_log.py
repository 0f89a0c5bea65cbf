"""The trade log of a real replay: files, ``GET /api/v1/trade-log``, rebuild.

A ``live-trading run`` subprocess in trading mode replays the first 390
hourly USD-CAD bars with the demo operation through the paper broker; the
files it writes are checked against the read models and the journal (read
straight from the store), the API against the ``trades`` collection, and a
``live-trading trade-log rebuild`` must write the very same bytes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from live_trading.bootstrap import open_services
from live_trading.domain.values import Asset, BarSize
from tests.conftest import BIN, ROOT, SAMPLE_DATA, LiveServer, make_settings, unique_db

DIRECTORY = "trades_USDCAD_1h"
ROWS = 390  # ends with a LONG position open (entered 2025-02-06 03:00)
REASONS = {"STOP_LOSS": "stop", "TAKE_PROFIT": "take_profit"}


def iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def replay(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    """(server, db, operation id, trade log directory) after the replay."""
    base = tmp_path_factory.mktemp("trade-log")
    data = base / "replay"
    data.mkdir()
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[: ROWS + 1]
    (data / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    db_name = unique_db()
    server = LiveServer(
        {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB_NAME": db_name,
            "REPLAY_SPEED": "0",
            "REPLAY_DATA_DIR": str(data),
            "MODE": "trading",
            "TRADE_LOG_DIR": str(base / "logs"),
        },
        base / "server.log",
    )
    server.start("--demo")
    server.wait_idle()
    db = MongoClient(mongo_url, tz_aware=True)[db_name]
    [operation] = list(db.trading_operations.find({}))
    yield server, db, str(operation["_id"]), base / "logs" / DIRECTORY
    server.stop()


def sample_bars() -> dict[datetime, dict[str, float]]:
    """The first ROWS rows of the sample file, read with the csv module."""
    with open(SAMPLE_DATA / "USDCAD_1h.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[:ROWS]
    return {
        datetime.fromisoformat(r["time"]): {
            k: float(r[k]) for k in ("open", "high", "low", "close")
        }
        for r in rows
    }


def index(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "index.jsonl").read_text().splitlines()]


def test_every_closed_trade_is_one_entry_and_one_exit(replay) -> None:
    _, db, op_id, directory = replay
    lines = index(directory)
    trades = list(db.trades.find({"operation_id": ObjectId(op_id)}))
    assert len(trades) >= 3
    assert sum(1 for line in lines if line["type"] == "exit") == len(trades)
    for trade in trades:
        trade_id = str(trade["position_id"])
        [entry] = [x for x in lines if x["tradeId"] == trade_id and x["type"] == "entry"]
        [exit_] = [x for x in lines if x["tradeId"] == trade_id and x["type"] == "exit"]
        assert entry["operationId"] == exit_["operationId"] == op_id
        assert entry["side"] == exit_["side"] == trade["position_type"]
        assert entry["price"] == trade["entry_price"] and entry["quantity"] == trade["quantity"]
        assert entry["time"] == iso(trade["entry_time"])
        assert exit_["closePrice"] == trade["exit_price"]
        assert exit_["time"] == iso(trade["exit_time"])
        assert exit_["pnl"] == pytest.approx(trade["pnl"], abs=1e-9)
        direction = 1 if trade["position_type"] == "LONG" else -1
        points = (trade["exit_price"] - trade["entry_price"]) * direction
        assert exit_["points"] == pytest.approx(points, abs=1e-12)
        order = db.orders.find_one(
            {"_id": db.transactions.find_one({"_id": trade["exit_transaction_id"]})["order_id"]}
        )
        expected = REASONS.get(order["order_role"]) or (
            "signal" if (order.get("reason") or "").startswith("signal") else "manual"
        )
        assert exit_["closeReason"] == expected
    assert [x["time"] for x in lines] == sorted(x["time"] for x in lines)


def test_levels_of_each_entry_are_those_of_its_bracket(replay) -> None:
    _, db, op_id, directory = replay
    for entry in (x for x in index(directory) if x["type"] == "entry"):
        assert entry["operationId"] == op_id
        position = db.positions.find_one({"_id": ObjectId(entry["tradeId"])})
        order = db.orders.find_one(
            {"_id": db.transactions.find_one({"_id": ObjectId(entry["tradeId"])})["order_id"]}
        )
        assert order["order_role"] == "ENTRY"
        assert entry["initialStopPrice"] == order["stop_loss"] == position["stop_loss"]
        assert entry["targetPrice"] == order["take_profit"] == position["take_profit"]


def test_open_positions_match_current_json(replay) -> None:
    _, db, op_id, directory = replay
    current = json.loads((directory / "current.json").read_text())["trades"]
    open_positions = list(db.positions.find({"operation_id": ObjectId(op_id), "status": "OPEN"}))
    assert len(open_positions) == 1
    assert [t["tradeId"] for t in current] == [str(p["_id"]) for p in open_positions]
    for trade, position in zip(current, open_positions, strict=True):
        assert trade["entryPrice"] == position["entry_price"]
        assert trade["quantity"] == abs(position["quantity"])
        assert trade["side"] == position["position_type"]
        assert trade["currentStopPrice"] == trade["initialStopPrice"] == position["stop_loss"]
        assert trade["targetPrice"] == position["take_profit"]
        assert trade["entryTime"] == iso(position["opened_at"])


def test_each_snapshot_holds_the_signal_bar_and_its_recent_bars(replay) -> None:
    _, db, op_id, directory = replay
    journal = list(db.journal.find({"operation_id": ObjectId(op_id)}).sort("sequence_number"))
    entries = [x for x in index(directory) if x["type"] == "entry"]
    assert entries
    csv_bars = sample_bars()
    csv_times = list(csv_bars)
    for entry in entries:
        order_id = db.transactions.find_one({"_id": ObjectId(entry["tradeId"])})["order_id"]
        submitted = next(e for e in journal if e["_id"] == order_id)
        signal = next(
            e
            for e in reversed(journal)
            if e["action_type"] == "SIGNAL_GENERATED"
            and e["sequence_number"] < submitted["sequence_number"]
        )
        data = signal["action_data"]
        assert entry["context"] == data["reason"]
        assert len(data["recent_bars"]) == 30 and data["recent_bars"][-1] == data["bar"]
        times = [b["time"] for b in data["recent_bars"]]
        at = csv_times.index(data["bar"]["time"])
        assert times == csv_times[at - 29 : at + 1]  # the 30 file rows up to the signal bar
        assert [b["close"] for b in data["recent_bars"]] == [csv_bars[t]["close"] for t in times]
        text = (directory / entry["snapshotFile"]).read_text()
        bar = data["bar"]
        assert (
            f"| {iso(bar['time'])} | {bar['open']:.10g} | {bar['high']:.10g} | "
            f"{bar['low']:.10g} | {bar['close']:.10g} |" in text
        )
        assert all(f"| {iso(t)} |" in text for t in times)
        assert data["reason"] in text and "MomentumStrategy" in text
    assert len(list(directory.glob("entry_*.md"))) == len(entries)


def test_api_agrees_with_the_trades_collection(replay) -> None:
    server, db, op_id, _ = replay
    with server.client() as http:
        body = http.get("/api/v1/trade-log", params={"symbol": "USD-CAD", "interval": "1h"}).json()
        same = http.get(
            "/api/v1/trade-log", params={"symbol": "usdcad", "interval": "1 hour"}
        ).json()
    assert body == same
    assert body["mode"] == "trading" and body["interval"] == "1h"
    closed = {str(t["position_id"]): t for t in db.trades.find({"operation_id": ObjectId(op_id)})}
    positions = db.positions.count_documents({"operation_id": ObjectId(op_id)})
    assert len(body["trades"]) == positions
    for trade in body["trades"]:
        doc = closed.get(trade["tradeId"])
        if doc is None:
            assert trade["closeDateTime"] is None and len(trade["markers"]) == 1
            continue
        assert trade["entryPrice"] == doc["entry_price"]
        assert trade["closePrice"] == doc["exit_price"]
        assert trade["pnl"] == pytest.approx(doc["pnl"], abs=1e-9)
        assert trade["closeDateTime"] == iso(doc["exit_time"])
        assert [m["time"] for m in trade["markers"]] == [
            int(doc["entry_time"].timestamp()),
            int(doc["exit_time"].timestamp()),
        ]
        [segment] = trade["stopSegments"]  # the engine never moves a stop
        assert segment == {
            "startTime": int(doc["entry_time"].timestamp()),
            "endTime": int(doc["exit_time"].timestamp()),
            "price": trade["initialStopPrice"],
        }
    assert sum(t["pnl"] for t in body["trades"] if t["pnl"] is not None) == pytest.approx(
        sum(t["pnl"] for t in closed.values()), abs=1e-6
    )


def test_api_since_and_bad_parameters(replay) -> None:
    server, _, _, _ = replay
    with server.client() as http:
        trades = http.get(
            "/api/v1/trade-log", params={"symbol": "USD-CAD", "interval": "60"}
        ).json()["trades"]
        third = trades[2]["entryDateTime"]
        later = http.get(
            "/api/v1/trade-log", params={"symbol": "USD-CAD", "interval": "1h", "since": third}
        ).json()["trades"]
        assert later == trades[2:]
        other = http.get("/api/v1/trade-log", params={"symbol": "EUR-USD", "interval": "1h"})
        assert other.status_code == 200 and other.json()["trades"] == []
        for params, field in (
            (("XX", "1h", None), "symbol"),
            (("USD-CAD", "2h", None), "interval"),
            (("USD-CAD", "1h", "2025-01-20T00:00:00"), "since"),
        ):
            query = dict(zip(("symbol", "interval", "since"), params, strict=False))
            answer = http.get(
                "/api/v1/trade-log", params={k: v for k, v in query.items() if v is not None}
            )
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"][0]["loc"][-1] == field
    anonymous = httpx.get(
        f"{server.url}/api/v1/trade-log", params={"symbol": "USD-CAD", "interval": "1h"}
    )
    assert anonymous.status_code == 401


async def test_simulation_mode_answers_the_same_from_the_journal(replay, mongo_url) -> None:
    server, db, _, _ = replay
    with server.client() as http:
        expected = http.get(
            "/api/v1/trade-log", params={"symbol": "USD-CAD", "interval": "1h"}
        ).json()
    settings = make_settings(mongo_url, mongodb_db_name=db.name, mode="simulation")
    services = await open_services(settings)
    try:
        answer = await services.trade_log.trades(Asset.parse("USD-CAD"), BarSize.HOUR_1)
    finally:
        await services.store.client.close()
    assert answer == {**expected, "mode": "simulation"}


def test_rebuild_writes_the_same_bytes(replay) -> None:
    server, _, _, directory = replay
    before = tree(directory.parent)
    assert len(before) >= 4
    (directory / "index.jsonl").write_text("")  # lose what was written
    result = subprocess.run(
        [str(BIN / "live-trading"), "trade-log", "rebuild"],
        cwd=ROOT,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert tree(directory.parent) == before


def test_rebuild_refuses_simulation_mode(replay) -> None:
    server, _, _, directory = replay
    before = tree(directory.parent)
    result = subprocess.run(
        [str(BIN / "live-trading"), "trade-log", "rebuild"],
        cwd=ROOT,
        env={**os.environ, **server.env, "MODE": "simulation"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and "MODE=simulation" in result.stderr
    assert tree(directory.parent) == before
