"""The feed hub: tails the journal and fans each committed entry out.

The hub keeps, per operation, a cursor (the last sequence number it has
delivered) and its own copy of the operation's projection state. Each record
its tail reports is handled once, in per-operation sequence order:

* a record at or below the cursor is dropped (already delivered);
* a record past ``cursor + 1`` first makes the hub read the missing range
  from the journal and deliver it;
* a delivered record is applied to the hub's state with the same pure
  projection the journal used, so the read-model documents it changed equal
  those the append wrote; they go out with the entry.

Subscribers (one per WebSocket) get :class:`FeedItem` objects on a bounded
queue, for one operation or for all (``overall``). A subscriber that falls
more than the queue's size behind is cut off (:class:`SlowSubscriberError`);
the hub never waits for a client.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from live_trading.domain.projection import (
    Changes,
    JournalRecord,
    OperationState,
    ProjectionError,
    apply,
)
from live_trading.journal.mongo_journal import JOURNAL, MongoJournal

from .messages import entry_message
from .sources import PollTail, Tail, open_tail
from .state import read_pages, state_as_of

log = logging.getLogger("live_trading.feed")

# fn(record) -> messages, or an awaitable of them
MessageSource = Callable[[JournalRecord], list[dict[str, Any]] | Awaitable[list[dict[str, Any]]]]
DEFAULT_QUEUE_SIZE = 5000  # feed items a subscriber may lag behind


class SlowSubscriberError(RuntimeError):
    """The subscriber's queue overflowed: it must reconnect and resume."""


class FeedClosedError(RuntimeError):
    """The hub stopped (the server is shutting down)."""


@dataclass(frozen=True)
class FeedItem:
    """One delivered journal record: its ``journal_entry`` message first,
    then any extra messages of the hub's message sources."""

    operation_id: str
    sequence_number: int
    messages: list[dict[str, Any]] = field(default_factory=list)


_END = object()


class Subscription:
    """A bounded queue of :class:`FeedItem` for one operation, or for every
    operation when ``operation_id`` is None."""

    def __init__(self, operation_id: str | None, maxsize: int) -> None:
        self.operation_id = operation_id
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.closed = False

    @property
    def pending(self) -> int:
        """Items queued and not yet taken."""
        return self._queue.qsize()

    def offer(self, item: FeedItem) -> None:
        if self.overflowed or self.closed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True

    def end(self) -> None:
        self.closed = True
        try:
            self._queue.put_nowait(_END)
        except asyncio.QueueFull:
            pass  # the consumer is not waiting; it sees ``closed`` on its next get

    async def get(self) -> FeedItem:
        """The next item.

        Raises:
            SlowSubscriberError: the queue overflowed.
            FeedClosedError: the hub stopped.
        """
        if self.overflowed:
            raise SlowSubscriberError("the subscriber fell too far behind")
        if self.closed:
            raise FeedClosedError("the live feed stopped")
        item = await self._queue.get()
        if item is _END:
            raise FeedClosedError("the live feed stopped")
        return item


