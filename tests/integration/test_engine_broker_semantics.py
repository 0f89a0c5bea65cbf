"""Engine side of the hardened broker port, through the real store and the
paper broker: commissions reported after their fill, outcomes unknown,
cancel acknowledgements, instrument specifications."""

from __future__ import annotations

from bson import ObjectId

from live_trading.domain import events as ev
from live_trading.domain.orders import CommissionReport
from live_trading.domain.values import utc_now
from live_trading.engine.order_manager import OrderManager, client_order_id
from live_trading.engine.ports import OrderOutcomeUnknown
from tests.integration.recovery_helpers import crashable, entries, run_operation


async def _boot(mongo_url, tmp_path, **overrides):
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services, crash_recovery_mode="RESUME", **overrides)
    return process, services, op


async def _finish(services) -> None:
    await services.engine.stop()
    await services.store.client.close()


async def test_a_late_commission_is_journaled_once_and_charged_to_the_trade(
    mongo_url, tmp_path
) -> None:
    _, services, op = await _boot(mongo_url, tmp_path)
    state = await services.journal.state(op)
    assert state.position is not None
    entry = state.position.entry_transaction_id
    [entry_fill] = [r for r in await entries(services, op) if r.entry_id == entry]
    execution_id = entry_fill.action_data["execution_id"]
    cid = entry_fill.action_data["client_order_id"]
    report = CommissionReport(execution_id, cid, 7.5, utc_now())
    route = services.engine._route
    await route(report)
    await route(report)  # a repeated report
    await route(CommissionReport("not-a-fill", cid, 1.0, utc_now()))  # held, not journaled
    reported = [r for r in await entries(services, op) if r.action_type == "COMMISSION_REPORTED"]
    assert [r.action_data["commission"] for r in reported] == [7.5]

    position_id = state.position.doc["_id"]
    await services.engine.close_position(position_id, source="test")
    records = await entries(services, op)
    fills = [r.action_data for r in records if r.action_type == "ORDER_FILLED"]
    entry_data = next(f for f in fills if f["execution_id"] == execution_id)
    exit_data = fills[-1]
    gross = (entry_data["price"] - exit_data["price"]) * exit_data["quantity"]  # a SHORT
    scale_ins = [f for f in fills if f["client_order_id"] == cid]
    expected_commission = 7.5 + exit_data["commission"]
    assert len(scale_ins) == 1 and exit_data["quantity"] == entry_data["quantity"]
    trade = await services.store.db["trades"].find_one({"position_id": ObjectId(position_id)})
    assert abs(trade["total_commission"] - expected_commission) < 1e-9
    assert abs(trade["pnl"] - (gross - expected_commission)) < 1e-6
    order = await services.store.db["orders"].find_one({"client_order_id": cid})
    assert order["commission"] == 7.5
    await _finish(services)


class _LostAnswers:
    """The engine's broker, but submit and cancel answers are lost: the
    request reaches the venue (``deliver``) or not, then OrderOutcomeUnknown."""

    def __init__(self, inner, deliver: bool) -> None:
        self.inner = inner
        self.deliver = deliver
        self.name = inner.name

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def submit_order(self, request):
        if self.deliver:
            await self.inner.submit_order(request)
        raise OrderOutcomeUnknown("submit_order", request.client_order_id, "read timed out")


async def _exit_with_lost_answer(services, op, deliver: bool) -> str:
    broker = _LostAnswers(services.engine.deps.broker, deliver)
    manager = OrderManager(op, "USD-CAD", services.journal, broker)
    assert await manager.flatten("test", "test")
    state = await services.journal.state(op)
    [exit_order] = [o for o in state.orders.values() if o["order_role"] == "EXIT"]
    assert exit_order["status"] == "PENDING" and exit_order["outcome_unknown"]
    return exit_order["client_order_id"]


async def test_a_submit_whose_answer_is_lost_stays_in_flight_until_reconciled(
    mongo_url, tmp_path
) -> None:
    _, services, op = await _boot(mongo_url, tmp_path)
    cid = await _exit_with_lost_answer(services, op, deliver=False)
    kinds = [r.action_type for r in await entries(services, op)]
    assert "ORDER_OUTCOME_UNKNOWN" in kinds and "ORDER_REJECTED" not in kinds
    stored = await services.store.db["orders"].find_one({"client_order_id": cid})
    assert stored["status"] == "PENDING" and stored["outcome_unknown"] is True

    await services.recovery.reconcile(op)  # the venue has no such order, no fill
    state = await services.journal.state(op)
    assert state.orders[cid]["status"] == "REJECTED"
    assert state.orders[cid]["reason"] == "not at the venue"
    assert state.position is not None and state.status == "active"
    await _finish(services)


