"""Journal events: what happened to a trading operation, in the past tense.

Each event is stored as one journal entry: ``action_type`` is the event's
``ACTION_TYPE`` and ``action_data`` its fields (:func:`event_data`). Prices in
quote currency, quantities in units of the base asset (positive), times aware
UTC. Sides, roles and order types are the enums of :mod:`.values` and
:mod:`.orders` (``StrEnum``: stored as their plain string values).

:func:`decode` is the one way back from a stored entry to its event: every
reader of the journal (the projection, the trade log, recovery) goes through
it, so an entry read from the store and one just written are read alike
(the machinery: :mod:`.decoding`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from .decoding import EventCodec
from .decoding import EventDecodeError as EventDecodeError  # noqa: PLC0414 (re-export)
from .orders import OrderRole
from .values import OrderType, PositionSide, Side


@dataclass(frozen=True, slots=True)
class Event:
    ACTION_TYPE: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class OperationCreated(Event):
    """A trading operation was created. ``spec``: its validated configuration
    (asset, bar_sizes, primary_bar_size, strategy_name, strategy_config,
    stop-loss / take-profit types and values, crash_recovery_mode,
    emergency_stop_loss_pct, data_retention_bars, quantity, initial_capital,
    broker)."""

    ACTION_TYPE: ClassVar[str] = "OPERATION_CREATED"
    spec: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OperationUpdated(Event):
    """Some settings of an operation changed; ``changes`` holds the new values."""

    ACTION_TYPE: ClassVar[str] = "OPERATION_UPDATED"
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OperationPaused(Event):
    ACTION_TYPE: ClassVar[str] = "OPERATION_PAUSED"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OperationResumed(Event):
    ACTION_TYPE: ClassVar[str] = "OPERATION_RESUMED"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OperationCloseRequested(Event):
    """Closing was asked for: no new positions; the open one is flattened."""

    ACTION_TYPE: ClassVar[str] = "OPERATION_CLOSE_REQUESTED"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OperationClosed(Event):
    ACTION_TYPE: ClassVar[str] = "OPERATION_CLOSED"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OperationFailed(Event):
    """The engine could not run the operation (e.g. its market data is
    missing); it stays in status ``error`` until resumed."""

    ACTION_TYPE: ClassVar[str] = "OPERATION_FAILED"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MarketDataRejected(Event):
    """Rows of a market data file that were skipped, each with its 1-based
    line number and the reason (broken OHLC rule, time out of order...).
    Journaled once per operation and file."""

    ACTION_TYPE: ClassVar[str] = "MARKET_DATA_REJECTED"
    file: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SignalGenerated(Event):
    """The strategy asked for a position (``target`` LONG, SHORT or None for
    flat) on the close of ``bar`` (time, open, high, low, close, volume);
    ``decision`` says what the engine did about it. ``recent_bars``: the last
    primary bars up to and including ``bar``, oldest first, in the same shape
    (the audit trail of the trade log; empty in journals written before it)."""

    ACTION_TYPE: ClassVar[str] = "SIGNAL_GENERATED"
    bar_size: str
    bar: dict[str, Any]
    target: PositionSide | None
    reason: str
    indicators: dict[str, float]
    decision: str
    recent_bars: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OrderSubmitted(Event):
    """Write-ahead intent: journaled before the broker is called.

    Entry orders carry the ``stop_loss`` and ``take_profit`` levels of their
    bracket; ``limit_price`` is set for LIMIT orders, ``stop_price`` for STOP
    orders.
    """

    ACTION_TYPE: ClassVar[str] = "ORDER_SUBMITTED"
    client_order_id: str
    role: OrderRole
    side: Side
    order_type: OrderType
    quantity: float
    limit_price: float | None = None
    stop_price: float | None = None
    parent_client_order_id: str | None = None
    oco_group: str | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderAccepted(Event):
    ACTION_TYPE: ClassVar[str] = "ORDER_ACCEPTED"
    client_order_id: str
    broker_order_id: str


@dataclass(frozen=True, slots=True)
class OrderRejected(Event):
    ACTION_TYPE: ClassVar[str] = "ORDER_REJECTED"
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderOutcomeUnknown(Event):
    """A ``call`` (``submit_order``, ``cancel_order``, ``modify_order``) for
    the order was sent but its answer was lost (``detail``: why, e.g. a
    timeout). The order is *not* rejected: it stays in flight (status as
    before, ``outcome_unknown`` set) until the venue's records settle it
    (reconciliation: found working -> accepted; fills -> filled; absent after
    a complete sync -> rejected "not at the venue")."""

    ACTION_TYPE: ClassVar[str] = "ORDER_OUTCOME_UNKNOWN"
    client_order_id: str
    call: str
    detail: str


@dataclass(frozen=True, slots=True)
class OrderCancelRequested(Event):
    """The intent to cancel a working order, journaled before the cancel is
    sent (write-ahead, like ORDER_SUBMITTED), in the same append as the
    decision that wants it. The order stays working until the venue reports
    it cancelled (ORDER_CANCELLED), or the cancel did not take
    (ORDER_CANCEL_FAILED); after a crash in between, recovery settles the
    order from the venue's records (still working there: kept)."""

    ACTION_TYPE: ClassVar[str] = "ORDER_CANCEL_REQUESTED"
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderCancelFailed(Event):
    """A cancel did not take: ``outcome`` NOT_FOUND (the venue has no such
    order, open or completed), ALREADY_DONE (it had already filled or been
    cancelled) or UNREACHABLE (the cancel was not sent). The order's status
    is left to the venue's reports and to reconciliation."""

    ACTION_TYPE: ClassVar[str] = "ORDER_CANCEL_FAILED"
    client_order_id: str
    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderCancelled(Event):
    ACTION_TYPE: ClassVar[str] = "ORDER_CANCELLED"
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    """A fill (execution) reported by the broker; ``execution_id`` is the
    broker's id of the fill and is recorded once only. ``commission`` in
    quote currency."""

    ACTION_TYPE: ClassVar[str] = "ORDER_FILLED"
    execution_id: str
    client_order_id: str
    broker_order_id: str
    side: Side
    quantity: float
    price: float
    commission: float
    executed_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CommissionReported(Event):
    """The commission of the fill ``execution_id``, reported after the fill
    (IB's commission report). It *sets* the fill's commission (quote
    currency): the difference to what the fill carried is folded into the
    order, transaction, trade and operation (see
    :mod:`live_trading.domain.commission`); seen twice, it changes nothing.
    ``reported_at``: when the venue reported it (UTC)."""

    ACTION_TYPE: ClassVar[str] = "COMMISSION_REPORTED"
    execution_id: str
    client_order_id: str
    commission: float
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class RecoveryStarted(Event):
    """Start-up recovery began for this operation (journal at ``last_sequence``)."""

    ACTION_TYPE: ClassVar[str] = "RECOVERY_STARTED"
    mode: str
    last_sequence: int
    in_flight: list[str]


