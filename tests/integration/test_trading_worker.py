"""Trading cycles and the scheduled worker, on the real USD-CAD data.

In-process tests drive :class:`TradingWorker` on services over the test
server; the end-to-end test runs ``live-trading run`` with the worker on and
no client connected, then reads the journal from the database.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from live_trading.domain.cycle import BROKER_HOLDS, FLATTEN
from live_trading.engine.specs import OperationUpdate
from tests.conftest import LiveServer, unique_db
from tests.integration.recovery_helpers import (
    BARS_WITH_OPEN_SHORT,
    crashable,
    run_operation,
    truncated_replay_dir,
)
from tests.unit.helpers import load_bars

CYCLE_TYPES = ["PRICE_EVENT", "TRIGGER_EVALUATED", "GUARDRAIL_EVALUATED"]


async def _entries(services, op: str, after: int = 0) -> list[dict]:
    cursor = services.store.db["journal"].find(
        {"operation_id": ObjectId(op), "sequence_number": {"$gt": after}},
        sort=[("sequence_number", 1)],
    )
    return await cursor.to_list()


@pytest.fixture
async def short_open(mongo_url, tmp_path):
    """Services whose only operation ends the replay with a SHORT open."""
    app = crashable(mongo_url, tmp_path)
    services = await app.boot()
    op = await run_operation(services)
    state = await services.journal.state(op)
    assert state.position is not None and state.position.side.value == "SHORT"
    yield services, op
    await services.engine.stop()
    await services.store.client.close()


async def test_a_manual_cycle_journals_price_triggers_and_guardrails(short_open):
    services, op = short_open
    before = (await services.journal.state(op)).last_sequence
    result = await services.worker.run("api/manual", "alice")
    [outcome] = result["operations"]
    entries = await _entries(services, op, before)
    assert [e["action_type"] for e in entries] == CYCLE_TYPES
    assert {(e["source"], e["user"]) for e in entries} == {("api/manual", "alice")}
    last_bar = load_bars()[BARS_WITH_OPEN_SHORT - 1]
    price = entries[0]["action_data"]
    assert price["last"] == pytest.approx(last_bar.close) and price["price_source"] == "last_bar"
    assert outcome["status"] == "done" and outcome["price"] == pytest.approx(last_bar.close)
    trigger = entries[1]["action_data"]
    assert trigger["position_side"] == "SHORT" and trigger["triggered"] is None
    guard = entries[2]["action_data"]
    assert guard["passed"] is True
    assert {c["name"] for c in guard["checks"]} >= {
        "broker_connected",
        "emergency_stop_loss",
        "max_daily_loss",
    }
    assert len({e["action_data"]["cycle_id"] for e in entries}) == 1
    assert services.worker.status()["last_result"]["evaluated"] == 1


async def test_a_cycle_over_many_operations_does_not_wait_for_a_busy_one(short_open):
    services, busy_op = short_open
    other = await run_operation(services, strategy_config={"fast_period": 5, "slow_period": 20})
    before = {op: (await services.journal.state(op)).last_sequence for op in (busy_op, other)}
    busy = services.engine.runners[busy_op].lock
    await busy.acquire()  # a decision in progress on the first operation
    cycle = asyncio.create_task(services.worker.run("api/manual", "alice"))
    for _ in range(500):
        if len(await _entries(services, other, before[other])) == len(CYCLE_TYPES):
            break
        await asyncio.sleep(0.01)
    assert [e["action_type"] for e in await _entries(services, other, before[other])] == CYCLE_TYPES
    assert await _entries(services, busy_op, before[busy_op]) == []
    assert not cycle.done(), "the busy operation is evaluated at its next decision boundary"
    busy.release()
    result = await cycle
    assert [o["operation_id"] for o in result["operations"]] == list(services.engine.runners)
    assert {o["status"] for o in result["operations"]} == {"done"}
    busy_entries = await _entries(services, busy_op, before[busy_op])
    assert [e["action_type"] for e in busy_entries] == CYCLE_TYPES


async def test_a_crossed_stop_held_by_a_working_order_is_left_to_the_broker(short_open):
    services, op = short_open
    runner = services.engine.runners[op]
    state = await services.journal.state(op)
    stop = state.position.doc["stop_loss"]
    runner.last_bar = replace(runner.last_bar, close=stop + 0.0010)
    result = await services.worker.run("api/manual", None)
    assert result["operations"][0]["trigger_action"] == BROKER_HOLDS
    assert result["operations"][0]["actions"] == []
    assert (await services.journal.state(op)).position is not None


async def test_a_crossed_stop_no_order_holds_is_closed_at_market(short_open):
    services, op = short_open
    state = await services.journal.state(op)
    position = dict(state.position.doc)  # the state object moves on with the journal
    for order in state.working_orders():  # the broker lost the protective orders
        await services.engine.deps.broker.cancel_order(order["client_order_id"])
    assert (await services.journal.state(op)).working_orders() == []
    runner = services.engine.runners[op]
    runner.last_bar = replace(runner.last_bar, close=position["stop_loss"] + 0.0010)
    before = (await services.journal.state(op)).last_sequence
    result = await services.worker.run("worker")
    assert result["operations"][0]["trigger_action"] == FLATTEN
    after = await _entries(services, op, before)
    submitted = [e for e in after if e["action_type"] == "ORDER_SUBMITTED"]
    assert [(e["action_data"]["role"], e["source"]) for e in submitted] == [("EXIT", "worker")]
    assert any(e["action_type"] == "ORDER_FILLED" for e in after)
    assert (await services.journal.state(op)).position is None
    trade = await services.store.db["trades"].find_one(
        {"operation_id": ObjectId(op)}, sort=[("exit_time", -1)]
    )
    assert str(trade["position_id"]) == str(position["_id"])


async def test_the_emergency_stop_loss_guardrail_closes_a_losing_position(short_open):
    services, op = short_open
    await services.engine.update_operation(
        op, OperationUpdate(emergency_stop_loss_pct=0.01), source="test"
    )
    state = await services.journal.state(op)
    entry = state.position.doc["entry_price"]
    runner = services.engine.runners[op]
    runner.last_bar = replace(runner.last_bar, close=entry * 1.011)  # a SHORT losing 1.1 %
    result = await services.worker.run("worker")
    [outcome] = result["operations"]
    assert outcome["guardrails_passed"] is False
    assert outcome["actions"] == ["flatten: emergency stop-loss guardrail"]
    assert (await services.journal.state(op)).position is None
    guard = [e for e in await _entries(services, op) if e["action_type"] == "GUARDRAIL_EVALUATED"][
        -1
    ]["action_data"]
    [check] = [c for c in guard["checks"] if c["name"] == "emergency_stop_loss"]
    assert check["value"] == pytest.approx((entry - entry * 1.011) / entry, rel=1e-6)
    assert guard["action"] == FLATTEN


async def test_paused_operations_are_not_cycled(short_open):
    services, op = short_open
    await services.engine.pause(op, source="test")
    before = (await services.journal.state(op)).last_sequence
    result = await services.worker.run("worker")
    assert result["operations"][0]["status"] == "skipped"
    assert (await services.journal.state(op)).last_sequence == before


def _journal(env: dict[str, str]) -> list[dict]:
    with MongoClient(env["MONGODB_URL"]) as client:
        return list(
            client[env["MONGODB_DB_NAME"]]["journal"].find(
                {}, sort=[("operation_id", 1), ("sequence_number", 1)]
            )
        )


@pytest.mark.timeout(180)
def test_the_backend_trades_with_nobody_watching_and_cycles_on_schedule(mongo_url, tmp_path):
    replay = truncated_replay_dir(tmp_path / "replay", bars=300)
    env = {
        "MONGODB_URL": mongo_url,
        "MONGODB_DB_NAME": unique_db(),
        "REPLAY_DATA_DIR": str(replay),
        "REPLAY_SPEED": "100",
        "TRADING_WORKER_ENABLED": "true",
        "TRADING_WORKER_INTERVAL_SECONDS": "0.5",
    }
    server = LiveServer(env, tmp_path / "server.log").start("--demo")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # no client: read the database only
            entries = _journal(env)
            worker = [e for e in entries if e["source"] == "worker"]
            if worker and any(e["action_type"] == "ORDER_FILLED" for e in entries):
                break
            time.sleep(0.5)
        assert {e["action_type"] for e in worker} >= set(CYCLE_TYPES)
        assert all(e.get("user") is None for e in worker)
        with server.client() as http:
            status = http.get("/v1/trading/worker/status").json()
            assert status["running"] and status["enabled"]
            assert status["interval_seconds"] == 0.5 and status["cycles"] >= 1
            result = http.post("/v1/trading/cycle").json()
            assert result["source"] == "api/manual"
            assert (
                http.post("/v1/trading/cycle", params={"position_id": "0" * 24}).status_code == 404
            )
            assert http.get("/api/v1/mode").json()["mode"] == "trading"
        manual = [e for e in _journal(env) if e["source"] == "api/manual"]
        assert {e["action_type"] for e in manual} == set(CYCLE_TYPES)
        assert {e.get("user") for e in manual} == {"admin"}
        assert httpx.post(f"{server.url}/v1/trading/cycle").status_code == 401
    finally:
        server.stop()
