"""The engine monitor through the real store and the paper broker: stale
market data, continuous reconciliation, timeouts that defer it, connection
changes. The clock is the test's: ticks are called with the time they see."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from live_trading.domain.values import Bar, BarSize
from live_trading.engine.ports import BrokerTimeout
from live_trading.engine.specs import OperationCreate
from live_trading.observability.health import health_report
from tests.integration.recovery_helpers import crashable, entries, run_operation

WEDNESDAY = datetime(2024, 5, 8, 10, 0, tzinfo=UTC)
HOUR = BarSize.HOUR_1


class _Feed:
    """A live feed the test controls: the bars put in ``queue``, forever."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.rejected: dict = {}

    def factory(self, asset, primary, higher, after):
        return self

    async def events(self):
        while True:
            yield HOUR, await self.queue.get()


async def _until(predicate, what: str, seconds: float = 30.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        found = await predicate()
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _kinds(records) -> list[str]:
    return [r.action_type for r in records]


async def _finish(services) -> None:
    await services.engine.stop()
    await services.store.client.close()


async def test_a_silent_live_feed_is_journaled_stale_once_then_resumed(mongo_url, tmp_path) -> None:
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    feed = _Feed()
    engine = services.engine
    engine.uses_replay = False
    engine.deps.source_factory = feed.factory
    engine.deps.clock = lambda: WEDNESDAY
    op = await engine.create_operation(
        OperationCreate(asset="USD-CAD", bar_sizes=["1 hour"], strategy_name="MomentumStrategy"),
        source="test",
    )
    runner = await _until(lambda: _started(engine, op), "the feed to start")
    assert runner.feed_clock() == {HOUR: WEDNESDAY}

    monitor = engine.monitor
    await monitor.tick(WEDNESDAY + timedelta(hours=2))  # 2 h < 2 bars + 60 s grace
    assert "MARKET_DATA_STALE" not in _kinds(await entries(services, op))
    await monitor.tick(WEDNESDAY + timedelta(hours=2, seconds=61))
    await monitor.tick(WEDNESDAY + timedelta(hours=3))
    stale = [r for r in await entries(services, op) if r.action_type == "MARKET_DATA_STALE"]
    assert len(stale) == 1 and stale[0].action_data["bar_size"] == "1 hour"
    healthy, body = await health_report(services)
    assert healthy and body["status"] == "degraded"
    assert body["market_data"]["stale"] == [{"operation_id": op, "bar_sizes": ["1 hour"]}]

    await feed.queue.put(Bar(WEDNESDAY + timedelta(hours=2), 1.37, 1.371, 1.369, 1.3705))
    await _until(lambda: _has(services, op, "MARKET_DATA_RESUMED"), "bars to resume")
    healthy, body = await health_report(services)
    assert body["status"] == "ok" and body["market_data"]["stale"] == []
    await monitor.tick(WEDNESDAY + timedelta(hours=3, minutes=59))  # 61 min after that bar
    assert _kinds(await entries(services, op)).count("MARKET_DATA_STALE") == 1
    await _finish(services)


async def test_replayed_data_is_never_called_stale(mongo_url, tmp_path) -> None:
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services)
    await services.engine.monitor.tick(WEDNESDAY + timedelta(days=30))
    assert "MARKET_DATA_STALE" not in _kinds(await entries(services, op))
    await _finish(services)


async def _started(engine, op):
    runner = engine.runners.get(op)
    return runner if runner is not None and runner.feed_started is not None else None


async def _has(services, op, kind):
    return kind in _kinds(await entries(services, op))


async def _ignore(_report) -> None:
    return None


async def _miss_a_stop_fill(services, op) -> str:
    """The venue fills the operation's stop-loss; its report is lost."""
    state = await services.journal.state(op)
    stop = next(o for o in state.working_orders() if o["order_role"] == "STOP_LOSS")
    broker = services.engine.deps.broker
    broker.set_listener(_ignore)
    last = (await services.market_data.last_bars(op, HOUR, 1))[-1]
    price = stop["price"]
    await broker.on_bar(
        op,
        "USD-CAD",
        Bar(
            last.time + timedelta(hours=1),
            price * 1.001,
            price * 1.002,
            price * 0.999,
            price * 1.001,
        ),
    )
    broker.set_listener(services.engine._route)
    [fill] = await broker.executions_since(op, state.last_execution_id)
    return fill.execution_id


