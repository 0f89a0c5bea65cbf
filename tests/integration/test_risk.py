"""Risk rules on real USD-CAD data: each fires, is journaled, and holds."""

from __future__ import annotations

import asyncio

from live_trading.domain.values import BarSize
from tests.conftest import make_settings
from tests.integration.recovery_helpers import (
    Crashable,
    crashable,
    entries,
    run_operation,
    truncated_replay_dir,
)


def _signal_day(record) -> str:
    opened = record.action_data["bar"]["time"]
    return (opened + BarSize.HOUR_1.duration).date().isoformat()


async def test_max_daily_loss_stops_new_positions_for_the_rest_of_the_day(mongo_url, tmp_path):
    process = crashable(mongo_url, tmp_path, bars=1200)
    services = await process.boot()
    op = await run_operation(services, max_daily_loss=1.0)
    records = await entries(services, op)
    fired = [r for r in records if r.action_type == "RISK_RULE_TRIGGERED"]
    assert fired and all(r.action_data["rule"] == "max_daily_loss" for r in fired)
    days = [r.action_data["day"] for r in fired]
    assert len(days) == len(set(days)), "fires once per day"
    assert all(r.action_data["value"] <= -1.0 for r in fired)
    for rule in fired:
        later = [r for r in records if r.sequence_number > rule.sequence_number]
        same_day = [
            r
            for r in later
            if r.action_type == "SIGNAL_GENERATED" and _signal_day(r) == rule.action_data["day"]
        ]
        for signal in same_day:
            if signal.action_data["target"] is not None:
                assert "entry refused: max_daily_loss" in signal.action_data["decision"]
    refused = [
        r
        for r in records
        if r.action_type == "SIGNAL_GENERATED" and "entry refused" in r.action_data["decision"]
    ]
    opened_later = [
        r
        for r in records
        if r.action_type == "SIGNAL_GENERATED"
        and r.action_data["decision"].startswith(("open", "close LONG; open", "close SHORT; open"))
        and _signal_day(r) > days[0]
    ]
    assert refused, "the rule must have refused at least one entry"
    assert opened_later, "trading resumes on a later day"
    await services.engine.stop()
    await services.store.client.close()


async def test_max_position_size_refuses_entries_after_a_lower_limit(mongo_url, tmp_path):
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services, quantity=10_000, crash_recovery_mode="RESUME")
    seq = (await services.journal.state(op)).last_sequence
    await process.crash()
    lower = make_settings(
        mongo_url,
        replay_data_dir=truncated_replay_dir(tmp_path / "more", bars=400),
        mongodb_db_name=process.settings.mongodb_db_name,
        risk_management={"max_position_size": 5_000},
    )
    services = await Crashable(lower).boot()
    await services.engine.wait_idle()
    new = await entries(services, op, seq)
    fired = [r for r in new if r.action_type == "RISK_RULE_TRIGGERED"]
    assert fired and fired[0].action_data == {
        "rule": "max_position_size",
        "action": "entry refused",
        "limit": 5000.0,
        "value": 10000.0,
        "day": None,
    }
    entries_sent = [
        r for r in new if r.action_type == "ORDER_SUBMITTED" and r.action_data["role"] == "ENTRY"
    ]
    assert entries_sent == []
    await services.engine.stop()
    await services.store.client.close()


async def test_kill_switch_flattens_and_pauses_everything(mongo_url, tmp_path):
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    first = await run_operation(services)
    second = await run_operation(services, strategy_config={"fast_period": 5, "slow_period": 20})
    assert (await services.journal.state(first)).position is not None
    run, joined = await services.engine.kill_switch(source="api/manual")
    assert not joined and not run.running and run.total == 2
    assert sorted(run.acted_on()) == sorted([first, second])
    assert {r.outcome for r in run.results} == {"flat"}
    for op in (first, second):
        state = await services.journal.state(op)
        assert state.status == "paused" and state.position is None
        assert not state.working_orders()
        kinds = [r.action_type for r in await entries(services, op)]
        fired = kinds.index("RISK_RULE_TRIGGERED")
        assert kinds[fired + 1] == "OPERATION_PAUSED", "cause, then the pause, in one append"
        assert "ORDER_SUBMITTED" in kinds[fired + 2 :], "the exit follows the pause"
    again, joined = await services.engine.kill_switch(source="api/manual")
    assert not joined and again.acted_on() == []
    assert {r.outcome for r in again.results} == {"already"}
    for op in (first, second):
        kinds = [r.action_type for r in await entries(services, op)]
        assert kinds.count("RISK_RULE_TRIGGERED") == 1, (
            "a press on a flat, paused book journals nothing"
        )
    await services.engine.stop()
    await services.store.client.close()


async def test_a_second_press_while_the_first_runs_joins_it_and_journals_nothing(
    mongo_url, tmp_path
):
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    first = await run_operation(services)
    second = await run_operation(services, strategy_config={"fast_period": 5, "slow_period": 20})
    before = {op: (await services.journal.state(op)).last_sequence for op in (first, second)}
    busy = services.engine.runners[first].lock
    await busy.acquire()  # a decision in progress on the first operation
    pressed = asyncio.create_task(services.engine.kill_switch(source="api/manual", user="ann"))
    while (
        not services.engine.kill_switch_runs.last
        or not services.engine.kill_switch_runs.last.results
    ):
        await asyncio.sleep(0.01)  # the second operation is done; the first waits
    assert [e.action_type for e in await entries(services, first, before[first])] == []
    joining = asyncio.create_task(services.engine.kill_switch(source="api/manual", user="bob"))
    await asyncio.sleep(0.2)
    assert not pressed.done() and not joining.done(), "both wait for the decision in progress"
    busy.release()
    (run, joined_first), (same, joined_second) = await asyncio.gather(pressed, joining)
    assert same is run and (joined_first, joined_second) == (False, True)
    assert run.presses == 2 and run.user == "ann" and run.finished_at is not None
    assert sorted(run.acted_on()) == sorted([first, second])
    for op in (first, second):
        new = await entries(services, op, before[op])
        fired = [e for e in new if e.action_type == "RISK_RULE_TRIGGERED"]
        paused = [e for e in new if e.action_type == "OPERATION_PAUSED"]
        assert len(fired) == 1 and len(paused) == 1, "the joining press journaled nothing"
        assert new[0].action_type == "RISK_RULE_TRIGGERED" and new[0].user == "ann"
        assert (await services.journal.state(op)).position is None
    await services.engine.stop()
    await services.store.client.close()


async def test_stopping_the_engine_stops_a_press_in_progress(mongo_url, tmp_path):
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services)
    busy = services.engine.runners[op].lock
    await busy.acquire()  # the press waits on a decision in progress
    pressed = asyncio.create_task(services.engine.kill_switch(source="api/manual"))
    while services.engine.kill_switch_runs.running_task() is None:
        await asyncio.sleep(0.01)
    await services.engine.stop()
    assert services.engine.kill_switch_runs.running_task() is None
    busy.release()
    await asyncio.gather(pressed, return_exceptions=True)
    assert pressed.done()
    kinds = [e.action_type for e in await entries(services, op)]
    assert "RISK_RULE_TRIGGERED" not in kinds, "nothing journaled once the engine stopped"
    await services.store.client.close()
