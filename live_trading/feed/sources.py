"""Tail sources: what tells the feed hub that the journal has grown.

A tail yields :class:`JournalRecord` items (a committed entry, decoded from
a change event) or ``None`` ("something may have been committed: read the
journal after your cursors"). Records of one operation come in sequence
order; the hub drops those it has already delivered and fills gaps from the
journal, so a tail only has to be prompt, not exact.

* :class:`ChangeStreamTail`: ``watch()`` on the ``journal`` collection
  (inserts). Needs a server with change streams (a MongoDB replica set,
  SecantusDB, nx-27017). A change event whose document does not decode to
  BSON types (some servers return extended JSON) yields ``None``.
* :class:`PollTail`: yields ``None`` every ``FEED_POLL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Protocol

from bson import ObjectId
from pymongo.asynchronous.change_stream import AsyncCollectionChangeStream
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from live_trading.domain.projection import JournalRecord
from live_trading.journal.mongo_journal import decode_record

log = logging.getLogger("live_trading.feed")

INSERTS = [{"$match": {"operationType": "insert"}}]


class Tail(Protocol):
    kind: str

    async def open(self) -> None: ...

    def events(self) -> AsyncIterator[JournalRecord | None]: ...

    async def close(self) -> None: ...


def _has_extended_json(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(k).startswith("$") or _has_extended_json(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_extended_json(v) for v in value)
    return False


def decode_change(change: dict[str, Any]) -> JournalRecord | None:
    """The journal record of an insert event, or None when the event's
    document is missing or not in BSON types."""
    full = change.get("fullDocument")
    if not isinstance(full, dict):
        return None
    well_typed = (
        isinstance(full.get("_id"), ObjectId)
        and isinstance(full.get("operation_id"), ObjectId)
        and isinstance(full.get("sequence_number"), int)
        and isinstance(full.get("timestamp"), datetime)
        and isinstance(full.get("event_id"), str)
    )
    if not well_typed or _has_extended_json(full.get("action_data")):
        return None
    return decode_record(full)


class ChangeStreamTail:
    """Inserts into the journal collection, from a change stream."""

    kind = "change_stream"

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection
        self._stream: AsyncCollectionChangeStream[Any] | None = None

    async def open(self) -> None:
        """Open the change stream: nothing committed after this returns is
        missed.

        Raises:
            PyMongoError: the server has no change streams (e.g. a
                standalone MongoDB) or is unreachable.
        """
        self._stream = await self.collection.watch(INSERTS)

    async def events(self) -> AsyncIterator[JournalRecord | None]:
        """Raises PyMongoError when the stream breaks (after the driver's
        own resume attempt), RuntimeError when it was closed."""
        if self._stream is None:
            raise RuntimeError("the change stream is not open")
        async for change in self._stream:
            yield decode_change(change)
        raise RuntimeError("the change stream was closed")

    async def close(self) -> None:
        if self._stream is not None:
            try:
                await self._stream.close()
            except PyMongoError:  # the connection may be gone already
                pass
            self._stream = None


class PollTail:
    """A nudge every ``interval`` seconds."""

    kind = "poll"

    def __init__(self, interval: float) -> None:
        self.interval = interval

    async def open(self) -> None:
        return None

    async def events(self) -> AsyncIterator[JournalRecord | None]:
        while True:
            await asyncio.sleep(self.interval)
            yield None

    async def close(self) -> None:
        return None


async def open_tail(collection: AsyncCollection, feed_source: str, poll_seconds: float) -> Tail:
    """The opened tail for ``FEED_SOURCE``: ``poll``; ``change_stream``; or
    ``auto`` (a change stream when the server accepts ``watch()``). When a
    change stream cannot be opened, polling is used (logged)."""
    if feed_source != "poll":
        tail = ChangeStreamTail(collection)
        try:
            await tail.open()
            log.info("live feed: tailing the journal with a change stream")
            return tail
        except PyMongoError as error:
            level = logging.ERROR if feed_source == "change_stream" else logging.INFO
            log.log(
                level, "live feed: no change stream (%s); polling every %.2f s", error, poll_seconds
            )
    else:
        log.info("live feed: polling the journal every %.2f s", poll_seconds)
    return PollTail(poll_seconds)
