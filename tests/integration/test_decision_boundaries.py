"""A user's command takes effect between two decisions, never inside one.

Pause and resume wait for a decision in progress (the runner's lock, held
while a bar is decided and its orders are sent): the journal shows the
decision's effects, then the command.
"""

from __future__ import annotations

import asyncio

from tests.integration.recovery_helpers import crashable, entries, run_operation


async def test_a_pause_waits_for_the_decision_in_progress(mongo_url, tmp_path):
    services = await crashable(mongo_url, tmp_path).boot()
    op = await run_operation(services)
    before = (await services.journal.state(op)).last_sequence
    runner = services.engine.runners[op]
    async with runner.lock:  # a decision in progress: it closes the position
        assert runner.orders is not None
        exiting = asyncio.create_task(runner.orders.flatten("signal: reversal", "engine"))
        pausing = asyncio.create_task(services.engine.pause(op, source="api/manual", user="ann"))
        await exiting
        await asyncio.sleep(0.2)
        assert not pausing.done(), "the pause waits for the decision"
        kinds = [e.action_type for e in await entries(services, op, before)]
        assert "OPERATION_PAUSED" not in kinds and "ORDER_SUBMITTED" in kinds
    await pausing
    new = await entries(services, op, before)
    kinds = [e.action_type for e in new]
    assert kinds[-1] == "OPERATION_PAUSED" and new[-1].user == "ann"
    assert kinds.index("ORDER_SUBMITTED") < kinds.index("OPERATION_PAUSED")
    assert (await services.journal.state(op)).status == "paused"
    await services.engine.stop()
    await services.store.client.close()


async def test_a_resume_waits_for_the_decision_in_progress(mongo_url, tmp_path):
    services = await crashable(mongo_url, tmp_path).boot()
    op = await run_operation(services)
    await services.engine.pause(op, source="api/manual")
    runner = services.engine.runners[op]
    async with runner.lock:
        resuming = asyncio.create_task(services.engine.resume(op, source="api/manual"))
        await asyncio.sleep(0.2)
        assert not resuming.done()
        assert (await services.journal.state(op)).status == "paused"
    await resuming
    assert (await services.journal.state(op)).status == "active"
    await services.engine.stop()
    await services.store.client.close()
