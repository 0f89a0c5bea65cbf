"""Reconciliation with the (durable) paper broker after a crash, case by case.

Each test brings the journal and the broker apart the way a crash at a given
moment would, restarts, and checks what recovery journals and does.
"""

from __future__ import annotations

from datetime import timedelta

from live_trading.domain import events as ev
from live_trading.domain.orders import OrderRequest
from live_trading.domain.values import Bar, BarSize, OrderType, Side
from live_trading.engine.order_manager import client_order_id
from tests.integration.recovery_helpers import crashable, entries, run_operation


async def _setup(mongo_url, tmp_path, **overrides):
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    settings = {"crash_recovery_mode": "RESUME", "emergency_stop_loss_pct": 0.5, **overrides}
    op = await run_operation(services, **settings)
    return process, services, op


async def _finish(services) -> None:
    await services.engine.stop()
    await services.store.client.close()


def _actions(records) -> list[str]:
    return [r.action_type for r in records]


async def test_a_fill_the_journal_missed_is_adopted_once(mongo_url, tmp_path) -> None:
    process, services, op = await _setup(mongo_url, tmp_path)
    state = await services.journal.state(op)
    stop = next(o for o in state.working_orders() if o["order_role"] == "STOP_LOSS")
    broker = services.engine.deps.broker
    broker.set_listener(_ignore)  # the fill happens, then we die before journaling it
    last = (await services.market_data.last_bars(op, _hour(), 1))[-1]
    spike = Bar(
        last.time + timedelta(hours=1),
        stop["price"] * 1.001,
        stop["price"] * 1.002,
        stop["price"] * 0.999,
        stop["price"] * 1.001,
    )
    await broker.on_bar(op, "USD-CAD", spike)
    [fill] = await broker.executions_since(op, state.last_execution_id)
    seq = state.last_sequence
    await process.crash()

    services = await process.boot(start_runners=False)
    await services.recovery.run()
    new = await entries(services, op, seq)
    fills = [r for r in new if r.action_type == "ORDER_FILLED"]
    assert [f.action_data["execution_id"] for f in fills] == [fill.execution_id]
    assert fills[0].source == "recovery"
    mismatch = next(r for r in new if r.action_type == "RECONCILIATION_MISMATCH")
    assert mismatch.action_data["kind"] == "fill"
    assert mismatch.action_data["broker_view"]["execution_id"] == fill.execution_id
    state = await services.journal.state(op)
    assert state.position is None  # the stop closed the SHORT
    assert any(
        o["status"] == "CANCELLED"
        for o in state.orders.values()
        if o["order_role"] == "TAKE_PROFIT"
    )
    await services.recovery.run()  # a second recovery adopts nothing more
    again = [r for r in await entries(services, op, seq) if r.action_type == "ORDER_FILLED"]
    assert len(again) == 1
    await _finish(services)


async def test_an_intent_that_never_reached_the_broker_is_cancelled(mongo_url, tmp_path):
    process, services, op = await _setup(mongo_url, tmp_path)
    state = await services.journal.state(op)
    cid = client_order_id(op, state.last_sequence + 1)
    await services.journal.record(
        op,
        [
            ev.OrderSubmitted(
                cid, "EXIT", "BUY", "MARKET", state.position.open_quantity, reason="test"
            )
        ],
        source="engine",
    )  # crash before the broker call
    await process.crash()

    services = await process.boot(start_runners=False)
    await services.recovery.run()
    state = await services.journal.state(op)
    assert state.orders[cid]["status"] == "CANCELLED"
    assert state.orders[cid]["reason"] == "never reached the broker"
    assert await services.engine.deps.broker.broker_order_id(cid) is None
    assert state.position is not None, "nothing was sent: the position is still open"
    await _finish(services)


async def test_an_order_the_broker_accepted_but_the_journal_did_not_record(mongo_url, tmp_path):
    process, services, op = await _setup(mongo_url, tmp_path)
    state = await services.journal.state(op)
    cid = client_order_id(op, state.last_sequence + 1)
    price = state.position.doc["entry_price"] * 0.9
    await services.journal.record(
        op,
        [
            ev.OrderSubmitted(
                cid, "EXIT", "BUY", "LIMIT", state.position.open_quantity, limit_price=price
            )
        ],
        source="engine",
    )
    ack = await services.engine.deps.broker.submit_order(
        OrderRequest(
            cid,
            op,
            "USD-CAD",
            Side.BUY,
            state.position.open_quantity,
            OrderType.LIMIT,
            limit_price=price,
        )
    )
    await process.crash()  # before ORDER_ACCEPTED was journaled

    services = await process.boot(start_runners=False)
    await services.recovery.run()
    state = await services.journal.state(op)
    assert state.orders[cid]["status"] == "SUBMITTED"
    assert state.orders[cid]["broker_order_id"] == ack.broker_order_id
    broker_ids = [o.client_order_id for o in await services.engine.deps.broker.open_orders(op)]
    assert broker_ids.count(cid) == 1, "adopted, not sent again"
    await _finish(services)


async def test_a_position_mismatch_halts_the_operation(mongo_url, tmp_path) -> None:
    process, services, op = await _setup(mongo_url, tmp_path)
    broker = services.engine.deps.broker
    broker.set_listener(_ignore)
    foreign = OrderRequest("someone-else-1", op, "USD-CAD", Side.BUY, 5000.0)
    assert (await broker.submit_order(foreign)).accepted
    last = (await services.market_data.last_bars(op, _hour(), 1))[-1]
    await broker.on_bar(
        op,
        "USD-CAD",
        Bar(last.time + timedelta(hours=1), last.close, last.close, last.close, last.close),
    )
    await process.crash()

    services = await process.boot()
    report = services.last_recovery
    [found] = report["operations"]
    assert found["unknown_fills"] and found["journal_position"] != found["broker_position"]
    state = await services.journal.state(op)
    assert state.status == "error"
    kinds = [
        r.action_data["kind"]
        for r in await entries(services, op)
        if r.action_type == "RECONCILIATION_MISMATCH"
    ]
    assert "fill" in kinds and "position" in kinds
    assert op not in services.engine.tasks, "a halted operation is not resumed"
    await _finish(services)


async def test_dry_run_reports_the_plan_and_changes_nothing(mongo_url, tmp_path) -> None:
    process, services, op = await _setup(mongo_url, tmp_path, crash_recovery_mode="CLOSE_ALL")
    await process.crash()
    services = await process.boot(start_runners=False)
    before = await entries(services, op)
    broker_before = await services.engine.deps.broker.open_orders(op)
    report = await services.recovery.run(dry_run=True)
    [found] = report["operations"]
    assert found["positions"][0]["action"] == "close"
    assert await entries(services, op) == before
    assert await services.engine.deps.broker.open_orders(op) == broker_before
    assert await services.store.db["recovery_reports"].count_documents({"dry_run": True}) == 0
    await _finish(services)


async def _ignore(_report) -> None:
    return None


def _hour() -> BarSize:
    return BarSize.HOUR_1
