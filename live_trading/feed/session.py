"""One client's feed: backfill from the journal, then live items, with no
gap and no duplicate.

The subscription is registered with the hub *before* anything is read, so
an entry committed while the backfill is being sent is queued; queued items
at or below what the client was sent for their operation are skipped, and a
gap (an item past ``sent + 1``) is filled from the journal first. Per
operation the client therefore receives strictly consecutive sequence
numbers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .hub import FeedHub, FeedItem, Subscription
from .messages import entry_message, hello_message, snapshot_message
from .state import read_pages, state_as_of

Send = Callable[[dict[str, Any]], Awaitable[None]]

CLOSE_UNKNOWN_OPERATION = 4404
CLOSE_BAD_REQUEST = 4422


class FeedRequestError(ValueError):
    """The client asked for something that cannot be served; ``code`` is the
    WebSocket close code (4404 unknown operation, 4422 bad parameter, whose
    ``reason`` starts with the parameter's name)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FeedSession:
    """Serves one subscriber through ``send``; ``sent`` maps each operation
    id to the last sequence number the client has been sent (or told of)."""

    def __init__(self, hub: FeedHub, send: Send) -> None:
        self.hub = hub
        self.send = send
        self.sent: dict[str, int] = {}

    async def run_operation(self, operation_id: str, last_sequence: int | None) -> None:
        """Entries after ``last_sequence`` (replayed), a ``snapshot``, then
        live entries, until the subscription ends. ``last_sequence`` None:
        no replay, the snapshot is of the current state.

        Raises:
            FeedRequestError: the operation does not exist (4404), or
                ``last_sequence`` is past its journal (4422).
            SlowSubscriberError, FeedClosedError: see :meth:`Subscription.get`.
        """
        subscription = self.hub.subscribe(operation_id)
        try:
            current = (await self.hub.last_sequences()).get(operation_id)
            if current is None:
                raise FeedRequestError(CLOSE_UNKNOWN_OPERATION, f"no operation {operation_id}")
            if last_sequence is not None and last_sequence > current:
                raise FeedRequestError(
                    CLOSE_BAD_REQUEST,
                    f"last_sequence: {last_sequence} is past the journal (at {current})",
                )
            after = current if last_sequence is None else last_sequence
            await self.backfill(operation_id, after)
            state = await state_as_of(self.hub.journal, operation_id, self.sent[operation_id])
            await self.send(snapshot_message(state))
            await self.pump(subscription)
        finally:
            self.hub.unsubscribe(subscription)

    async def run_overall(self, last_sequences: dict[str, int] | None) -> None:
        """A ``hello``; then, with ``last_sequences``, every operation's
        entries after its given sequence (from its start when not given);
        then live entries of every operation, until the subscription ends.

        Raises:
            FeedRequestError: 4422 when a given sequence is past its
                operation's journal.
            SlowSubscriberError, FeedClosedError: see :meth:`Subscription.get`.
        """
        subscription = self.hub.subscribe(None)
        try:
            current = await self.hub.last_sequences()
            for operation_id, sequence in (last_sequences or {}).items():
                if sequence > current.get(operation_id, sequence):
                    raise FeedRequestError(
                        CLOSE_BAD_REQUEST,
                        f"last_sequences: {sequence} is past the journal of {operation_id}",
                    )
            await self.send(hello_message(current))
            if last_sequences is None:
                self.sent = dict(current)
            else:
                for operation_id in current:
                    await self.backfill(operation_id, last_sequences.get(operation_id, 0))
            await self.pump(subscription)
        finally:
            self.hub.unsubscribe(subscription)

    async def backfill(self, operation_id: str, after: int, upto: int | None = None) -> None:
        """Send the journal's entries ``after`` < sequence ≤ ``upto`` (to its
        end when None) as replayed ``journal_entry`` messages."""
        self.sent[operation_id] = max(self.sent.get(operation_id, 0), after)
        async for page in read_pages(self.hub.journal, operation_id, after, upto):
            for record in page:
                await self.send(entry_message(record))
                self.sent[operation_id] = record.sequence_number

    async def pump(self, subscription: Subscription) -> None:
        """Forward live items until the subscription ends (raises)."""
        while True:
            await self.forward(await subscription.get())

    async def forward(self, item: FeedItem) -> None:
        """Send ``item`` unless already sent; fill a gap before it first."""
        last = self.sent.get(item.operation_id, 0)
        if item.sequence_number <= last:
            return
        if item.sequence_number > last + 1:
            await self.backfill(item.operation_id, last, item.sequence_number - 1)
        for message in item.messages:
            await self.send(message)
        self.sent[item.operation_id] = item.sequence_number
