"""Supervision of the running operations: stale market data and continuous
reconciliation with the broker.

:meth:`EngineMonitor.tick` (run every ``check_seconds`` by :meth:`run`; tests
call it with their own clock):

* **stale market data** (only for a live feed from a broker, never for
  replay files): a bar size of a running operation with no bar for more than
  twice its duration plus ``grace_seconds`` of FX trading time
  (:func:`~live_trading.domain.market_hours.feed_stale`: weekends do not
  count) is journaled MARKET_DATA_STALE once; the runner journals
  MARKET_DATA_RESUMED when its bars come again. ``/health`` reports the
  stale feeds (status ``degraded``).
* **continuous reconciliation** every ``reconcile_seconds`` (0: never),
  and at every tick for the operations whose last reconciliation was
  deferred or that asked for one (:meth:`request`): each running operation is
  reconciled (:meth:`RecoveryService.reconcile`: missed fills adopted once by
  execution id, every difference journaled RECONCILIATION_MISMATCH, a
  position that still differs halts the operation) under its runner's lock,
  so that no order is in flight between the journal's view and the broker's.
  Reconciliation never sends an order (it only cancels strays).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from live_trading.domain import events as ev
from live_trading.domain.market_hours import feed_stale
from live_trading.domain.values import utc_now

if TYPE_CHECKING:
    from .trading_engine import TradingEngine

log = logging.getLogger("live_trading.engine")

RUNNING_STATUSES = ("active", "paused", "closing")


class Reconciler(Protocol):
    """What the monitor needs of :class:`~.recovery.RecoveryService`."""

    pending: dict[str, str]  # operation id -> why its last reconciliation was deferred

    async def reconcile(self, operation_id: str) -> dict[str, Any]: ...


class EngineMonitor:
    def __init__(
        self,
        engine: TradingEngine,
        reconciler: Reconciler | None,
        *,
        reconcile_seconds: float,
        grace_seconds: float,
        check_seconds: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.reconciler = reconciler
        self.reconcile_seconds = reconcile_seconds
        self.grace_seconds = grace_seconds
        self.check_seconds = check_seconds
        self.clock = clock
        self.requested: set[str] = set()
        self._next_reconcile: datetime | None = None

    async def run(self) -> None:
        """Tick every ``check_seconds`` until cancelled; a failing tick is
        logged and the next one runs."""
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("engine monitor tick failed")

    def request(self, operation_id: str) -> None:
        """Reconcile ``operation_id`` at the next tick."""
        self.requested.add(operation_id)

    async def tick(self, now: datetime | None = None) -> None:
        now = now or self.clock()
        await self.check_stale(now)
        if self._next_reconcile is None:
            self._next_reconcile = now + timedelta(seconds=self.reconcile_seconds)
        due = self.reconcile_seconds > 0 and now >= self._next_reconcile
        if due:
            self._next_reconcile = now + timedelta(seconds=self.reconcile_seconds)
        pending = set(self.reconciler.pending if self.reconciler else ()) | self.requested
        for operation_id in await self.running():
            if due or operation_id in pending:
                await self.reconcile(operation_id)

    async def running(self) -> list[str]:
        """Ids of the operations with a runner whose status is running."""
        found = []
        for operation_id in list(self.engine.runners):
            if (await self.engine.journal.state(operation_id)).status in RUNNING_STATUSES:
                found.append(operation_id)
        return found

    async def reconcile(self, operation_id: str) -> dict[str, Any] | None:
        """Reconcile one operation under its runner's lock; None when there
        is no reconciler or it failed (logged; retried at the next tick)."""
        if self.reconciler is None:
            return None
        self.requested.discard(operation_id)
        runner = self.engine.runners.get(operation_id)
        lock = runner.lock if runner is not None else contextlib.nullcontext()
        try:
            async with lock:
                return await self.reconciler.reconcile(operation_id)
        except Exception:
            log.exception("operation %s: reconciliation failed", operation_id)
            self.requested.add(operation_id)
            return None

    async def check_stale(self, now: datetime) -> None:
        """Journal MARKET_DATA_STALE once per late bar size (live feeds only)."""
        if self.engine.uses_replay:
            return
        for operation_id in await self.running():
            runner = self.engine.runners[operation_id]
            state = await self.engine.journal.state(operation_id)
            for size, last_seen in runner.feed_clock().items():
                bar_seconds = size.duration.total_seconds()
                if size.value in state.stale_bar_sizes or not feed_stale(
                    last_seen, now, bar_seconds, self.grace_seconds
                ):
                    continue
                log.warning(
                    "operation %s: no %s bar since %s",
                    operation_id,
                    size.value,
                    last_seen.isoformat(),
                )
                await self.engine.journal.record(
                    operation_id,
                    [
                        ev.MarketDataStale(
                            size.value, last_seen, 2 * bar_seconds + self.grace_seconds
                        )
                    ],
                    source="engine",
                )

    async def stale_feeds(self) -> list[dict[str, Any]]:
        """``[{"operation_id", "bar_sizes"}]`` of the running operations whose
        feed is stale (for ``/health``)."""
        found = []
        for operation_id in await self.running():
            state = await self.engine.journal.state(operation_id)
            if state.stale_bar_sizes:
                found.append(
                    {"operation_id": operation_id, "bar_sizes": sorted(state.stale_bar_sizes)}
                )
        return found