async def test_continuous_reconciliation_adopts_a_missed_fill_once(mongo_url, tmp_path) -> None:
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services, crash_recovery_mode="RESUME")
    execution_id = await _miss_a_stop_fill(services, op)
    monitor = services.engine.monitor
    await monitor.tick(WEDNESDAY)  # first tick: the interval starts
    assert execution_id not in (await services.journal.state(op)).execution_ids
    await monitor.tick(WEDNESDAY + timedelta(minutes=5))
    state = await services.journal.state(op)
    assert execution_id in state.execution_ids and state.position is None
    assert state.status == "active"
    records = await entries(services, op)
    mismatches = [r.action_data for r in records if r.action_type == "RECONCILIATION_MISMATCH"]
    assert [m["key"] for m in mismatches if m["kind"] == "fill"] == [execution_id]
    assert {m["kind"] for m in mismatches} == {"fill", "order"}  # the TP the OCO cancelled
    await monitor.tick(WEDNESDAY + timedelta(minutes=10))  # nothing differs: nothing written
    assert len(await entries(services, op)) == len(records)
    await _finish(services)


async def test_a_position_that_still_differs_halts_without_sending_orders(
    mongo_url, tmp_path
) -> None:
    from live_trading.domain.orders import OrderRequest
    from live_trading.domain.values import Side

    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services, crash_recovery_mode="RESUME")
    broker = services.engine.deps.broker
    broker.set_listener(_ignore)
    assert (
        await broker.submit_order(OrderRequest("someone-else-1", op, "USD-CAD", Side.BUY, 5000.0))
    ).accepted
    last = (await services.market_data.last_bars(op, HOUR, 1))[-1]
    await broker.on_bar(
        op,
        "USD-CAD",
        Bar(last.time + timedelta(hours=1), last.close, last.close, last.close, last.close),
    )
    broker.set_listener(services.engine._route)
    submitted = _kinds(await entries(services, op)).count("ORDER_SUBMITTED")
    await services.engine.monitor.reconcile(op)
    state = await services.journal.state(op)
    assert state.status == "error" and "position mismatch" in state.operation["status_reason"]
    kinds = _kinds(await entries(services, op))
    assert kinds.count("ORDER_SUBMITTED") == submitted
    assert "RECONCILIATION_MISMATCH" in kinds
    await services.engine.monitor.tick(WEDNESDAY + timedelta(hours=1))  # halted: left alone
    assert _kinds(await entries(services, op)) == kinds
    await _finish(services)


class _Unanswered:
    """The broker, but open_orders never answers in time."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def open_orders(self, account):
        raise BrokerTimeout("open_orders", 10.0)


async def test_a_timeout_defers_reconciliation_and_it_is_retried(mongo_url, tmp_path) -> None:
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services, crash_recovery_mode="RESUME")
    execution_id = await _miss_a_stop_fill(services, op)
    recovery = services.recovery
    real = recovery.broker
    recovery.broker = _Unanswered(real)
    report = await services.engine.monitor.reconcile(op)
    assert report["deferred"].startswith("BrokerTimeout")
    kinds = _kinds(await entries(services, op))
    assert kinds[-1] == "RECONCILIATION_DEFERRED"
    assert "RECONCILIATION_MISMATCH" not in kinds and "ORDER_CANCELLED" not in kinds[-3:]
    assert op in recovery.pending
    recovery.broker = real
    await services.engine.monitor.tick(WEDNESDAY)  # not due, but pending: retried now
    assert op not in recovery.pending
    assert execution_id in (await services.journal.state(op)).execution_ids
    await _finish(services)


async def test_connection_changes_are_journaled_and_connected_reconciles(
    mongo_url, tmp_path
) -> None:
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services, crash_recovery_mode="RESUME")
    execution_id = await _miss_a_stop_fill(services, op)
    engine = services.engine
    engine.on_connection_event("error 1100: connectivity lost", "RECONNECTING")
    engine.on_connection_event("partial sync: executions timed out", "RECONNECTING")
    engine.on_connection_event("synced", "CONNECTED")
    await _until(lambda: _adopted(services, op, execution_id), "the reconnect to reconcile")
    changes = [
        r.action_data
        for r in await entries(services, op)
        if r.action_type == "BROKER_CONNECTION_CHANGED"
    ]
    assert [(c["state"], c["reason"]) for c in changes] == [
        ("RECONNECTING", "error 1100: connectivity lost"),
        ("RECONNECTING", "partial sync: executions timed out"),
        ("CONNECTED", "synced"),
    ]
    await _finish(services)


async def _adopted(services, op, execution_id) -> bool:
    return execution_id in (await services.journal.state(op)).execution_ids
