"""One runner per operation: bars in, strategy, orders out.

For each closed bar of the operation's primary bar size, in order:

1. the paper broker (when the broker is simulated) works the operation's
   orders against the bar; fills are journaled as they are reported;
2. ATR(14) and the strategy see the bar; a signal goes to the order manager;
3. an operation being closed is flattened instead;
4. the bar is stored in ``market_data_{bar_size}``, which is also where a
   restarted runner resumes its feed and warms its strategy up from.

Pause keeps the data flowing and the protective orders working, but the
strategy's signals are only journaled, not acted on.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from live_trading.data.alignment import TimeframeAligner, close_time
from live_trading.data.indicators import ATR
from live_trading.domain import events as ev
from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.values import Asset, Bar, BarSize, utc_now
from live_trading.faults import fault_point
from live_trading.journal.service import JournalService
from live_trading.strategies import Signal, create_strategy

from .errors import InvalidStateError
from .instruments import fetch_spec
from .order_manager import OrderManager
from .ports import Broker, MarketSource, SimulatedMarket
from .read_models import BarStore

log = logging.getLogger("live_trading.engine")

ATR_PERIOD = 14
TRIM_EVERY_BARS = 250
STORE_EVERY_BARS = 25
RECENT_BARS = 30  # primary bars journaled with each signal (audit trail)
SourceFactory = Callable[
    [Asset, BarSize, list[BarSize], dict[BarSize, datetime | None]], MarketSource
]


@dataclass
class RunnerDeps:
    journal: JournalService
    market_data: BarStore
    broker: Broker
    market: SimulatedMarket | None
    source_factory: SourceFactory
    max_position_size: float | None = None
    clock: Callable[[], datetime] = utc_now  # wall clock (UTC) of the feed supervision
    # ask for a reconciliation of an operation soon (an order's outcome is unknown)
    request_reconcile: Callable[[str], None] | None = None


class OperationRunner:
    def __init__(self, operation_id: str, deps: RunnerDeps) -> None:
        self.operation_id = operation_id
        self.deps = deps
        self.lock = asyncio.Lock()
        self.feed_done = False
        self.bars_processed = 0
        self.last_bar: Bar | None = None
        self.orders: OrderManager | None = None
        self._unstored: list[tuple[Bar, dict[str, float]]] = []
        # each operation stores its bars at its own phase of the cycle, so that
        # operations on the same clock do not all write at the same bar close
        self._phase = zlib.crc32(operation_id.encode()) % STORE_EVERY_BARS
        self._strategy_config: dict[str, Any] | None = None
        self.recent_bars: deque[Bar] = deque(maxlen=RECENT_BARS)
        self.feed_started: datetime | None = None
        self.last_close: dict[BarSize, datetime] = {}  # close time of the last bar, per size

    async def run(self) -> None:
        """Run until the feed ends or the operation is closed."""
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - recorded, the engine goes on
            log.exception("operation %s failed", self.operation_id)
            await self.deps.journal.record(
                self.operation_id,
                [ev.OperationFailed(f"{type(error).__name__}: {error}")],
                source="engine",
            )

    async def _run(self) -> None:
        spec = await self._spec()
        self.asset = Asset.parse(spec["asset"])
        self.bar_size = BarSize(spec["primary_bar_size"])
        self.higher = [BarSize(s) for s in spec["bar_sizes"] if s != spec["primary_bar_size"]]
        self.orders = OrderManager(
            self.operation_id,
            self.asset.name,
            self.deps.journal,
            self.deps.broker,
            self.deps.max_position_size,
        )
        self.orders.instrument = await self._instrument()
        self.orders.request_reconcile = self.deps.request_reconcile
        cursors = await self._warm_up(spec)
        source = self.deps.source_factory(self.asset, self.bar_size, self.higher, cursors)
        pending: list[tuple[BarSize, Bar]] = []
        self.feed_started = self.deps.clock()
        async for size, bar in source.events():
            await self._bar_arrived(size, bar)
            if size != self.bar_size:
                pending.append((size, bar))
                continue
            await self._report_rejected(source)
            await self.on_higher_bars(pending)
            pending = []
            await self.on_bar(bar)
            if (await self._spec())["status"] == "closed":
                return
        await self.on_higher_bars(pending)
        await self._report_rejected(source)
        await self._feed_ended()

    def feed_clock(self) -> dict[BarSize, datetime]:
        """Per bar size, when its feed last showed life: the close of its last
        bar, or when the feed started if that is later (empty before)."""
        if self.feed_started is None:
            return {}
        return {
            size: max(self.feed_started, self.last_close.get(size, self.feed_started))
            for size in (self.bar_size, *self.higher)
        }

    async def _bar_arrived(self, size: BarSize, bar: Bar) -> None:
        """Note the bar's close; journal MARKET_DATA_RESUMED after a stale spell."""
        self.last_close[size] = bar.time + size.duration
        state = await self.deps.journal.state(self.operation_id)
        if size.value in state.stale_bar_sizes:
            await self.deps.journal.record(
                self.operation_id, [ev.MarketDataResumed(size.value, bar.time)], source="engine"
            )

    async def _instrument(self) -> InstrumentSpec | None:
        """The asset's specification from the broker, once per runner (None,
        logged, when the broker cannot say: orders then go as computed)."""
        try:
            return await fetch_spec(self.deps.broker, self.asset.name)
        except LookupError as error:
            log.warning("operation %s: %s", self.operation_id, error)
            return None

    async def _feed_ended(self) -> None:
        self.feed_done = True
        async with self.lock:
            await self._flush_bars()
        retention = (await self._spec())["data_retention_bars"]
        for size in (self.bar_size, *self.higher):
            await self.deps.market_data.trim(self.operation_id, size, retention)
        async with self.lock:
            await self.settle("engine")
        log.info("operation %s: feed ended after %d bars", self.operation_id, self.bars_processed)

    async def _report_rejected(self, source: MarketSource) -> None:
        """Journal each file's rejected rows once per operation and file."""
        if not any(source.rejected.values()):
            return
        state = await self.deps.journal.state(self.operation_id)
        for name, rejected in source.rejected.items():
            if not rejected or name in state.rejected_data_files:
                continue
            rows = [{"line": r.line, "reason": r.reason} for r in rejected]
            await self.deps.journal.record(
                self.operation_id, [ev.MarketDataRejected(name, rows)], source="engine"
            )
            state = await self.deps.journal.state(self.operation_id)

    async def _spec(self) -> dict[str, Any]:
        state = await self.deps.journal.state(self.operation_id)
        assert state.operation is not None
        return state.operation

    async def _warm_up(self, spec: dict[str, Any]) -> dict[BarSize, datetime | None]:
        """Rebuild strategy state from stored bars (higher bar sizes aligned
        by close time); return, per bar size, the last stored bar's time.

        The feed resumes after the last *stored* bar. A bar processed but not
        stored before a crash is shown again: the paper broker ignores a bar
        it has already worked, and a signal already journaled for it is not
        acted on twice (see :meth:`on_bar`)."""
        self._build_strategy(spec)
        keep = spec["data_retention_bars"]
        primary = await self.deps.market_data.last_bars(self.operation_id, self.bar_size, keep)
        higher = {
            size: await self.deps.market_data.last_bars(self.operation_id, size, keep)
            for size in self.higher
        }
        aligner = TimeframeAligner(higher)
        for bar in primary:
            for size, closed in aligner.due(close_time(bar, self.bar_size)):
                self.strategy.on_higher_bar(self.strategy_state, size.value, closed)
            self._observe(bar)
        self.last_bar = primary[-1] if primary else None
        state = await self.deps.journal.state(self.operation_id)
        held = state.position.side if state.position else None
        self.strategy.sync_position(self.strategy_state, held)
        cursors: dict[BarSize, datetime | None] = {self.bar_size: _last_time(primary)}
        cursors.update({size: _last_time(bars) for size, bars in higher.items()})
        return cursors

    def _build_strategy(self, spec: dict[str, Any]) -> None:
        self.strategy = create_strategy(spec["strategy_name"], spec["strategy_config"])
        self.strategy_state = self.strategy.new_state()
        self.atr = ATR(ATR_PERIOD)
        self.recent_bars.clear()
        self._strategy_config = dict(spec["strategy_config"])

    def _observe(self, bar: Bar) -> Signal | None:
        self.atr.update(bar)
        self.recent_bars.append(bar)
        return self.strategy.on_bar(self.strategy_state, bar)

    async def on_bar(self, bar: Bar) -> None:
        async with self.lock:
            spec = await self._spec()
            if spec["strategy_config"] != self._strategy_config:
                await self._warm_up(spec)  # new parameters: rebuild from stored bars
            if self.deps.market is not None:
                await self.deps.market.on_bar(self.operation_id, self.asset.name, bar)
            fault_point("after_bar")
            self.last_bar = bar
            signal = self._observe(bar)
            state = await self.deps.journal.state(self.operation_id)
            already = state.last_bar_time is not None and bar.time <= state.last_bar_time
            if state.status == "closing":
                await self._progress_close("engine")
            elif signal is not None and state.status in ("active", "paused") and not already:
                assert self.orders is not None
                await self.orders.on_signal(
                    signal,
                    bar,
                    self.bar_size.value,
                    self.atr.value,
                    recent_bars=list(self.recent_bars),
                )
            await self._store_bar(bar, spec)

    async def on_higher_bars(self, bars: list[tuple[BarSize, Bar]]) -> None:
        """Closed bars of higher bar sizes: to the strategy, then stored."""
        if not bars:
            return
        async with self.lock:
            for size, bar in bars:
                self.strategy.on_higher_bar(self.strategy_state, size.value, bar)
            keep = (await self._spec())["data_retention_bars"]
            for size in {s for s, _ in bars}:
                recent = [b for s, b in bars if s == size][-keep:]
                await self.deps.market_data.save_many(self.operation_id, self.asset, size, recent)

    async def _store_bar(self, bar: Bar, spec: dict[str, Any]) -> None:
        """Buffer the processed bar; store the buffer every STORE_EVERY_BARS
        (at the operation's own phase: a first, shorter buffer).

        Losing the buffer in a crash is safe: the feed resumes after the last
        stored bar, the broker ignores bars it has worked, and a signal
        already journaled for a bar is not acted on twice."""
        atr = self.atr.value
        indicators = {"atr": atr} if atr is not None else {}
        self._unstored.append((bar, indicators))
        self.bars_processed += 1
        if (self.bars_processed + self._phase) % STORE_EVERY_BARS == 0:
            await self._flush_bars()
        if (self.bars_processed + self._phase) % TRIM_EVERY_BARS == 0:
            await self.deps.market_data.trim(
                self.operation_id, self.bar_size, spec["data_retention_bars"]
            )

    def unstored_bars(self) -> list[Bar]:
        """Primary bars processed but not yet stored (at most STORE_EVERY_BARS)."""
        return [bar for bar, _ in self._unstored]

    async def _flush_bars(self) -> None:
        bars, self._unstored = self._unstored, []
        await self.deps.market_data.save_many(self.operation_id, self.asset, self.bar_size, bars)

    async def close_position(self, position_id: str, source: str, user: str | None) -> None:
        """Close the open position ``position_id`` at market.

        Raises:
            InvalidStateError: that position is not the operation's open one.
        """
        async with self.lock:
            state = await self.deps.journal.state(self.operation_id)
            if state.position is None or state.position.doc["_id"] != position_id:
                raise InvalidStateError(f"position {position_id} is not open")
            assert self.orders is not None
            await self.orders.flatten("closed by hand", source, user)
            await self.settle(source)

    async def close(self, source: str, user: str | None) -> None:
        """Stop opening positions, flatten, and close the operation when flat."""
        async with self.lock:
            await self.deps.journal.record(
                self.operation_id,
                [ev.OperationCloseRequested("close requested")],
                source=source,
                user=user,
            )
            await self._progress_close(source, user)

    async def settle(self, source: str) -> None:
        """After the feed has ended, fill what would wait for a next bar."""
        if self.feed_done and self.deps.market is not None and self.orders is not None:
            await self.deps.market.fill_at_last_price(self.operation_id, self.asset.name)
        if (await self._spec())["status"] == "closing":
            await self._progress_close(source)

    async def _progress_close(self, source: str, user: str | None = None) -> None:
        assert self.orders is not None
        await self.orders.flatten("operation closing", source, user)
        if self.feed_done and self.deps.market is not None:
            await self.deps.market.fill_at_last_price(self.operation_id, self.asset.name)
        state = await self.deps.journal.state(self.operation_id)
        if state.status == "closing" and state.position is None and not state.working_orders():
            await self.deps.journal.record(
                self.operation_id, [ev.OperationClosed("flat")], source=source, user=user
            )


def _last_time(bars: list[Bar]) -> datetime | None:
    return bars[-1].time if bars else None
