"""A scheduled trading cycle cancelled by a shutdown ends quietly: the
scheduler would log the cancellation as a failed job with a traceback (seen
in the kill -9 harness's clean stop), and a stop waiting for it returns."""

from __future__ import annotations

import asyncio
import logging

from live_trading.engine.worker import TradingWorker


class _Hanging:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def run_cycle(self, source, user=None):
        self.started.set()
        await asyncio.Event().wait()


async def test_a_cycle_cancelled_by_shutdown_is_not_an_error(caplog) -> None:
    cycles = _Hanging()
    worker = TradingWorker(cycles, enabled=True, interval_seconds=60)  # type: ignore[arg-type]
    observed: list[str] = []
    worker.observer = lambda source, outcome, seconds: observed.append(outcome)
    task = asyncio.create_task(worker._scheduled())
    await cycles.started.wait()
    with caplog.at_level(logging.INFO, logger="live_trading.worker"):
        task.cancel()
        assert await task is None, "the job ends without raising"
    assert "interrupted by shutdown" in caplog.text
    assert observed == ["error"], "the cycle is still counted as not done"
    await worker.stop()  # nothing in progress any more: returns at once
