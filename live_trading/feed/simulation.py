"""Simulation mode's extra live-feed messages: strategy signals and the
simulated trade events (entry, stop move, exit) each journal entry causes.

``signal``: ``{"type": "signal", "operation_id", "sequence_number",
"bar_size", "bar", "target", "reason", "indicators", "decision"}`` for every
``SIGNAL_GENERATED`` entry. ``trade_event``: ``{"type": "trade_event",
"operation_id", "sequence_number", "event": <trade log line plus symbol and
interval>}``, computed by the trade log's fold
(:func:`live_trading.tradelog.fold.trade_events`) on the feed's own fold
state of the operation (rebuilt from the journal when the feed first sees
it), so the events equal the trading-mode trade log's lines. Both follow
their entry's ``journal_entry`` message, to live subscribers.
"""

from __future__ import annotations

import logging
from typing import Any

from live_trading.domain.events import SignalGenerated
from live_trading.domain.projection import JournalRecord, ProjectionError
from live_trading.journal.mongo_journal import MongoJournal
from live_trading.tradelog.fold import TradeLogState, trade_events
from live_trading.tradelog.fold import apply as fold_trade_log

from .messages import jsonable
from .state import read_pages

log = logging.getLogger("live_trading.feed")

SIGNAL_FIELDS = ("bar_size", "bar", "target", "reason", "indicators", "decision")


class SimulationMessages:
    def __init__(self, journal: MongoJournal) -> None:
        self.journal = journal
        self._states: dict[str, TradeLogState] = {}

    async def messages(self, record: JournalRecord) -> list[dict[str, Any]]:
        """Hub message source: the messages ``record`` brings."""
        head = {"operation_id": record.operation_id, "sequence_number": record.sequence_number}
        out: list[dict[str, Any]] = []
        if record.action_type == SignalGenerated.ACTION_TYPE:
            data = record.action_data
            out.append(
                jsonable({"type": "signal", **head, **{k: data.get(k) for k in SIGNAL_FIELDS}})
            )
        state = await self._state_before(record)
        try:
            events = trade_events(state, record)
        except ProjectionError:
            log.exception("simulated trade events of %s #%d", *head.values())
            self._states.pop(record.operation_id, None)
            return out
        out.extend(jsonable({"type": "trade_event", **head, "event": e}) for e in events)
        return out

    async def _state_before(self, record: JournalRecord) -> TradeLogState:
        """The fold state of the operation up to the entry before ``record``."""
        state = self._states.get(record.operation_id)
        if state is None or state.last_sequence != record.sequence_number - 1:
            state = TradeLogState(record.operation_id)
            async for page in read_pages(
                self.journal, record.operation_id, 0, record.sequence_number - 1
            ):
                for earlier in page:
                    fold_trade_log(state, earlier)
            self._states[record.operation_id] = state
        return state
