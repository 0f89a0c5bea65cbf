"""The trade log fold: journal records in, trade log records out. Pure, no I/O.

:func:`apply` folds one journal record of an operation into its
:class:`TradeLogState` and returns the trade log events the record causes:

* ``entry``: a position opened (its first fill). ``tradeId`` is the
  position's id in the projection (deterministic, so a rebuild gives the same
  ids); price = the opening fill's price, ``initialStopPrice`` and
  ``targetPrice`` = the bracket's levels, ``context`` = the reason of the
  signal that asked for it. The event carries what the Markdown snapshot
  needs (the signal with its recent bars and indicators, the operation's
  strategy and parameters).
* ``stop_move``: a STOP_LOSS order protecting the open position (no parent,
  or the position's own entry order as parent) was submitted at a stop price
  other than the current one. Its time is the journal entry's time (never
  before the trade's entry).
* ``exit``: a fill closed (part of) a position, one per ``trades`` document:
  ``closePrice``, ``closeReason`` (see :func:`close_reason`), ``points`` (the
  price difference in the trade's favour, quote currency per unit), ``pnl``
  (the trade's net P/L in quote currency, commissions included, as in the
  ``trades`` collection) and ``remainingQuantity`` (0 when it closed).

Positions and P/L come from :func:`live_trading.domain.projection.apply`, run
on the state this fold keeps, so the trade log cannot disagree with the read
models. Prices in quote currency, quantities in base-asset units, times
ISO-8601 UTC strings (:func:`~live_trading.tradelog.naming.iso_time`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from live_trading.domain import events as ev
from live_trading.domain import projection
from live_trading.domain.orders import OrderRole, OrderStatus
from live_trading.domain.pnl import gross_pnl
from live_trading.domain.projection import JournalRecord, OperationState
from live_trading.domain.values import Asset, BarSize, PositionSide, Side

from .naming import directory_name, iso_time

ENTRY, STOP_MOVE, EXIT = "entry", "stop_move", "exit"
_RANK = {EXIT: 0, ENTRY: 1, STOP_MOVE: 2}  # a reversal's exit comes before its entry
_OPERATION_FIELDS = (
    "asset",
    "primary_bar_size",
    "bar_sizes",
    "strategy_name",
    "strategy_config",
    "stop_loss_type",
    "stop_loss_value",
    "take_profit_type",
    "take_profit_value",
    "quantity",
)
_EXIT_REASONS = (
    ("signal", "signal"),
    ("cycle: stop_loss", "stop"),
    ("cycle: take_profit", "take_profit"),
    ("cycle: emergency", "emergency_stop"),
    ("kill switch", "kill_switch"),
    ("operation closing", "operation_close"),
    ("closed by hand", "manual"),
)
_ENDED = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)
RECENT_EXITS = 256


@dataclass
class OpenTrade:
    trade_id: str
    side: PositionSide
    entry_order: str  # client order id of the fill that opened it
    entry_time: datetime
    initial_stop: float | None
    current_stop: float | None


@dataclass
class TradeLogState:
    """What the fold knows about one operation."""

    operation_id: str
    projection: OperationState = field(init=False)
    directory: str | None = None  # trades_{symbol}_{interval}
    last_signal: dict[str, Any] | None = None
    entry_signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    exit_sources: dict[str, str] = field(default_factory=dict)
    open_trade: OpenTrade | None = None
    # the last exit lines, by trades document id (for late commissions)
    exit_lines: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.projection = OperationState(self.operation_id)

    @property
    def last_sequence(self) -> int:
        return self.projection.last_sequence


@dataclass(frozen=True)
class TradeLogEvent:
    """One trade log record (``line``: the ``index.jsonl`` object) of the
    directory ``directory``; entries also carry their ``snapshot`` data."""

    directory: str
    line: dict[str, Any]
    snapshot: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str, int, int]:
        return line_key(self.line)


def line_key(line: dict[str, Any]) -> tuple[str, str, int, int]:
    """Order of lines in ``index.jsonl``: (time, operation id, journal
    sequence number, exit before entry before stop move)."""
    return line["time"], line["operationId"], line["sequence"], _RANK[line["type"]]


def snapshot_file_name(entry_time: datetime, trade_id: str) -> str:
    """``entry_20250115T040000Z_<tradeId>.md``: unique per trade."""
    return f"entry_{iso_time(entry_time)[:19].replace('-', '').replace(':', '')}Z_{trade_id}.md"


def apply(state: TradeLogState, record: JournalRecord) -> list[TradeLogEvent]:
    """Fold ``record`` (the next of its operation) into ``state`` (mutated);
    return the trade log events it causes, in order.

    Raises:
        ProjectionError: the record is out of sequence or cannot be folded
            (``state`` may be partly updated: discard it).
    """
    changes = projection.apply(state.projection, record)
    kind = ev.event_type(record.action_type)
    if kind is None or (handler := _HANDLERS.get(kind)) is None:
        return []
    return handler(state, record, ev.decode_as(kind, record.action_data), changes)


def _on_created(
    state: TradeLogState,
    record: JournalRecord,
    event: ev.OperationCreated,
    changes: projection.Changes,
) -> list[TradeLogEvent]:
    state.directory = directory_name(event.spec["asset"], event.spec["primary_bar_size"])
    return []


def _on_signal(
    state: TradeLogState,
    record: JournalRecord,
    event: ev.SignalGenerated,
    changes: projection.Changes,
) -> list[TradeLogEvent]:
    # the entry's snapshot shows the signal as journaled (plain JSON values)
    state.last_signal = {**record.action_data, "sequence": record.sequence_number}
    return []


def _on_order_ended(
    state: TradeLogState,
    record: JournalRecord,
    event: ev.OrderCancelled | ev.OrderRejected,
    changes: projection.Changes,
) -> list[TradeLogEvent]:
    _forget_order(state, event.client_order_id)
    return []


def latest_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``lines`` with only the last line of each key (a corrected exit
    replaces the first one), in the order of their first appearance."""
    latest: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    for line in lines:
        latest[line_key(line)] = line
    return list(latest.values())


