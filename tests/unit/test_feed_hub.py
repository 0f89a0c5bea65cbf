"""The live feed's hub and sessions, against the real wire-protocol server.

Entries are appended through the real :class:`JournalService`; what the hub
delivers is compared with the journal, with the changes the journal service
computed at write time and with the documents in the database.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from live_trading.domain import events as ev
from live_trading.domain.projection import fold
from live_trading.domain.snapshot import state_to_snapshot
from live_trading.feed import (
    FeedClosedError,
    FeedHub,
    FeedItem,
    FeedSession,
    SlowSubscriberError,
    Subscription,
)
from live_trading.feed.messages import changes_json, jsonable
from live_trading.feed.sources import decode_change
from live_trading.feed.state import state_as_of
from live_trading.journal.documents import READ_MODELS
from live_trading.journal.serialize import document_json, journal_json
from live_trading.journal.service import normalise

SPEC: dict[str, Any] = {
    "asset": "USD-CAD",
    "bar_sizes": ["1 hour"],
    "primary_bar_size": "1 hour",
    "strategy_name": "MomentumStrategy",
    "strategy_config": {},
    "stop_loss_type": "ATR",
    "stop_loss_value": 1.5,
    "take_profit_type": "RISK_REWARD",
    "take_profit_value": 2.0,
    "crash_recovery_mode": "CLOSE_ALL",
    "emergency_stop_loss_pct": 0.05,
    "data_retention_bars": 1000,
    "quantity": 10000.0,
    "initial_capital": 100000.0,
    "broker": "PAPER",
}
T0 = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


def round_trip() -> list[ev.Event]:
    """A long position opened and closed: orders, transactions, a position
    and a trade are all changed along the way."""
    return [
        ev.OrderSubmitted("C1", "ENTRY", "BUY", "MARKET", 10000.0),
        ev.OrderAccepted("C1", "B1"),
        ev.OrderFilled("X1", "C1", "B1", "BUY", 10000.0, 1.4350, 0.287, T0),
        ev.OrderSubmitted("C2", "EXIT", "SELL", "MARKET", 10000.0),
        ev.OrderAccepted("C2", "B2"),
        ev.OrderFilled("X2", "C2", "B2", "SELL", 10000.0, 1.4390, 0.2878, T0 + timedelta(hours=3)),
        ev.OperationPaused("test"),
    ]


async def new_operation(services, op: str | None = None) -> str:
    op = op or str(ObjectId())
    await services.journal.record(
        op, [ev.OperationCreated(SPEC)], source="test", new_operation=True
    )
    return op


async def take(subscription: Subscription, count: int, timeout: float = 10) -> list[FeedItem]:
    return [await asyncio.wait_for(subscription.get(), timeout) for _ in range(count)]


async def until(condition, timeout: float = 10) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


async def db_json(collection: str, doc_id: str) -> dict[str, Any]:
    stored = await READ_MODELS[collection].get(ObjectId(doc_id))
    return jsonable(document_json(stored))


@pytest.mark.parametrize("source", ["change_stream", "poll"])
async def test_hub_delivers_each_entry_once_with_the_changes_written(services, source) -> None:
    written: dict[int, dict] = {}

    async def on_commit(records, changes) -> None:
        assert len(records) == 1
        written[records[0].sequence_number] = changes_json(
            {key: normalise(doc) for key, doc in changes.items()}
        )

    services.journal.subscribe(on_commit)
    hub = FeedHub(services.journal_store, feed_source=source, poll_seconds=0.05)
    await hub.start()
    try:
        assert hub.source_kind == source
        op = str(ObjectId())
        overall, mine = hub.subscribe(None), hub.subscribe(op)
        await new_operation(services, op)
        for event in round_trip():
            await services.journal.record(op, [event], source="test")
        items = await take(overall, 8)
        assert [i.sequence_number for i in items] == list(range(1, 9))
        journal = await services.journal_store.read(op)
        assert [i.messages[0]["entry"] for i in items] == [journal_json(r) for r in journal]
        for item in items:
            assert item.messages[0]["changes"] == written[item.sequence_number]
            assert item.messages[0]["replayed"] is False
        assert {"orders", "transactions", "positions", "trades"} <= {
            c for i in items for c in i.messages[0]["changes"]
        }
        for collection, docs in items[-1].messages[0]["changes"].items():
            for doc in docs:
                assert doc == await db_json(collection, doc["id"])
        assert [i.sequence_number for i in await take(mine, 8)] == list(range(1, 9))
        await asyncio.sleep(0.2)
        assert overall.pending == 0 and mine.pending == 0  # nothing delivered twice
    finally:
        await hub.stop()


async def test_a_gap_is_filled_from_the_journal_and_old_records_dropped(services) -> None:
    hub = FeedHub(services.journal_store, feed_source="poll", poll_seconds=3600)
    await hub.start()
    try:
        subscription = hub.subscribe(None)
        op = await new_operation(services)
        for event in round_trip()[:4]:
            await services.journal.record(op, [event], source="test")
        journal = await services.journal_store.read(op)
        await hub.deliver(journal[3])  # seq 4 first: 1..3 are fetched
        await hub.deliver(journal[1])  # already delivered: dropped
        await hub.deliver(journal[4])
        items = await take(subscription, 5)
        assert [i.sequence_number for i in items] == [1, 2, 3, 4, 5]
        assert [i.messages[0]["entry"]["event_id"] for i in items] == [r.event_id for r in journal]
        assert subscription.pending == 0
    finally:
        await hub.stop()


async def test_message_sources_follow_the_entry_and_a_failing_one_is_ignored(services) -> None:
    hub = FeedHub(services.journal_store, feed_source="poll", poll_seconds=0.05)
    hub.add_message_source(lambda r: [{"type": "signal", "seq": r.sequence_number}])
    hub.add_message_source(lambda r: 1 / 0)
    await hub.start()
    try:
        subscription = hub.subscribe(None)
        await new_operation(services)
        (item,) = await take(subscription, 1)
        assert [m["type"] for m in item.messages] == ["journal_entry", "signal"]
        assert item.messages[1]["seq"] == 1
    finally:
        await hub.stop()


async def test_operation_session_replays_then_snapshots_then_goes_live(services) -> None:
    hub = FeedHub(services.journal_store, feed_source="change_stream", poll_seconds=0.05)
    await hub.start()
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    try:
        op = await new_operation(services)
        events = round_trip()
        for event in events[:3]:  # opens the position: seq 2..4
            await services.journal.record(op, [event], source="test")
        session = FeedSession(hub, send)
        task = asyncio.create_task(session.run_operation(op, 2))
        await until(lambda: any(m["type"] == "snapshot" for m in sent))
        for event in events[3:]:
            await services.journal.record(op, [event], source="test")
        await until(lambda: session.sent.get(op) == 8)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await hub.stop()
    entries = [m for m in sent if m["type"] == "journal_entry"]
    assert [m["sequence_number"] for m in entries] == [3, 4, 5, 6, 7, 8]
    assert [m["replayed"] for m in entries] == [True, True, False, False, False, False]
    assert "changes" not in entries[0]
    snapshot = sent[2]
    assert snapshot["type"] == "snapshot" and snapshot["sequence_number"] == 4
    assert [p["quantity"] for p in snapshot["positions"]] == [10000.0]
    assert snapshot["orders"] == []  # the entry order filled
    assert snapshot["operation"]["last_sequence_number"] == 4


async def test_overall_session_backfills_operations_it_was_not_told_of(services) -> None:
    hub = FeedHub(services.journal_store, feed_source="poll", poll_seconds=0.05)
    await hub.start()
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    try:
        a, b = await new_operation(services), await new_operation(services)
        for event in round_trip()[:2]:
            await services.journal.record(a, [event], source="test")
        session = FeedSession(hub, send)
        task = asyncio.create_task(session.run_overall({a: 1}))
        await until(lambda: bool(sent))  # the hello went out before b moves on
        await services.journal.record(b, [ev.OperationPaused("x")], source="test")
        await until(lambda: session.sent.get(b) == 2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await hub.stop()
    assert sent[0] == {"type": "hello", "last_sequences": {a: 3, b: 1}}
    got = [(m["operation_id"], m["sequence_number"]) for m in sent[1:]]
    assert sorted(got) == [(a, 2), (a, 3), (b, 1), (b, 2)]
    assert len(got) == len(set(got))


async def test_state_as_of_equals_the_fold_of_the_prefix_with_or_without_checkpoint(
    services,
) -> None:
    op = await new_operation(services)
    pauses = [ev.OperationPaused("p") if i % 2 == 0 else ev.OperationResumed() for i in range(300)]
    await services.journal.record(op, pauses, source="test")  # crosses 250: a checkpoint
    await services.journal.record(op, round_trip()[:5], source="test")
    assert (await services.journal_store.load_checkpoint(op))["last_sequence"] == 301
    journal = await services.journal_store.read(op)
    for sequence in (0, 1, 120, 301, 304, 306, 400):
        state = await state_as_of(services.journal_store, op, sequence)
        expected, _ = fold(op, journal[:sequence])
        assert state_to_snapshot(state) == state_to_snapshot(expected), sequence


def test_a_subscription_that_overflows_or_ends_raises() -> None:
    async def scenario() -> None:
        slow = Subscription(None, maxsize=2)
        for sequence in (1, 2, 3):
            slow.offer(FeedItem("op", sequence))
        with pytest.raises(SlowSubscriberError):
            await slow.get()
        ended = Subscription("op", maxsize=2)
        ended.offer(FeedItem("op", 1))
        ended.end()
        with pytest.raises(FeedClosedError):
            await ended.get()

    asyncio.run(scenario())


def test_change_events_decode_only_when_in_bson_types() -> None:
    entry = {
        "_id": ObjectId(),
        "operation_id": ObjectId(),
        "sequence_number": 3,
        "action_type": "OPERATION_PAUSED",
        "action_data": {"reason": "x"},
        "timestamp": T0,
        "source": "test",
        "event_id": "e-1",
    }
    record = decode_change({"operationType": "insert", "fullDocument": entry})
    assert record is not None and record.operation_id == str(entry["operation_id"])
    mangled = {**entry, "operation_id": {"__neosqlite_objectid__": True, "id": "ab" * 12}}
    assert decode_change({"fullDocument": mangled}) is None
    dated = {**entry, "action_data": {"at": {"$date": "2025-01-15T09:00:00"}}}
    assert decode_change({"fullDocument": dated}) is None
    assert decode_change({"operationType": "insert"}) is None


async def test_a_client_too_slow_to_keep_up_is_cut_off_with_its_resume_point(services) -> None:
    from live_trading.api.routers.ws import _close_for

    hub = FeedHub(services.journal_store, feed_source="change_stream", queue_size=2)
    await hub.start()
    unblock = asyncio.Event()
    sent: list[dict] = []

    async def send(message: dict) -> None:  # a client that stops reading
        sent.append(message)
        if message["type"] == "journal_entry" and not message["replayed"]:
            await unblock.wait()

    try:
        op = await new_operation(services)
        session = FeedSession(hub, send)
        task = asyncio.create_task(session.run_operation(op, None))
        await until(lambda: bool(sent))  # the snapshot
        for event in round_trip():
            await services.journal.record(op, [event], source="test")
        await until(lambda: len(sent) == 2)  # seq 2, then stuck
        await until(lambda: hub.cursor(op) == 8)  # 3..8 offered: overflow
        unblock.set()
        with pytest.raises(SlowSubscriberError) as raised:
            await asyncio.wait_for(task, 10)
    finally:
        await hub.stop()
    assert [m.get("sequence_number") for m in sent] == [1, 2]
    code, reason = _close_for(raised.value, session, overall=False)
    assert (code, reason) == (1013, "too slow: reconnect with last_sequence=2")


async def test_a_broken_change_stream_is_replaced_by_polling(services) -> None:
    hub = FeedHub(services.journal_store, feed_source="change_stream", poll_seconds=0.05)
    await hub.start()
    try:
        subscription = hub.subscribe(None)
        op = await new_operation(services)
        assert [i.sequence_number for i in await take(subscription, 1)] == [1]
        await hub._tail._stream.close()  # the stream breaks under the hub
        for event in round_trip()[:3]:
            await services.journal.record(op, [event], source="test")
        assert [i.sequence_number for i in await take(subscription, 3)] == [2, 3, 4]
        assert hub.source_kind == "poll"
    finally:
        await hub.stop()