class FeedHub:
    """Tail the journal; deliver each committed entry to its subscribers."""

    def __init__(
        self,
        journal: MongoJournal,
        *,
        feed_source: str = "auto",
        poll_seconds: float = 0.25,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self.journal = journal
        self.db = journal.store.db
        self.feed_source = feed_source
        self.poll_seconds = poll_seconds
        self.queue_size = queue_size
        self._cursors: dict[str, int] = {}
        self._states: dict[str, OperationState] = {}
        self._subscribers: dict[str | None, set[Subscription]] = {}
        self._message_sources: list[MessageSource] = []
        self._tail: Tail | None = None
        self._task: asyncio.Task | None = None

    @property
    def source_kind(self) -> str | None:
        """``change_stream`` or ``poll`` once started."""
        return self._tail.kind if self._tail else None

    async def start(self) -> None:
        """Open the tail, then take every operation's current sequence as
        its cursor (entries up to it are served by backfill, not live)."""
        self._tail = await open_tail(self.db[JOURNAL], self.feed_source, self.poll_seconds)
        self._cursors = await self.last_sequences()
        self._task = asyncio.create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        """Stop tailing and end every subscription (FeedClosedError)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._tail is not None:
            await self._tail.close()
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.end()

    def cursor(self, operation_id: str) -> int:
        """The last sequence number of the operation the hub has delivered
        (0 when none since it started)."""
        return self._cursors.get(operation_id, 0)

    def subscribe(self, operation_id: str | None) -> Subscription:
        """Register a subscription (None: every operation). Items delivered
        from now on are queued on it."""
        subscription = Subscription(operation_id, self.queue_size)
        self._subscribers.setdefault(operation_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.get(subscription.operation_id, set()).discard(subscription)

    def add_message_source(self, source: MessageSource) -> None:
        """Call ``source(record)`` once for every record the hub delivers, in
        order; the messages it returns go out after the record's
        ``journal_entry`` to live subscribers (replayed entries never carry
        them). An exception in a source is logged and ignored."""
        self._message_sources.append(source)

    async def last_sequences(self) -> dict[str, int]:
        """``{operation id: last_sequence_number}`` of every operation."""
        found = self.db["trading_operations"].find({}, {"last_sequence_number": 1})
        return {str(doc["_id"]): int(doc.get("last_sequence_number") or 0) async for doc in found}

    async def sync(self) -> None:
        """Deliver what the journal holds past each operation's cursor."""
        for operation_id, last in (await self.last_sequences()).items():
            if last > self._cursors.get(operation_id, 0):
                await self._catch_up(operation_id, last)

    async def deliver(self, record: JournalRecord) -> None:
        """Deliver ``record`` unless already delivered, filling any gap
        before it from the journal first."""
        operation_id, sequence = record.operation_id, record.sequence_number
        cursor = self._cursors.get(operation_id, 0)
        if sequence <= cursor:
            return
        if sequence > cursor + 1:
            await self._catch_up(operation_id, sequence - 1)
            if self._cursors.get(operation_id, 0) != sequence - 1:
                log.warning(
                    "live feed: the journal of %s does not show the entries "
                    "before %d yet; they will be delivered later",
                    operation_id,
                    sequence,
                )
                return
        await self._emit(record)

    async def _catch_up(self, operation_id: str, upto: int) -> None:
        after = self._cursors.get(operation_id, 0)
        async for page in read_pages(self.journal, operation_id, after, upto):
            for record in page:
                await self._emit(record)

    async def _emit(self, record: JournalRecord) -> None:
        changes = await self._apply(record)
        self._cursors[record.operation_id] = record.sequence_number
        extras = await self._extra_messages(record)
        listeners = [
            *self._subscribers.get(record.operation_id, ()),
            *self._subscribers.get(None, ()),
        ]
        if not listeners:
            return
        item = FeedItem(
            record.operation_id, record.sequence_number, [entry_message(record, changes), *extras]
        )
        for subscription in listeners:
            subscription.offer(item)

    async def _apply(self, record: JournalRecord) -> Changes:
        """Fold ``record`` into the hub's state of its operation (loaded from
        the journal when missing or not at the previous sequence)."""
        operation_id = record.operation_id
        state = self._states.get(operation_id)
        if state is None or state.last_sequence != record.sequence_number - 1:
            state = await state_as_of(self.journal, operation_id, record.sequence_number - 1)
            self._states[operation_id] = state
        try:
            return apply(state, record)
        except ProjectionError:
            log.exception(
                "live feed: cannot project %s #%d; sent without changes",
                operation_id,
                record.sequence_number,
            )
            self._states.pop(operation_id, None)
            return {}

    async def _extra_messages(self, record: JournalRecord) -> list[dict[str, Any]]:
        extras: list[dict[str, Any]] = []
        for source in self._message_sources:
            try:
                found = source(record)
                extras.extend(await found if inspect.isawaitable(found) else found)
            except Exception:  # an extension must not stop the feed
                log.exception("live feed: message source %r failed", source)
        return extras

    async def _run(self) -> None:
        """Consume the tail; a failing change stream is replaced by polling
        (a poll pass catches up whatever was committed meanwhile)."""
        while True:
            assert self._tail is not None
            try:
                async for item in self._tail.events():
                    if item is None:
                        await self.sync()
                    else:
                        await self.deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the feed must keep going
                if self._tail.kind != "poll":
                    log.warning(
                        "live feed: change stream failed (%s); polling every %.2f s from now on",
                        error,
                        self.poll_seconds,
                    )
                    await self._tail.close()
                    self._tail = PollTail(self.poll_seconds)
                else:
                    log.exception("live feed: polling the journal failed; retrying")
                await asyncio.sleep(max(self.poll_seconds, 1.0))
