"""The trade log service: keeps the trade log as a projection of the journal.

It subscribes to the :class:`JournalService` and folds every committed
journal record with :func:`live_trading.tradelog.fold.apply`. In trading mode
(``MODE=trading``) it writes the events under ``TRADE_LOG_DIR`` (see
:mod:`live_trading.tradelog.files`); in simulation mode it writes nothing and
only hands the events to its listeners (for the live feed).

Start-up catches up by rebuilding from the journal (a crash between a
journal commit and the file write loses nothing); a record that arrives
after a gap makes the missing ones be read from the journal first; a record
already folded is skipped. After an error the whole log is rebuilt.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from live_trading.domain.projection import Changes, JournalRecord
from live_trading.domain.values import Asset, BarSize

from .files import TradeLogFiles
from .fold import TradeLogEvent, TradeLogState, apply, feed_dict, latest_lines, open_trade_view
from .naming import directory_name
from .view import build_trades

log = logging.getLogger("live_trading.tradelog")

Listener = Callable[[list[dict[str, Any]]], Awaitable[None]]


class TradeLogService:
    """The trade log of every operation, folded from ``journal_store``
    (a :class:`~live_trading.journal.mongo_journal.MongoJournal`) and kept in
    step with ``journal`` (a :class:`~live_trading.journal.service.JournalService`)."""

    def __init__(self, settings: Any, journal: Any, journal_store: Any) -> None:
        self.mode: str = settings.mode
        self.files = TradeLogFiles(settings.trade_log_dir)
        self.journal_store = journal_store
        self.states: dict[str, TradeLogState] = {}
        self._lock = asyncio.Lock()
        self._started = False
        self._dirty = False
        self._listeners: list[Listener] = []
        journal.subscribe(self._on_records)

    @property
    def keeps_files(self) -> bool:
        """True in trading mode: the log is written to files."""
        return self.mode == "trading"

    def listen(self, listener: Listener) -> None:
        """Call ``await listener(events)`` after each append that caused trade
        events (either mode); ``events`` as :func:`~.fold.trade_events` gives."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Catch up with the journal (rebuild), then follow each append."""
        async with self._lock:
            await self._rebuild_locked()
            self._started = True

    async def rebuild(self) -> dict[str, int]:
        """Delete the trade log directories and write them again from the
        journal; returns the number of index lines per directory ({} in
        simulation mode, where nothing is written)."""
        async with self._lock:
            return await self._rebuild_locked()

    async def trades(
        self, asset: Asset, bar_size: BarSize, since: datetime | None = None
    ) -> dict[str, Any]:
        """``GET /api/v1/trade-log``: ``{mode, symbol, interval, trades}`` of
        the operations trading ``asset`` on primary bar size ``bar_size``;
        from the files in trading mode, folded from the journal otherwise.
        ``since`` (aware): only trades entered at or after it."""
        name = directory_name(asset, bar_size)
        if self.keeps_files:
            lines = self.files.read_lines(name)
        else:
            lines = await self._lines_from_journal(name)
        return {
            "mode": self.mode,
            "symbol": asset.name,
            "interval": bar_size.code,
            "trades": build_trades(lines, since),
        }

    async def _rebuild_locked(self) -> dict[str, int]:
        states, events = await self._fold_journal(await self.journal_store.operation_ids())
        self.states = states
        self._dirty = False
        if not self.keeps_files:
            return {}
        return self.files.replace_all(events, self._current_by_directory())

    async def _fold_journal(
        self, operation_ids: list[str]
    ) -> tuple[dict[str, TradeLogState], list[TradeLogEvent]]:
        states: dict[str, TradeLogState] = {}
        events: list[TradeLogEvent] = []
        for operation_id in operation_ids:
            state = states[operation_id] = TradeLogState(operation_id)
            for record in await self.journal_store.read(operation_id):
                events.extend(apply(state, record))
        return states, events

    async def _lines_from_journal(self, name: str) -> list[dict[str, Any]]:
        found = self.journal_store.store.db["trading_operations"].find(
            {}, {"asset": 1, "primary_bar_size": 1}
        )
        operation_ids = [
            str(op["_id"])
            async for op in found
            if directory_name(op["asset"], op["primary_bar_size"]) == name
        ]
        _, events = await self._fold_journal(sorted(operation_ids))
        return latest_lines([event.line for event in events if event.directory == name])

    async def _on_records(self, records: list[JournalRecord], changes: Changes) -> None:
        async with self._lock:
            if not self._started:
                return  # start() will read these from the journal
            try:
                if self._dirty:
                    await self._rebuild_locked()
                    return
                events = await self._fold_records(records)
            except Exception:  # the log must not stop the engine
                log.exception("trade log update failed; rebuilding it from the journal")
                self._dirty = True
                try:
                    await self._rebuild_locked()
                except Exception:  # retried on the next append
                    log.exception("trade log rebuild failed; retrying on the next append")
                return
        await self._notify(events)

    async def _fold_records(self, records: list[JournalRecord]) -> list[TradeLogEvent]:
        events: list[TradeLogEvent] = []
        touched: set[str] = set()
        for record in records:
            state = self.states.setdefault(record.operation_id, TradeLogState(record.operation_id))
            if record.sequence_number <= state.last_sequence:
                continue
            missed = record.sequence_number - state.last_sequence - 1
            backlog = (
                await self.journal_store.read(record.operation_id, state.last_sequence, missed)
                if missed
                else []
            )
            for item in [*backlog, record]:
                events.extend(apply(state, item))
            if state.directory is not None:
                touched.add(state.directory)
        if self.keeps_files:
            if events:
                self.files.write(events)
            current = self._current_by_directory()
            for name in sorted(touched):
                self.files.write_current(name, current.get(name, []))
        return events

    def _current_by_directory(self) -> dict[str, list[dict[str, Any]]]:
        current: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for state in self.states.values():
            view = open_trade_view(state)
            if view is not None and state.directory is not None:
                current[state.directory].append(view)
        for trades in current.values():
            trades.sort(key=lambda t: (t["entryTime"], t["operationId"], t["tradeId"]))
        return dict(current)

    async def _notify(self, events: list[TradeLogEvent]) -> None:
        if not events or not self._listeners:
            return
        payload = [feed_dict(event) for event in events]
        for listener in self._listeners:
            try:
                await listener(payload)
            except Exception:  # a listener must not break the log
                log.exception("trade log listener failed")