async def test_an_order_the_venue_took_is_adopted_and_never_sent_again(mongo_url, tmp_path) -> None:
    _, services, op = await _boot(mongo_url, tmp_path)
    cid = await _exit_with_lost_answer(services, op, deliver=True)
    broker = services.engine.deps.broker
    await services.recovery.reconcile(op)
    state = await services.journal.state(op)
    assert state.orders[cid]["status"] == "SUBMITTED"
    assert state.orders[cid]["broker_order_id"] == await broker.broker_order_id(cid)
    assert not state.orders[cid]["outcome_unknown"]
    await services.recovery.reconcile(op)  # settled: nothing more happens
    working = [o.client_order_id for o in await broker.open_orders(op)]
    assert working.count(cid) == 1
    assert (
        len(
            [
                r
                for r in await entries(services, op)
                if r.action_type == "ORDER_SUBMITTED" and r.action_data["role"] == "EXIT"
            ]
        )
        == 1
    )
    await _finish(services)


async def test_a_cancel_of_an_order_the_venue_lacks_is_journaled_then_reconciled(
    mongo_url, tmp_path
) -> None:
    _, services, op = await _boot(mongo_url, tmp_path)
    state = await services.journal.state(op)
    cid = client_order_id(op, state.last_sequence + 1)
    await services.journal.record(
        op,
        [
            ev.OrderSubmitted(cid, "ENTRY", "BUY", "LIMIT", 1000.0, limit_price=1.0),
            ev.OrderAccepted(cid, "lost-at-the-venue"),
        ],
        source="test",
    )  # the venue never had it
    manager = OrderManager(op, "USD-CAD", services.journal, services.engine.deps.broker)
    await manager.flatten("test", "test")
    records = await entries(services, op)
    records = [r for r in records if r.action_data.get("client_order_id") == cid]
    [intent] = [r for r in records if r.action_type == "ORDER_CANCEL_REQUESTED"]
    [failed] = [r for r in records if r.action_type == "ORDER_CANCEL_FAILED"]
    assert intent.sequence_number < failed.sequence_number, "the intent is written ahead"
    assert intent.action_data["client_order_id"] == cid
    assert failed.action_data["outcome"] == "NOT_FOUND"
    assert failed.action_data["reason"].startswith("not found at the venue")
    assert (await services.journal.state(op)).orders[cid]["status"] == "SUBMITTED"
    await services.recovery.reconcile(op)
    assert (await services.journal.state(op)).orders[cid]["status"] == "CANCELLED"
    await _finish(services)


def _on_tick(price: float, tick: float = 0.00001) -> bool:
    return abs(price / tick - round(price / tick)) < 1e-6


async def test_every_price_sent_and_filled_is_on_the_tick(mongo_url, tmp_path) -> None:
    _, services, op = await _boot(mongo_url, tmp_path, quantity=1234.7)
    records = await entries(services, op)
    submitted = [r.action_data for r in records if r.action_type == "ORDER_SUBMITTED"]
    prices = [
        d[k]
        for d in submitted
        for k in ("limit_price", "stop_price", "stop_loss", "take_profit")
        if d.get(k) is not None
    ]
    assert prices and all(_on_tick(p) for p in prices), prices
    fills = [r.action_data["price"] for r in records if r.action_type == "ORDER_FILLED"]
    assert fills and all(_on_tick(p) for p in fills), fills
    assert {d["quantity"] for d in submitted if d["role"] == "ENTRY"} == {1234.0}  # the lot
    await _finish(services)