def _on_commission(
    state: TradeLogState,
    record: JournalRecord,
    event: ev.CommissionReported,
    changes: projection.Changes,
) -> list[TradeLogEvent]:
    events = []
    for (collection, doc_id), doc in changes.items():
        line = state.exit_lines.get(doc_id) if collection == projection.TRADES else None
        if line is not None and state.directory is not None and line["pnl"] != doc["pnl"]:
            line = state.exit_lines[doc_id] = {**line, "pnl": doc["pnl"]}
            events.append(TradeLogEvent(state.directory, line))
    return events


def trade_events(state: TradeLogState, record: JournalRecord) -> list[dict[str, Any]]:
    """For the live feed: fold ``record`` into ``state`` and return the trade
    events it causes as JSON-ready dicts (the ``index.jsonl`` line plus
    ``symbol`` (``USDCAD``) and ``interval`` (``1h``)).

    Raises:
        ProjectionError: as :func:`apply`.
    """
    return [feed_dict(event) for event in apply(state, record)]


def feed_dict(event: TradeLogEvent) -> dict[str, Any]:
    """``event``'s line plus ``symbol`` and ``interval`` of its directory."""
    _, symbol, interval = event.directory.split("_", 2)
    return {**event.line, "symbol": symbol, "interval": interval}


def open_trade_view(state: TradeLogState) -> dict[str, Any] | None:
    """The operation's open trade as a ``current.json`` item, or None."""
    position, trade = state.projection.position, state.open_trade
    if position is None or trade is None:
        return None
    doc = position.doc
    return {
        "tradeId": trade.trade_id,
        "operationId": state.operation_id,
        "entryTime": iso_time(doc["opened_at"]),
        "entryPrice": doc["entry_price"],
        "currentStopPrice": trade.current_stop,
        "initialStopPrice": trade.initial_stop,
        "side": trade.side,
        "targetPrice": doc["take_profit"],
        "quantity": abs(doc["quantity"]),
    }


def close_reason(order: dict[str, Any], source: str | None) -> str:
    """Why a fill of ``order`` closed a position: ``stop``, ``take_profit``,
    ``signal``, ``manual``, ``recovery``, ``kill_switch``,
    ``operation_close``, ``emergency_stop`` or ``reversal`` (an entry fill
    larger than the open position)."""
    role = order["order_role"]
    if role in (OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT):
        return "stop" if role == OrderRole.STOP_LOSS else "take_profit"
    if role == OrderRole.ENTRY:
        return "reversal"
    reason = (order.get("reason") or "").lower()
    if source == "recovery" or reason.startswith("crash recovery"):
        return "recovery"
    return next((name for prefix, name in _EXIT_REASONS if reason.startswith(prefix)), "manual")


def _on_submitted(
    state: TradeLogState,
    record: JournalRecord,
    event: ev.OrderSubmitted,
    changes: projection.Changes,
) -> list[TradeLogEvent]:
    cid = event.client_order_id
    if event.role is OrderRole.ENTRY:
        signal = state.last_signal
        wanted = PositionSide.LONG if event.side is Side.BUY else PositionSide.SHORT
        if signal is not None and signal.get("target") == wanted:
            state.entry_signals[cid] = signal
            state.last_signal = None
    elif event.role is OrderRole.EXIT:
        state.exit_sources[cid] = record.source
    elif event.role is OrderRole.STOP_LOSS:
        return _stop_move(state, record, event)
    return []