@dataclass(frozen=True, slots=True)
class ReconciliationMismatch(Event):
    """The journal and the broker disagreed. ``kind``: ``fill`` (a fill the
    journal missed), ``order`` (an order's state differs), ``unknown_order``
    (the broker works an order the journal does not know) or ``position``.
    Both views are recorded, and what was done about it."""

    ACTION_TYPE: ClassVar[str] = "RECONCILIATION_MISMATCH"
    kind: str
    key: str
    journal_view: dict[str, Any]
    broker_view: dict[str, Any]
    resolution: str


@dataclass(frozen=True, slots=True)
class ReconciliationDeferred(Event):
    """Reconciliation with the broker could not run now (``reason``: a broker
    call timed out or the broker is unreachable): nothing was compared and
    nothing concluded (an unanswered call is not an empty answer); it is
    retried at the next check."""

    ACTION_TYPE: ClassVar[str] = "RECONCILIATION_DEFERRED"
    reason: str


@dataclass(frozen=True, slots=True)
class MarketDataStale(Event):
    """No bar of ``bar_size`` came for more than twice the bar size plus the
    grace (``threshold_seconds`` of trading time) since ``last_seen`` (the
    last bar's close, or when the feed started). Journaled once, until
    MARKET_DATA_RESUMED."""

    ACTION_TYPE: ClassVar[str] = "MARKET_DATA_STALE"
    bar_size: str
    last_seen: datetime
    threshold_seconds: float


@dataclass(frozen=True, slots=True)
class MarketDataResumed(Event):
    """Bars of ``bar_size`` came again after MARKET_DATA_STALE; ``bar_time``
    is the open time of the first one."""

    ACTION_TYPE: ClassVar[str] = "MARKET_DATA_RESUMED"
    bar_size: str
    bar_time: datetime


