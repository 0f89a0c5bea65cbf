"""One decision, one append: through the real paper broker, a reversal is
journaled in one append before anything is sent, its answers in one more,
and the paper broker commits the cancels once and the orders once. An
independent count of what the journal and the broker's store received."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from live_trading.brokers.paper import InMemoryPaperStore, PaperBroker, PaperChanges
from live_trading.domain.values import Bar, PositionSide
from live_trading.engine.order_manager import OrderManager
from live_trading.journal.memory_journal import MemoryJournal
from live_trading.journal.service import JournalService
from live_trading.strategies import Signal

from .test_projection import created

OP = "665f1f77bcf86cd799439099"
ASSET = "USD-CAD"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def _bar(i: int, close: float) -> Bar:
    return Bar(T0 + timedelta(hours=i), close, close + 0.002, close - 0.002, close)


class _Store(InMemoryPaperStore):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    async def commit(self, changes: PaperChanges) -> None:
        self.log.append("paper commit")
        await super().commit(changes)


async def _setup() -> tuple[JournalService, PaperBroker, OrderManager, list[str]]:
    log: list[str] = []
    journal = JournalService(MemoryJournal())
    await journal.record(OP, [created()], source="test", new_operation=True)
    record = journal.record

    async def logged(operation_id, events, **kwargs):
        log.append("append " + ",".join(e.ACTION_TYPE for e in events))
        return await record(operation_id, events, **kwargs)

    journal.record = logged  # type: ignore[method-assign]
    broker = PaperBroker(store=_Store(log))
    manager = OrderManager(OP, ASSET, journal, broker)
    broker.set_listener(manager.on_report)
    await broker.connect()
    return journal, broker, manager, log


async def test_a_reversal_is_one_append_then_two_paper_commits_then_one_append() -> None:
    journal, broker, manager, log = await _setup()
    await broker.on_bar(OP, ASSET, _bar(0, 1.3700))
    await manager.on_signal(Signal(PositionSide.LONG, "up"), _bar(0, 1.3700), "1 hour", 0.002)
    await broker.on_bar(OP, ASSET, _bar(1, 1.3710))  # the entry fills, SL and TP work
    state = await journal.state(OP)
    assert state.position is not None and state.position.side is PositionSide.LONG
    assert len(state.working_orders()) == 2
    log.clear()
    await manager.on_signal(Signal(PositionSide.SHORT, "down"), _bar(1, 1.3710), "1 hour", 0.002)
    decision = (
        "SIGNAL_GENERATED," + "ORDER_CANCEL_REQUESTED," * 2 + ",".join(["ORDER_SUBMITTED"] * 4)
    )
    answers = "ORDER_CANCELLED," * 2 + ",".join(["ORDER_ACCEPTED"] * 4)
    assert log == [
        f"append {decision}",
        "paper commit",  # both cancels
        "paper commit",  # the exit and the entry bracket
        f"append {answers}",
    ]
    state = await journal.state(OP)
    roles = sorted(o["order_role"] for o in state.working_orders())
    assert roles == ["ENTRY", "EXIT", "STOP_LOSS", "TAKE_PROFIT"]
    assert [r.client_order_id for r in await broker.open_orders(OP)] == [
        o["client_order_id"] for o in state.working_orders()
    ]
    await broker.on_bar(OP, ASSET, _bar(2, 1.3700))
    state = await journal.state(OP)
    assert state.position is not None and state.position.side is PositionSide.SHORT
    assert (await broker.positions(OP))[ASSET] == -state.position.open_quantity


async def test_flatten_with_a_pause_is_one_append_before_the_broker_is_called() -> None:
    from live_trading.domain import events as ev

    journal, broker, manager, log = await _setup()
    await broker.on_bar(OP, ASSET, _bar(0, 1.3700))
    await manager.on_signal(Signal(PositionSide.LONG, "up"), _bar(0, 1.3700), "1 hour", 0.002)
    await broker.on_bar(OP, ASSET, _bar(1, 1.3710))
    log.clear()
    head = [ev.RiskRuleTriggered("kill_switch", "test"), ev.OperationPaused("kill switch")]
    assert await manager.flatten("kill switch", "api", "alice", head=head) is True
    assert log[0] == (
        "append RISK_RULE_TRIGGERED,OPERATION_PAUSED,"
        "ORDER_CANCEL_REQUESTED,ORDER_CANCEL_REQUESTED,ORDER_SUBMITTED"
    )
    assert log[1:] == [
        "paper commit",
        "paper commit",
        "append ORDER_CANCELLED,ORDER_CANCELLED,ORDER_ACCEPTED",
    ]
    await broker.on_bar(OP, ASSET, _bar(2, 1.3700))
    state = await journal.state(OP)
    assert state.position is None and state.status == "paused" and not state.working_orders()


async def test_a_bars_fill_and_the_oco_cancel_it_causes_are_one_append() -> None:
    journal, broker, manager, log = await _setup()
    broker.set_batch_listener(manager.on_reports)  # as the engine wires it
    await broker.on_bar(OP, ASSET, _bar(0, 1.3700))
    await manager.on_signal(Signal(PositionSide.LONG, "up"), _bar(0, 1.3700), "1 hour", 0.002)
    await broker.on_bar(OP, ASSET, _bar(1, 1.3710))
    stop = next(
        o for o in (await journal.state(OP)).working_orders() if o["order_role"] == "STOP_LOSS"
    )
    log.clear()
    crash = Bar(T0 + timedelta(hours=2), 1.3650, 1.3660, stop["price"] - 0.01, 1.3640)
    await broker.on_bar(OP, ASSET, crash)
    assert log == ["paper commit", "append ORDER_FILLED,ORDER_CANCELLED"]
    state = await journal.state(OP)
    assert state.position is None and not state.working_orders()
    fills = await broker.executions(OP)
    assert {f.execution_id for f in fills} == set(state.execution_ids)
    await manager.on_reports([fills[-1]])  # the same report again: nothing journaled
    assert log == ["paper commit", "append ORDER_FILLED,ORDER_CANCELLED"]
