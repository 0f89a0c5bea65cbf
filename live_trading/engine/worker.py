"""The trading worker: trading cycles on a schedule, with nobody watching.

An APScheduler ``AsyncIOScheduler`` runs :meth:`TradingCycles.run_cycle`
with source ``worker`` every ``TRADING_WORKER_INTERVAL_SECONDS`` (default
60) when ``TRADING_WORKER_ENABLED`` (default true). It starts with the
backend and stops on shutdown, waiting for a cycle in progress. At most one
cycle runs at a time; a run that is due while one is still going is skipped
(``max_instances=1``, ``coalesce``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from live_trading.domain.values import utc_now

from .cycle import WORKER_SOURCE, TradingCycles

log = logging.getLogger("live_trading.worker")

CycleObserver = Callable[[str, str, float], None]  # source, "ok"|"error", seconds
JOB_ID = "trading-cycle"


class TradingWorker:
    def __init__(
        self,
        cycles: TradingCycles,
        *,
        enabled: bool,
        interval_seconds: float,
        observer: CycleObserver | None = None,
    ) -> None:
        self.cycles = cycles
        self.enabled = enabled
        self.interval_seconds = interval_seconds
        self.observer = observer
        self.cycles_run = 0
        self.last_cycle_at: datetime | None = None
        self.last_result: dict[str, Any] | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._current: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> None:
        """Schedule cycles (no-op when disabled); call inside the event loop."""
        if not self.enabled or self.running:
            return
        # each run is logged by the cycle itself; APScheduler's per-run lines are noise
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._scheduled,
            "interval",
            seconds=self.interval_seconds,
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(self.interval_seconds)),
        )
        self._scheduler.start()
        log.info("trading worker started: a cycle every %gs", self.interval_seconds)

    async def stop(self) -> None:
        """Stop scheduling and wait for a cycle in progress to finish."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        if self._current is not None and not self._current.done():
            await asyncio.gather(self._current, return_exceptions=True)

    async def _scheduled(self) -> None:
        self._current = asyncio.current_task()
        try:
            await self.run(WORKER_SOURCE)
        except asyncio.CancelledError:
            # the process is shutting down (its stop was itself cancelled):
            # an append in flight still commits (group commit is shielded),
            # the rest of the cycle is simply not done; not an error
            log.info("scheduled trading cycle interrupted by shutdown")

    async def run(
        self, source: str, user: str | None = None, position_id: str | None = None
    ) -> dict[str, Any]:
        """Run one cycle now (all active operations, or one position's) and
        record its outcome in the status.

        Raises:
            OperationNotFoundError, InvalidStateError: see
                :meth:`TradingCycles.run_cycle_for_position`.
        """
        started = time.perf_counter()
        outcome = "error"
        try:
            if position_id is None:
                result = await self.cycles.run_cycle(source, user)
            else:
                result = await self.cycles.run_cycle_for_position(position_id, source, user)
            outcome = "ok" if result["errors"] == 0 else "error"
            self._remember(result, outcome)
            return result
        except Exception as error:
            if source == WORKER_SOURCE:
                log.exception("scheduled trading cycle failed")
                self._remember(
                    {"source": source, "error": f"{type(error).__name__}: {error}"}, "error"
                )
                return self.last_result or {}
            raise
        finally:
            if self.observer is not None:
                self.observer(source, outcome, time.perf_counter() - started)

    def _remember(self, result: dict[str, Any], outcome: str) -> None:
        self.cycles_run += 1
        self.last_cycle_at = result.get("finished_at") or utc_now()
        operations = result.get("operations", [])
        self.last_result = {
            "result": outcome,
            "source": result.get("source"),
            "cycle_id": result.get("cycle_id"),
            "operations": len(operations),
            "evaluated": sum(1 for o in operations if o.get("status") == "done"),
            "actions": sum(len(o.get("actions", [])) for o in operations),
            "errors": result.get("errors", 0),
            **({"error": result["error"]} if "error" in result else {}),
        }
        log.info(
            "trading cycle %s (%s): %s",
            self.last_result["cycle_id"],
            self.last_result["source"],
            outcome,
            extra={
                k: self.last_result[k] for k in ("operations", "evaluated", "actions", "errors")
            },
        )

    def status(self) -> dict[str, Any]:
        """``running``, ``enabled``, ``interval_seconds``, ``cycles``,
        ``last_cycle_at`` (UTC), ``next_run_at`` and ``last_result``."""
        scheduler = self._scheduler
        job = scheduler.get_job(JOB_ID) if scheduler is not None and scheduler.running else None
        return {
            "running": self.running,
            "enabled": self.enabled,
            "interval_seconds": self.interval_seconds,
            "cycles": self.cycles_run,
            "last_cycle_at": self.last_cycle_at,
            "next_run_at": job.next_run_time if job is not None else None,
            "last_result": self.last_result,
        }