def _stop_move(
    state: TradeLogState, record: JournalRecord, event: ev.OrderSubmitted
) -> list[TradeLogEvent]:
    trade, stop = state.open_trade, event.stop_price
    if trade is None or state.directory is None or stop is None or stop == trade.current_stop:
        return []
    if event.parent_client_order_id not in (None, trade.entry_order):
        return []  # the bracket of a pending entry, not this trade's stop
    trade.current_stop = stop
    line = {
        "type": STOP_MOVE,
        "time": iso_time(max(record.timestamp, trade.entry_time)),
        "tradeId": trade.trade_id,
        "operationId": state.operation_id,
        "sequence": record.sequence_number,
        "side": trade.side,
        "price": stop,
    }
    return [TradeLogEvent(state.directory, line)]


def _on_filled(
    state: TradeLogState, record: JournalRecord, fill: ev.OrderFilled, changes: projection.Changes
) -> list[TradeLogEvent]:
    events = []
    cid = fill.client_order_id
    for (collection, doc_id), doc in changes.items():
        if collection == projection.TRADES:
            events.append(_exit_event(state, record, cid, doc))
            state.exit_lines[doc_id] = events[-1].line
            while len(state.exit_lines) > RECENT_EXITS:
                state.exit_lines.popitem(last=False)
    position = state.projection.position
    if state.open_trade is not None and (
        position is None or position.doc["_id"] != state.open_trade.trade_id
    ):
        state.open_trade = None
    if position is not None and state.open_trade is None:
        events.append(_entry_event(state, record, cid, position.doc))
    if state.projection.orders[cid]["status"] in _ENDED:
        _forget_order(state, cid)
    return events


def _exit_event(
    state: TradeLogState, record: JournalRecord, cid: str, trade: dict[str, Any]
) -> TradeLogEvent:
    assert state.directory is not None
    position = state.projection.position
    if position is not None and position.doc["_id"] != trade["position_id"]:
        position = None  # another position is open now
    line = {
        "type": EXIT,
        "time": iso_time(trade["exit_time"]),
        "tradeId": trade["position_id"],
        "operationId": state.operation_id,
        "sequence": record.sequence_number,
        "side": trade["position_type"],
        "closePrice": trade["exit_price"],
        "closeReason": close_reason(state.projection.orders[cid], state.exit_sources.get(cid)),
        "quantity": trade["quantity"],
        "remainingQuantity": abs(position.doc["quantity"]) if position is not None else 0.0,
        "entryPrice": trade["entry_price"],
        "points": gross_pnl(trade["position_type"], trade["entry_price"], trade["exit_price"], 1.0),
        "pnl": trade["pnl"],
    }
    return TradeLogEvent(state.directory, line)


def _entry_event(
    state: TradeLogState, record: JournalRecord, cid: str, doc: dict[str, Any]
) -> TradeLogEvent:
    assert state.directory is not None and state.projection.operation is not None
    signal = state.entry_signals.pop(cid, None)
    trade_id, opened = doc["_id"], doc["opened_at"]
    state.open_trade = OpenTrade(
        trade_id, doc["position_type"], cid, opened, doc["stop_loss"], doc["stop_loss"]
    )
    order_reason = state.projection.orders[cid].get("reason") or ""
    line = {
        "type": ENTRY,
        "time": iso_time(opened),
        "tradeId": trade_id,
        "operationId": state.operation_id,
        "sequence": record.sequence_number,
        "side": doc["position_type"],
        "price": doc["entry_price"],
        "quantity": abs(doc["quantity"]),
        "initialStopPrice": doc["stop_loss"],
        "targetPrice": doc["take_profit"],
        "snapshotFile": snapshot_file_name(opened, trade_id),
        "context": signal["reason"] if signal else order_reason,
    }
    operation = state.projection.operation
    snapshot = {
        "asset": Asset.parse(operation["asset"]).name,
        "interval": BarSize(operation["primary_bar_size"]).code,
        "signal": signal,
        "operation": {k: operation.get(k) for k in _OPERATION_FIELDS},
    }
    return TradeLogEvent(state.directory, line, snapshot)


def _forget_order(state: TradeLogState, client_order_id: str) -> None:
    state.entry_signals.pop(client_order_id, None)
    state.exit_sources.pop(client_order_id, None)


_Handler = Callable[[TradeLogState, JournalRecord, Any, projection.Changes], list[TradeLogEvent]]
_HANDLERS: dict[type[ev.Event], _Handler] = {
    ev.OperationCreated: _on_created,
    ev.SignalGenerated: _on_signal,
    ev.OrderSubmitted: _on_submitted,
    ev.OrderFilled: _on_filled,
    ev.CommissionReported: _on_commission,
    ev.OrderCancelled: _on_order_ended,
    ev.OrderRejected: _on_order_ended,
}
"""The trade log's handler of each event class (others cause no trade log event)."""