async def test_a_commission_before_its_fill_is_held_and_journaled_with_it(
    mongo_url, tmp_path
) -> None:
    from datetime import timedelta

    from live_trading.domain.orders import Execution
    from live_trading.domain.values import Side

    _, services, op = await _boot(mongo_url, tmp_path)
    state = await services.journal.state(op)
    cid = client_order_id(op, state.last_sequence + 1)
    await services.journal.record(
        op,
        [
            ev.OrderSubmitted(cid, "ENTRY", "BUY", "LIMIT", 1000.0, limit_price=1.0),
            ev.OrderAccepted(cid, "B-1"),
        ],
        source="test",
    )
    route = services.engine._route
    await route(CommissionReport("EX-early", cid, 2.0, utc_now()))
    assert "COMMISSION_REPORTED" not in [r.action_type for r in await entries(services, op)]
    await route(
        Execution(
            "EX-early",
            cid,
            "B-1",
            op,
            "USD-CAD",
            Side.BUY,
            1000.0,
            1.0,
            0.0,
            state.position.doc["opened_at"] + timedelta(hours=1),
        )
    )
    kinds = [r.action_type for r in await entries(services, op)]
    assert kinds[-2:] == ["ORDER_FILLED", "COMMISSION_REPORTED"]
    assert (await services.journal.state(op)).orders[cid]["commission"] == 2.0
    await _finish(services)


async def test_an_unknown_outcome_asks_for_a_reconciliation_at_the_next_check(
    mongo_url, tmp_path
) -> None:
    _, services, op = await _boot(mongo_url, tmp_path)
    engine = services.engine
    broker = _LostAnswers(engine.deps.broker, deliver=False)
    manager = OrderManager(op, "USD-CAD", services.journal, broker)
    manager.request_reconcile = engine.monitor.request
    assert await manager.flatten("test", "test")
    assert op in engine.monitor.requested
    await engine.monitor.tick()  # the interval is not due: reconciled because asked
    state = await services.journal.state(op)
    [exit_order] = [o for o in state.orders.values() if o["order_role"] == "EXIT"]
    assert exit_order["status"] == "REJECTED" and exit_order["reason"] == "not at the venue"
    assert op not in engine.monitor.requested
    await _finish(services)


async def test_a_signal_acts_on_the_venues_fills_not_on_reports_still_on_their_way(
    mongo_url, tmp_path
) -> None:
    """The SHORT's exit has filled at the venue but its report is still on
    its way (a polled feed, a reconnect) when a LONG signal comes: the
    engine reads the venue's fills before deciding, so it opens the LONG
    and never sends a second exit (which would have left it LONG twice)."""
    from datetime import timedelta

    from live_trading.domain.values import Bar, PositionSide
    from live_trading.strategies import Signal

    _, services, op = await _boot(mongo_url, tmp_path)
    paper = services.engine.deps.broker.inner
    route, in_transit = paper._batch_listener, []  # the engine's: each call's reports

    async def hold(reports) -> None:
        in_transit.extend(reports)

    manager = OrderManager(op, "USD-CAD", services.journal, services.engine.deps.broker)
    state = await services.journal.state(op)
    assert state.position is not None and state.position.side is PositionSide.SHORT
    assert await manager.flatten("test", "test")
    paper.set_batch_listener(hold)
    try:
        await paper.fill_at_last_price(op, "USD-CAD")  # the exit fills; its report is held
    finally:
        paper.set_batch_listener(route)
    assert [type(r).__name__ for r in in_transit] == ["Execution"]
    seq = (await services.journal.state(op)).last_sequence
    close = state.position.doc["entry_price"]
    bar = Bar(state.position.doc["opened_at"] + timedelta(hours=5), close, close, close, close)
    await manager.on_signal(Signal(PositionSide.LONG, "test reversal"), bar, "1 hour", 0.001)
    await route([in_transit[0]])  # the report arrives at last: a duplicate, ignored

    new = await services.journal_store.read(op, seq)
    roles = [r.action_data["role"] for r in new if r.action_type == "ORDER_SUBMITTED"]
    assert roles == ["ENTRY", "STOP_LOSS", "TAKE_PROFIT"]
    fills = [
        r.action_data["execution_id"]
        for r in await entries(services, op)
        if r.action_type == "ORDER_FILLED"
    ]
    assert fills.count(in_transit[0].execution_id) == 1
    await paper.fill_at_last_price(op, "USD-CAD")
    state = await services.journal.state(op)
    assert state.position is not None and state.position.side is PositionSide.LONG
    assert (await paper.positions(op)).get("USD-CAD") == state.position.open_quantity
    await _finish(services)
