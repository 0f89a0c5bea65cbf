"""Engine side of the hardened broker port, through the real store and the
paper broker: commissions reported after their fill, outcomes unknown,
cancel acknowledgements, instrument specifications."""

from __future__ import annotations

from bson import ObjectId

from live_trading.domain.orders import CommissionReport
from live_trading.domain.values import utc_now
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
        mongo_url, tmp_path) -> None:
    _, services, op = await _boot(mongo_url, tmp_path)
    state = await services.journal.state(op)
    assert state.position is not None
    entry = state.position.entry_transaction_id
    [entry_fill] = [r for r in await entries(services, op) if r.entry_id == entry]
    execution_id = entry_fill.action_data["execution_id"]
    cid = entry_fill.action_data["client_order_id"]
    report = CommissionReport(execution_id, cid, 7.5, utc_now())
    route = services.engine._route  # noqa: SLF001 - the broker's report listener
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
