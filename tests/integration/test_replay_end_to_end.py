"""The whole product on the whole real USD-CAD hourly file, over real HTTP.

A ``live-trading run`` subprocess (real FastAPI over uvicorn, real SecantusDB
store) trades the demo operation through the paper broker; the journal and
the read models are then checked against independent recomputations.
"""

from __future__ import annotations

import csv
import math
import subprocess
from datetime import datetime

import pytest
from bson import ObjectId
from pymongo import MongoClient

from live_trading.domain.instruments import InstrumentSpec
from tests.conftest import BIN, ROOT, SAMPLE_DATA, LiveServer, unique_db

READ_MODELS = ["trading_operations", "orders", "transactions", "positions", "trades"]
HALF_SPREAD_BPS, COMMISSION_BPS = 0.5, 0.2  # config/config.yaml paper_broker
TICK = InstrumentSpec("USD-CAD", tick_size=0.00001)  # the paper broker's default


@pytest.fixture(scope="module")
def replay(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    """Run the demo operation over the full file; yield (server, db, op id)."""
    db_name = unique_db()
    log = tmp_path_factory.mktemp("logs") / "server.log"
    server = LiveServer(
        {"MONGODB_URL": mongo_url, "MONGODB_DB_NAME": db_name, "REPLAY_SPEED": "0"}, log
    ).start("--demo")
    health = server.wait_idle()
    with server.client() as http:
        operations = http.get("/api/operations").json()
    db = MongoClient(mongo_url, tz_aware=True)[db_name]
    yield server, db, operations[0]["id"], health
    server.stop()


def _bars_by_time() -> dict[datetime, dict[str, float]]:
    with open(SAMPLE_DATA / "USDCAD_1h.csv", newline="") as fh:
        return {
            datetime.fromisoformat(r["time"].replace("Z", "+00:00")): {
                k: float(r[k]) for k in ("open", "high", "low", "close")
            }
            for r in csv.DictReader(fh)
        }


def dump(db) -> dict[str, list[dict]]:
    return {name: list(db[name].find({}).sort("_id", 1)) for name in READ_MODELS}


def test_demo_trades_the_whole_file(replay) -> None:
    server, db, op_id, health = replay
    assert health["engine"]["bars_processed"] == 5116
    with server.client() as http:
        trades = http.get(f"/api/operations/{op_id}/trades", params={"limit": 10000}).json()
        operation = http.get(f"/api/operations/{op_id}").json()
    assert len(trades) > 50
    assert operation["trade_count"] == len(trades)
    assert db["market_data_1hour"].count_documents({"operation_id": ObjectId(op_id)}) == 1000


def test_journal_is_gapless_from_one(replay) -> None:
    _, db, op_id, _ = replay
    seqs = [
        e["sequence_number"]
        for e in db.journal.find({"operation_id": ObjectId(op_id)}, {"sequence_number": 1}).sort(
            "sequence_number", 1
        )
    ]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len({e["event_id"] for e in db.journal.find({}, {"event_id": 1})}) == len(seqs)


def test_every_exit_is_linked_to_its_entry(replay) -> None:
    _, db, op_id, _ = replay
    txns = {t["_id"]: t for t in db.transactions.find({"operation_id": ObjectId(op_id)})}
    exits = [t for t in txns.values() if t["transaction_role"] == "EXIT"]
    assert exits
    for exit_txn in exits:
        entry = txns[exit_txn["related_entry_transaction_id"]]
        assert entry["transaction_role"] == "ENTRY"
        assert entry["position_id"] == exit_txn["position_id"]
        assert entry["transaction_type"] != exit_txn["transaction_type"]
        assert entry["executed_at"] <= exit_txn["executed_at"]


def test_trade_pnl_equals_recomputation_from_fills(replay) -> None:
    server, db, op_id, _ = replay
    txns = {t["_id"]: t for t in db.transactions.find({"operation_id": ObjectId(op_id)})}
    trades = list(db.trades.find({"operation_id": ObjectId(op_id)}))
    for trade in trades:
        entry, exit_ = txns[trade["entry_transaction_id"]], txns[trade["exit_transaction_id"]]
        direction = 1 if trade["position_type"] == "LONG" else -1
        assert entry["transaction_type"] == ("BUY" if direction == 1 else "SELL")
        gross = (exit_["price"] - entry["price"]) * exit_["quantity"] * direction
        fees = entry["commission"] * exit_["quantity"] / entry["quantity"] + exit_["commission"]
        assert math.isclose(trade["pnl"], gross - fees, rel_tol=1e-12, abs_tol=1e-9)
    total = math.fsum(t["pnl"] for t in trades)
    with server.client() as http:
        operation = http.get(f"/api/operations/{op_id}").json()
        stats = http.get(f"/api/operations/{op_id}/stats").json()
    assert math.isclose(operation["total_pnl"], total, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(stats["total_pnl"], total, rel_tol=1e-9, abs_tol=1e-9)
    assert stats["trade_count"] == len(trades)


def test_fills_follow_the_paper_fill_model(replay) -> None:
    """Market orders fill at the next bar's open plus the half-spread;
    commission is 0.2 bp of notional; stops fill at or beyond their level."""
    _, db, op_id, _ = replay
    bars = _bars_by_time()
    orders = {o["_id"]: o for o in db.orders.find({"operation_id": ObjectId(op_id)})}
    txns = list(db.transactions.find({"operation_id": ObjectId(op_id)}))
    assert len(orders) > 100 and len(txns) > 100
    for txn in txns:
        order = orders[txn["order_id"]]
        bar = bars[txn["executed_at"]]
        assert math.isclose(
            txn["commission"], txn["quantity"] * txn["price"] * COMMISSION_BPS / 1e4, rel_tol=1e-12
        )
        sign = 1 if txn["transaction_type"] == "BUY" else -1
        if order["order_type"] == "MARKET":
            # on the paper broker's tick (PAPER_BROKER__TICK_SIZE, 0.00001)
            expected = TICK.round_price(bar["open"] * (1 + sign * HALF_SPREAD_BPS / 1e4))
            if not math.isclose(txn["price"], expected, rel_tol=1e-12):
                # only the final flatten after the feed ended fills at a close
                expected = TICK.round_price(bar["close"] * (1 + sign * HALF_SPREAD_BPS / 1e4))
            assert math.isclose(txn["price"], expected, rel_tol=1e-12)
        elif order["order_type"] == "STOP":
            assert (bar["low"] <= order["price"]) if sign < 0 else (bar["high"] >= order["price"])
            assert (
                txn["price"] == min(order["price"], bar["open"])
                if sign < 0
                else txn["price"] == max(order["price"], bar["open"])
            )


def test_rebuild_equals_incremental_projection(replay, mongo_url: str) -> None:
    server, db, _, _ = replay
    before = dump(db)
    assert all(before[name] for name in READ_MODELS)
    env = {**server.env}
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


def test_journal_endpoint_pages_in_sequence_order(replay) -> None:
    server, _, op_id, _ = replay
    with server.client() as http:
        first = http.get(f"/api/operations/{op_id}/journal", params={"limit": 5}).json()
        after = http.get(
            f"/api/operations/{op_id}/journal", params={"after_sequence": 5, "limit": 5}
        ).json()
    assert [e["sequence_number"] for e in first] == [1, 2, 3, 4, 5]
    assert [e["sequence_number"] for e in after] == [6, 7, 8, 9, 10]
    assert first[0]["action_type"] == "OPERATION_CREATED"
    assert first[0]["source"] == "cli/demo"
