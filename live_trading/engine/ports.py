"""The interfaces (ports) through which the engine reaches the outside world.

Adapters implement these: the paper broker, Interactive Brokers, OANDA;
replay and live market data feeds. The engine depends only on this module
and on :mod:`live_trading.domain`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import (
    BrokerReport,
    CancelAck,
    Execution,
    OrderAck,
    OrderRequest,
)
from live_trading.domain.values import Bar, BarSize

ReportListener = Callable[[BrokerReport], Awaitable[None]]
ReportsListener = Callable[[list[BrokerReport]], Awaitable[None]]
BarListener = Callable[[str, BarSize, Bar], Awaitable[None]]  # asset, bar size, closed bar


class BrokerTimeout(TimeoutError):
    """A broker call got no complete answer within its deadline.

    Every awaited broker call has a deadline (a setting per adapter); none can
    hang. ``call`` names the port method (``"open_orders"``), ``deadline_s``
    the deadline in seconds.
    """

    def __init__(self, call: str, deadline_s: float, detail: str = "") -> None:
        text = f"broker call {call} got no answer within {deadline_s:g} s"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.call = call
        self.deadline_s = deadline_s


class OrderOutcomeUnknown(Exception):
    """A submit, cancel or modify may or may not have reached the venue: the
    request was sent but its answer was lost (timeout, dropped connection).

    The order is *not* rejected: it stays in flight, journaled as such, until
    the venue's own records (open and completed orders, executions,
    transactions) settle it.
    """

    def __init__(self, call: str, client_order_id: str, detail: str) -> None:
        super().__init__(f"{call} of {client_order_id}: outcome unknown ({detail})")
        self.call = call
        self.client_order_id = client_order_id
        self.detail = detail


class ConnectionState(StrEnum):
    DISCONNECTED = "DISCONNECTED"
    CONNECTING = "CONNECTING"
    CONNECTED = "CONNECTED"
    RECONNECTING = "RECONNECTING"


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and ask of an asset (quote currency), at ``time`` (UTC)."""

    asset: str
    bid: float
    ask: float
    time: datetime

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2


@runtime_checkable
class MarketData(Protocol):
    """Market data from a broker, in the project's own types."""

    async def get_historical_data(
        self, asset: str, bar_size: BarSize, start: datetime, end: datetime
    ) -> list[Bar]:
        """Closed bars with open time in [start, end), oldest first."""
        ...

    async def get_market_quote(self, asset: str) -> Quote: ...

    async def subscribe_bars(self, asset: str, bar_size: BarSize, listener: BarListener) -> None:
        """Call ``listener`` with each bar of ``asset`` as it closes."""
        ...

    async def unsubscribe_bars(self, asset: str, bar_size: BarSize) -> None: ...


@runtime_checkable
class Broker(Protocol):
    """Order routing to a broker.

    Reports (fills, cancellations) are delivered to the listener set with
    :meth:`set_listener`, awaited one at a time and in the order the broker
    produced them.
    """

    name: str

    def set_listener(self, listener: ReportListener) -> None: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        """Send an order. Never raises for a broker-side rejection: the ack
        says ``accepted=False`` with the reason.

        Raises:
            ConnectionError: the broker cannot be reached; the order was
                certainly *not* sent.
            OrderOutcomeUnknown: the order was sent but the answer was lost
                (deadline passed, connection dropped): it may be working.
        """
        ...

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        """Cancel a working order; an ``OrderCancelled`` report follows when
        the venue takes it. An order the client library has forgotten (after
        a reconnect or a restart) is found at the venue by our client order
        id; one the venue does not have answers ``NOT_FOUND``.

        Raises:
            ConnectionError: not sent.
            OrderOutcomeUnknown: sent, answer lost.
        """
        ...

    async def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderAck:
        """Change a working order's quantity or price; the ack says whether
        the venue took the change (warnings that leave it live are not
        refusals). On a lost answer the adapter re-reads the order at the
        venue instead of assuming; if that fails too it raises
        ``OrderOutcomeUnknown``."""
        ...

    async def instrument_spec(self, asset: str) -> InstrumentSpec:
        """Tick, lot and minimum size of ``asset`` at this venue (cached by
        the adapter). Raises ``LookupError`` for an asset the venue lacks."""
        ...

    @property
    def connection_state(self) -> ConnectionState: ...

    async def open_orders(self, account: str) -> list[OrderRequest]: ...

    async def executions(self, account: str) -> list[Execution]: ...

    async def executions_since(
        self, account: str, after_execution_id: str | None
    ) -> list[Execution]:
        """Fills after ``after_execution_id`` (all when None or unknown)."""
        ...

    async def broker_order_id(self, client_order_id: str) -> str | None:
        """The broker's id of an order it accepted, found by our client id."""
        ...

    async def positions(self, account: str) -> dict[str, float]:
        """Net position per asset (``"USD-CAD"``), signed: + long, - short."""
        ...


@runtime_checkable
class BracketBroker(Protocol):
    """A broker that sends a bracket as one unit, so the stop-loss and the
    take-profit exist at the venue before the entry can fill (IB: the
    parent and the first child with ``transmit=False``, the last child with
    ``transmit=True``). Brokers without it get the three legs one by one."""

    async def submit_bracket(
        self, entry: OrderRequest, stop_loss: OrderRequest, take_profit: OrderRequest
    ) -> tuple[OrderAck, OrderAck, OrderAck]:
        """The three acks, in the order given. Raises like ``submit_order``
        (for all three legs)."""
        ...


@runtime_checkable
class BatchBroker(Protocol):
    """A broker that takes several requests of one account in one call, made
    durable together (the paper broker: one commit). Each answer is what the
    single call would have answered; a call that fails (``ConnectionError``)
    did nothing. Brokers without it get the requests one by one."""

    async def submit_orders(self, requests: list[OrderRequest]) -> list[OrderAck]:
        """One ack per request, in the order given (a bracket child may
        follow its parent in the same call)."""
        ...

    async def cancel_orders(self, client_order_ids: list[str]) -> list[CancelAck]:
        """One ack per id, in the order given (an order a parent's cancel
        ended earlier in the same call answers ALREADY_DONE)."""
        ...


@runtime_checkable
class BatchReporter(Protocol):
    """A broker that can deliver the reports one call produced (a bar's
    fills and the cancels they cause) in one list, so they are journaled in
    one append. Set, it is used instead of the single-report listener."""

    def set_batch_listener(self, listener: ReportsListener) -> None: ...


@runtime_checkable
class SimulatedMarket(Protocol):
    """A broker that works orders against bars it is shown (the paper broker)."""

    async def on_bar(self, account: str, asset: str, bar: Bar) -> None:
        """Work ``account``'s orders on ``asset`` against ``bar``; fills are
        reported to the listener before this returns."""
        ...

    async def fill_at_last_price(self, account: str, asset: str) -> None:
        """Fill ``account``'s pending market orders at the last price seen,
        for when no further bar will come (the feed has ended)."""
        ...


class MarketSource(Protocol):
    """An operation's closed bars of every bar size it uses, oldest first,
    each higher bar delivered only once closed (no look-ahead).

    ``rejected`` maps each file (or feed) read to its rejected rows (objects
    with ``line`` and ``reason``).
    """

    rejected: dict[str, list]

    def events(self) -> AsyncIterator[tuple[BarSize, Bar]]: ...
