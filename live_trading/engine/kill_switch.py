"""The kill switch: flatten every position and pause every operation, now.

A press works through the operations concurrently (at most
``concurrency`` at a time, so a thousand operations do not open a thousand
broker calls at once). For each operation, under its runner's lock (so a
decision in progress finishes first and nothing interleaves with it):

1. one journal append: ``RISK_RULE_TRIGGERED`` (``kill_switch``) and, for an
   active operation, ``OPERATION_PAUSED`` — the cause before its effects;
2. the working orders are cancelled and the position closed at market
   (the exit's intent written ahead like any order).

An operation already paused (or closing) with no position and no working
order is left alone and nothing is journaled for it (``already``).

Idempotent: a press while another runs joins it — it waits for the same
run and gets the same answer, and journals nothing. The run in progress
(or the last one) is readable at any time for a progress view.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from live_trading.domain import events as ev
from live_trading.domain.values import utc_now

if TYPE_CHECKING:
    from .runner import OperationRunner
    from .trading_engine import TradingEngine

log = logging.getLogger("live_trading.kill_switch")

Outcome = Literal["flat", "closing", "already", "skipped", "failed"]
ACTING_STATUSES = ("active", "paused", "closing")
REASON = "flatten every position, pause the operation"


@dataclass
class KillSwitchResult:
    """What the kill switch did to one operation.

    ``outcome``: ``flat`` (paused and no position left), ``closing`` (paused,
    the exit is working at the broker: its fill follows on the feed),
    ``already`` (was paused and flat: nothing journaled), ``skipped`` (not
    running: closed or in error) or ``failed`` (``detail`` holds the error).
    """

    operation_id: str
    outcome: Outcome
    detail: str | None = None


@dataclass
class KillSwitchRun:
    """One press (and the presses that joined it).

    ``total``: operations it covers; ``results``: one per operation done so
    far (in the order they finished); times are timezone-aware UTC.
    """

    source: str
    user: str | None
    total: int
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    presses: int = 1
    results: list[KillSwitchResult] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def acted_on(self) -> list[str]:
        """Ids of the operations it paused or flattened (not ``already`` /
        ``skipped`` / ``failed``)."""
        return [r.operation_id for r in self.results if r.outcome in ("flat", "closing")]


class KillSwitch:
    """Runs kill-switch presses for one engine (see the module docstring)."""

    def __init__(self, engine: TradingEngine, *, concurrency: int = 32) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.engine = engine
        self.concurrency = concurrency
        self.last: KillSwitchRun | None = None  # the run in progress, or the last one
        self._task: asyncio.Task[None] | None = None

    async def press(self, *, source: str, user: str | None = None) -> tuple[KillSwitchRun, bool]:
        """Flatten and pause everything; returns ``(run, joined)`` once the
        run has finished. ``joined`` is True when another press was already
        running: this one waited for it and journaled nothing.

        The run goes on if the caller is cancelled (a client that gave up
        waiting): the switch is never left half-pressed.
        """
        if self._task is not None and not self._task.done() and self.last is not None:
            run = self.last
            run.presses += 1
            await asyncio.shield(self._task)
            return run, True
        runners = list(self.engine.runners.items())
        run = KillSwitchRun(source=source, user=user, total=len(runners))
        self.last = run
        self._task = asyncio.create_task(self._run(run, runners), name="kill-switch")
        await asyncio.shield(self._task)
        return run, False

    def running_task(self) -> asyncio.Task[None] | None:
        """The press in progress (for the engine's shutdown), else None."""
        return self._task if self._task is not None and not self._task.done() else None

    async def _run(self, run: KillSwitchRun, runners: list[tuple[str, OperationRunner]]) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(operation_id: str, runner: OperationRunner) -> None:
            async with gate:
                run.results.append(await self._operation(operation_id, runner, run))

        try:
            await asyncio.gather(*(one(op, runner) for op, runner in runners))
        finally:
            run.finished_at = utc_now()
            acted = len(run.acted_on())
            log.warning("kill switch: %d of %d operation(s) paused/flattened", acted, run.total)

    async def _operation(
        self, operation_id: str, runner: OperationRunner, run: KillSwitchRun
    ) -> KillSwitchResult:
        try:
            async with runner.lock:  # a decision in progress finishes first
                return await self._flatten_and_pause(operation_id, runner, run)
        except Exception as error:  # noqa: BLE001 - one operation must not stop the rest
            log.exception("kill switch: operation %s failed", operation_id)
            return KillSwitchResult(operation_id, "failed", f"{type(error).__name__}: {error}")

    async def _flatten_and_pause(
        self, operation_id: str, runner: OperationRunner, run: KillSwitchRun
    ) -> KillSwitchResult:
        journal = self.engine.journal
        state = await journal.state(operation_id)
        if state.status not in ACTING_STATUSES:
            return KillSwitchResult(operation_id, "skipped", f"status {state.status}")
        flat = state.position is None and not state.working_orders()
        if state.status != "active" and flat:
            return KillSwitchResult(operation_id, "already", f"already {state.status} and flat")
        events: list[ev.Event] = [ev.RiskRuleTriggered("kill_switch", REASON)]
        if state.status == "active":
            events.append(ev.OperationPaused("kill switch"))
        if runner.orders is None:
            await journal.record(operation_id, events, source=run.source, user=run.user)
        else:  # the pause, the cancels and the exit in one append
            await runner.orders.flatten("kill switch", run.source, run.user, head=events)
            await runner.settle(run.source)
        state = await journal.state(operation_id)
        return KillSwitchResult(operation_id, "flat" if state.position is None else "closing")
