"""The built-in paper broker: a simulated broker that works orders on bars.

Units: prices in the quote currency of the asset, quantities in units of the
base asset (always positive, direction in the side), commissions in quote
currency, times aware UTC (fills carry the time of the bar they happened in).

The broker keeps one sub-account per ``account`` string (the engine uses one
per trading operation, each replaying its own clock), and works each
(account, asset) pair only against the bars it is shown for that pair. All
mutable state lives in :class:`PaperBookState`, apart from the code, so that it
can later be made durable; for now it is in memory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from live_trading.domain.orders import (
    BrokerReport,
    Execution,
    OrderAck,
    OrderCancelled,
    OrderRequest,
    OrderStatus,
)
from live_trading.domain.values import Bar, OrderType, Side, utc_now
from live_trading.engine.ports import ReportListener

from . import matching
from .config import PaperBrokerConfig

FLAT_EPSILON = 1e-9
"""A net position smaller than this (base units) is flat: float sums of fills
that cancel out may leave a residue such as 1e-17."""


@dataclass(slots=True)
class PaperOrder:
    """An accepted order and how far it has got.

    ``status`` is SUBMITTED while working, then FILLED or CANCELLED.
    ``active`` is False for a bracket child whose parent has not filled yet.
    """

    request: OrderRequest
    broker_order_id: str
    status: OrderStatus = OrderStatus.SUBMITTED
    active: bool = True

    @property
    def working(self) -> bool:
        return self.status == OrderStatus.SUBMITTED


@dataclass(slots=True)
class PaperBookState:
    """All mutable state of the paper broker.

    Attributes:
        orders: every accepted order by client_order_id, in submission order.
        executions: the fills of each account, in order.
        positions: signed net quantity per (account, asset); flat ones removed.
        last_bars: the last bar seen per (account, asset).
    """

    orders: dict[str, PaperOrder] = field(default_factory=dict)
    executions: dict[str, list[Execution]] = field(default_factory=dict)
    positions: dict[tuple[str, str], float] = field(default_factory=dict)
    last_bars: dict[tuple[str, str], Bar] = field(default_factory=dict)


class PaperBroker:
    """A simulated broker implementing the ``Broker`` and ``SimulatedMarket``
    ports.

    Fill model (see :meth:`on_bar`): market orders fill at the next bar's
    open (or, at the end of a feed, the last close) plus half-spread and
    slippage adversely; stops fill at the stop (or the open on a gap) plus
    slippage; limits at the limit (or the open on a favourable gap). When a
    stop-loss and a take-profit could both fill in one bar, the stop wins.
    """

    name = "paper"

    def __init__(
        self, config: PaperBrokerConfig | None = None, state: PaperBookState | None = None
    ) -> None:
        self.config = config or PaperBrokerConfig()
        self.state = state or PaperBookState()
        self.connected = False
        self._listener: ReportListener | None = None

    # -- Broker port ---------------------------------------------------------

    def set_listener(self, listener: ReportListener) -> None:
        self._listener = listener

    async def connect(self) -> None:
        self.connected = True

    async def disconnect(self) -> None:
        self.connected = False

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        """Accept ``request`` as a working order, or reject it with a reason.

        A bracket child (``parent_client_order_id`` set) is accepted inactive
        and starts working once its parent has filled. Never raises.
        """
        problem = self._rejection(request)
        if problem is not None:
            return OrderAck(request.client_order_id, None, accepted=False, reason=problem)
        parent_id = request.parent_client_order_id
        parent = self.state.orders[parent_id] if parent_id else None
        order = PaperOrder(
            request=request,
            broker_order_id=uuid.uuid4().hex,
            active=parent is None or parent.status == OrderStatus.FILLED,
        )
        self.state.orders[request.client_order_id] = order
        return OrderAck(request.client_order_id, order.broker_order_id, accepted=True)

    async def cancel_order(self, client_order_id: str) -> None:
        """Cancel a working order (and, if it has not filled, its bracket
        children); the listener gets ``OrderCancelled`` reports. Unknown or
        finished orders are ignored.

        The report's time is the time of the last bar seen for the order's
        (account, asset), so it stays on the operation's replayed clock; the
        wall clock if no bar has been seen yet.
        """
        order = self.state.orders.get(client_order_id)
        if order is None or not order.working:
            return
        last = self.state.last_bars.get((order.request.account, order.request.asset))
        time = last.time if last is not None else utc_now()
        await self._deliver(self._cancel(order, "cancelled by request", time))

    async def open_orders(self, account: str) -> list[OrderRequest]:
        """Working orders of ``account`` (inactive bracket children included),
        in submission order."""
        orders = self.state.orders.values()
        return [o.request for o in orders if o.working and o.request.account == account]

    async def executions(self, account: str) -> list[Execution]:
        return list(self.state.executions.get(account, []))

    async def positions(self, account: str) -> dict[str, float]:
        """Signed net quantity per asset of ``account`` (+ long, - short);
        flat assets are omitted."""
        items = self.state.positions.items()
        return {asset: qty for (acc, asset), qty in items if acc == account}

    # -- SimulatedMarket port ------------------------------------------------

    async def on_bar(self, account: str, asset: str, bar: Bar) -> None:
        """Work ``account``'s orders on ``asset`` against ``bar``.

        Within the bar, in this order:

        1. MARKET orders working (and active) before this bar fill at
           ``bar.open`` moved adversely by half-spread + slippage.
        2. Bracket children of those fills become active.
        3. Active STOP and LIMIT orders are worked against ``bar.high`` /
           ``bar.low`` (see :mod:`.matching`). All stops are worked before
           all limits, so **when the stop-loss and the take-profit of one OCO
           group could both fill in this bar, the stop wins**: the path inside
           a bar is unknown, so we assume the worse. Children of an order
           filled in this step become active but are first worked on the next
           bar.
        4. After any fill in an OCO group, the group's other working orders
           are cancelled (``OrderCancelled`` with reason ``"OCO"``).
        5. ``bar.close`` is remembered as the last price of (account, asset).

        Fills are dated ``bar.time``. The whole bar is applied to the state
        first; then every report is awaited by the listener, in order,
        before this returns.
        """
        reports = self._fill_markets(account, asset, bar.open, bar.time)
        triggered = self._active(account, asset, market=False)
        triggered.sort(key=lambda o: o.request.order_type != OrderType.STOP)
        for order in triggered:
            if not order.working:  # cancelled by an OCO fill earlier in this bar
                continue
            price = matching.triggered_fill_price(order.request, bar, self.config)
            if price is not None:
                reports.extend(self._fill(order, price, bar.time))
                self._activate_children(order)
        self.state.last_bars[(account, asset)] = bar
        await self._deliver(reports)

    async def fill_at_last_price(self, account: str, asset: str) -> None:
        """Fill ``account``'s working MARKET orders on ``asset`` at the last
        close seen, moved adversely by half-spread + slippage and dated with
        the last bar's time; then activate their children (without working
        them). Does nothing if no bar has been seen for the pair."""
        last = self.state.last_bars.get((account, asset))
        if last is None:
            return
        await self._deliver(self._fill_markets(account, asset, last.close, last.time))

    # -- internals -----------------------------------------------------------

    def _rejection(self, request: OrderRequest) -> str | None:
        """Why ``request`` must be rejected, or ``None`` to accept it."""
        problem = matching.request_problem(request)
        if problem is not None:
            return problem
        if request.client_order_id in self.state.orders:
            return f"duplicate client_order_id {request.client_order_id!r}"
        parent_id = request.parent_client_order_id
        if parent_id is None:
            return None
        parent = self.state.orders.get(parent_id)
        if parent is None or parent.request.account != request.account:
            return f"unknown parent order {parent_id!r} in account {request.account!r}"
        if parent.request.asset != request.asset:
            return f"parent order {parent_id!r} is on another asset"
        if parent.status == OrderStatus.CANCELLED:
            return f"parent order {parent_id!r} is cancelled"
        return None

    def _active(self, account: str, asset: str, market: bool) -> list[PaperOrder]:
        """Active working orders of (account, asset), MARKET ones if
        ``market`` else STOP and LIMIT ones, in submission order."""
        return [
            o
            for o in self.state.orders.values()
            if o.working
            and o.active
            and (o.request.account, o.request.asset) == (account, asset)
            and (o.request.order_type == OrderType.MARKET) == market
        ]

    def _fill_markets(
        self, account: str, asset: str, reference: float, time: datetime
    ) -> list[BrokerReport]:
        """Fill the active MARKET orders of (account, asset) at ``reference``
        plus costs, then activate their children. Returns the reports."""
        reports: list[BrokerReport] = []
        for order in self._active(account, asset, market=True):
            if order.working:  # not cancelled by an earlier OCO fill
                price = matching.market_fill_price(order.request.side, reference, self.config)
                reports.extend(self._fill(order, price, time))
                self._activate_children(order)
        return reports

    def _fill(self, order: PaperOrder, price: float, time: datetime) -> list[BrokerReport]:
        """Fill ``order`` completely at ``price``; update the position; cancel
        its OCO siblings. Returns the execution and the cancellations."""
        req = order.request
        order.status = OrderStatus.FILLED
        execution = Execution(
            execution_id=uuid.uuid4().hex,
            client_order_id=req.client_order_id,
            broker_order_id=order.broker_order_id,
            account=req.account,
            asset=req.asset,
            side=req.side,
            quantity=req.quantity,
            price=price,
            commission=matching.commission(req.quantity, price, self.config),
            time=time,
        )
        self.state.executions.setdefault(req.account, []).append(execution)
        self._add_position(req.account, req.asset, req.quantity, req.side)
        reports: list[BrokerReport] = [execution]
        group = (req.account, req.oco_group)
        for other in list(self.state.orders.values()) if req.oco_group else []:
            if other.working and (other.request.account, other.request.oco_group) == group:
                reports.extend(self._cancel(other, "OCO", time))
        return reports

    def _add_position(self, account: str, asset: str, quantity: float, side: Side) -> None:
        key = (account, asset)
        signed = quantity if side == Side.BUY else -quantity
        net = self.state.positions.get(key, 0.0) + signed
        if abs(net) < FLAT_EPSILON:
            self.state.positions.pop(key, None)
        else:
            self.state.positions[key] = net

    def _cancel(self, order: PaperOrder, reason: str, time: datetime) -> list[BrokerReport]:
        """Cancel working ``order`` and, as it never filled, its working
        children (reason ``"parent cancelled"``). Returns the reports."""
        order.status = OrderStatus.CANCELLED
        reports: list[BrokerReport] = [
            OrderCancelled(order.request.client_order_id, order.broker_order_id, reason, time)
        ]
        for child in self._children(order):
            if child.working:
                reports.extend(self._cancel(child, "parent cancelled", time))
        return reports

    def _children(self, order: PaperOrder) -> list[PaperOrder]:
        own_id = order.request.client_order_id
        return [o for o in self.state.orders.values() if o.request.parent_client_order_id == own_id]

    def _activate_children(self, order: PaperOrder) -> None:
        for child in self._children(order):
            child.active = True

    async def _deliver(self, reports: list[BrokerReport]) -> None:
        """Await the listener with each report, in order (dropped if no
        listener is set: the state, e.g. :meth:`executions`, still has them)."""
        if self._listener is None:
            return
        for report in reports:
            await self._listener(report)