@dataclass(frozen=True, slots=True)
class RecoveryCompleted(Event):
    """Recovery of this operation ended; ``actions`` lists what it did."""

    ACTION_TYPE: ClassVar[str] = "RECOVERY_COMPLETED"
    mode: str
    actions: list[str]
    resumed: bool


@dataclass(frozen=True, slots=True)
class RiskRuleTriggered(Event):
    """A risk rule fired. ``rule``: ``max_position_size``, ``max_daily_loss``
    (``day`` is the UTC day it applies to) or ``kill_switch``; ``limit`` and
    ``value`` in the rule's units (base units, quote currency)."""

    ACTION_TYPE: ClassVar[str] = "RISK_RULE_TRIGGERED"
    rule: str
    action: str
    limit: float | None = None
    value: float | None = None
    day: str | None = None


@dataclass(frozen=True, slots=True)
class BrokerConnectionChanged(Event):
    """The broker connection changed ``state`` (DISCONNECTED, RECONNECTING,
    CONNECTED...), for ``reason`` (e.g. IB error 1100, socket closed)."""

    ACTION_TYPE: ClassVar[str] = "BROKER_CONNECTION_CHANGED"
    broker: str
    state: str
    reason: str


# --- trading cycles (the scheduled worker and manual "run now" cycles) -----


@dataclass(frozen=True, slots=True)
class PriceEvent(Event):
    """A trading cycle fetched the price of the operation's asset.

    ``bid``/``ask``/``last`` in quote currency (``bid``/``ask`` None when
    the source has no quote); ``price_time``: when the price was current
    (UTC); ``price_source``: ``broker_quote`` or ``last_bar`` (the close of
    the last bar the engine processed); ``cycle_id`` groups a cycle's entries.
    """

    ACTION_TYPE: ClassVar[str] = "PRICE_EVENT"
    cycle_id: str
    asset: str
    last: float
    price_time: datetime
    price_source: str
    bid: float | None = None
    ask: float | None = None


@dataclass(frozen=True, slots=True)
class TriggerEvaluated(Event):
    """A cycle checked the open position's stop-loss and take-profit levels
    against the price. ``triggered``: ``stop_loss``, ``take_profit`` or None;
    ``action``: ``none``, ``broker_holds_order`` (the protective order is
    working at the broker, which will fill it) or ``flatten`` (no working
    order protects that level, so the cycle closes the position at market)."""

    ACTION_TYPE: ClassVar[str] = "TRIGGER_EVALUATED"
    cycle_id: str
    price: float
    position_side: PositionSide | None
    stop_loss: float | None
    take_profit: float | None
    triggered: str | None
    action: str


@dataclass(frozen=True, slots=True)
class GuardrailEvaluated(Event):
    """A cycle evaluated the operation's guardrails. ``checks``: one mapping
    per rule (``name``, ``passed``, ``value``, ``limit``, ``detail``);
    ``passed``: all of them passed; ``action``: ``none`` or ``flatten``."""

    ACTION_TYPE: ClassVar[str] = "GUARDRAIL_EVALUATED"
    cycle_id: str
    checks: list[dict[str, Any]]
    passed: bool
    action: str


def _all_event_types() -> dict[str, type[Event]]:
    # the classes of this module, not Event.__subclasses__(): a slots
    # dataclass is a new class, the one it was made from stays a subclass
    return {
        value.ACTION_TYPE: value
        for value in globals().values()
        if isinstance(value, type) and issubclass(value, Event) and value is not Event
    }


EVENT_TYPES: dict[str, type[Event]] = _all_event_types()
"""Every event class by its ``ACTION_TYPE``."""


def event_type(action_type: str) -> type[Event] | None:
    """The event class journaled as ``action_type``, or None for a type this
    code does not know (such entries are kept in the journal, and skipped)."""
    return EVENT_TYPES.get(action_type)


_CODEC: EventCodec[Event] = EventCodec(EVENT_TYPES)

event_data = _CODEC.data
"""The ``action_data`` of a journal entry for an event (:meth:`.EventCodec.data`)."""
decode = _CODEC.decode
"""The event a journal entry holds (:meth:`.EventCodec.decode`); raises
:class:`EventDecodeError`."""
decode_as = _CODEC.decode_as
"""Like :func:`decode`, for an event class already looked up."""
