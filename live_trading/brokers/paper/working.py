"""How the paper broker works orders: fills, OCO and bracket book-keeping.

Every function records its changes in a :class:`~.book.PaperBatch` (never in
the committed state) and returns the reports they produce, in order; the
broker commits the batch, then delivers the reports. Prices in quote
currency, quantities in base units, times aware UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from live_trading.domain.orders import (
    BrokerReport,
    CancelAck,
    CancelOutcome,
    Execution,
    OrderAck,
    OrderCancelled,
    OrderRequest,
    OrderStatus,
)
from live_trading.domain.values import Bar, OrderType, Side, utc_now

from . import matching
from .book import PaperBatch, PaperBookState, PaperOrder
from .config import PaperBrokerConfig


def work_bar(
    batch: PaperBatch, config: PaperBrokerConfig, account: str, asset: str, bar: Bar
) -> list[BrokerReport]:
    """Work (account, asset)'s orders against ``bar`` (the steps documented
    in :meth:`~.client.PaperBroker.on_bar`) and remember it as the pair's
    last bar."""
    reports = fill_markets(batch, config, account, asset, bar.open, bar.time)
    triggered = active(batch, account, asset, market=False)
    triggered.sort(key=lambda o: o.request.order_type != OrderType.STOP)
    for candidate in triggered:
        order = batch.order(candidate.request.client_order_id)
        if order is None or not order.working:  # cancelled by an earlier OCO fill
            continue
        price = matching.triggered_fill_price(order.request, bar, config)
        if price is not None:
            reports.extend(fill(batch, config, order, price, bar.time))
            activate_children(batch, order)
    batch.set_last_bar((account, asset), bar)
    return reports


def quiet(
    state: PaperBookState, config: PaperBrokerConfig, account: str, asset: str, bar: Bar
) -> bool:
    """True when ``bar`` fills nothing of (account, asset): no active MARKET
    order and no active STOP or LIMIT the bar reaches. Working such a bar
    only moves the pair's clock (a shortcut for :func:`work_bar`)."""
    for cid in state.working.get((account, asset), ()):
        order = state.orders[cid]
        if order.active and (
            order.request.order_type == OrderType.MARKET
            or matching.triggered_fill_price(order.request, bar, config) is not None
        ):
            return False
    return True


def active(batch: PaperBatch, account: str, asset: str, market: bool) -> list[PaperOrder]:
    """Active working orders of (account, asset), MARKET ones if ``market``
    else STOP and LIMIT ones, in submission order."""
    return [
        o
        for o in batch.working_orders(account, asset)
        if o.active and (o.request.order_type == OrderType.MARKET) == market
    ]


def fill_markets(
    batch: PaperBatch,
    config: PaperBrokerConfig,
    account: str,
    asset: str,
    reference: float,
    time: datetime,
) -> list[BrokerReport]:
    """Fill the active MARKET orders of (account, asset) at ``reference``
    (quote currency) plus half-spread and slippage, dated ``time``; then
    activate their children."""
    reports: list[BrokerReport] = []
    for candidate in active(batch, account, asset, market=True):
        order = batch.order(candidate.request.client_order_id)
        if order is not None and order.working:  # not cancelled by an OCO fill
            price = matching.market_fill_price(order.request.side, reference, config)
            reports.extend(fill(batch, config, order, price, time))
            activate_children(batch, order)
    return reports


def fill(
    batch: PaperBatch,
    config: PaperBrokerConfig,
    order: PaperOrder,
    price: float,
    time: datetime,
) -> list[BrokerReport]:
    """Fill ``order`` completely at ``price``; update the position; cancel
    its OCO siblings. ``price`` is put on the asset's tick (see
    :meth:`PaperBrokerConfig.spec`) first. Returns the execution and the
    cancellations."""
    req = order.request
    price = config.spec(req.asset).round_price(price)
    batch.update(order, status=OrderStatus.FILLED)
    execution = Execution(
        execution_id=uuid.uuid4().hex,
        client_order_id=req.client_order_id,
        broker_order_id=order.broker_order_id,
        account=req.account,
        asset=req.asset,
        side=req.side,
        quantity=req.quantity,
        price=price,
        commission=matching.commission(req.quantity, price, config),
        time=time,
    )
    batch.add_execution(execution)
    key = (req.account, req.asset)
    signed = req.quantity if req.side == Side.BUY else -req.quantity
    batch.set_position(key, batch.position(key) + signed)
    reports: list[BrokerReport] = [execution]
    group = (req.account, req.oco_group)
    for other in batch.working_orders(req.account) if req.oco_group else []:
        if other.working and (other.request.account, other.request.oco_group) == group:
            reports.extend(cancel(batch, other, "OCO", time))
    return reports


def cancel(batch: PaperBatch, order: PaperOrder, reason: str, time: datetime) -> list[BrokerReport]:
    """Cancel working ``order`` and, as it never filled, its working children
    (reason ``"parent cancelled"``). Returns the reports."""
    batch.update(order, status=OrderStatus.CANCELLED)
    reports: list[BrokerReport] = [
        OrderCancelled(order.request.client_order_id, order.broker_order_id, reason, time)
    ]
    for child in children(batch, order):
        if child.working:
            reports.extend(cancel(batch, child, "parent cancelled", time))
    return reports


def children(batch: PaperBatch, order: PaperOrder) -> list[PaperOrder]:
    """The working bracket children of ``order`` (current versions); a
    child is on its parent's (account, asset)."""
    own_id, request = order.request.client_order_id, order.request
    return [
        o
        for o in batch.working_orders(request.account, request.asset)
        if o.request.parent_client_order_id == own_id
    ]


def activate_children(batch: PaperBatch, order: PaperOrder) -> None:
    """Let the working children of the filled ``order`` start working."""
    for child in children(batch, order):
        if child.working and not child.active:
            batch.update(child, active=True)


def accept(batch: PaperBatch, request: OrderRequest) -> OrderAck:
    """Accept ``request`` into ``batch`` as a working order (a bracket child
    inactive until its parent has filled), or refuse it with the reason."""
    problem = rejection(batch, request)
    if problem is not None:
        return OrderAck(request.client_order_id, None, accepted=False, reason=problem)
    parent_id = request.parent_client_order_id
    parent = batch.order(parent_id) if parent_id else None
    order = batch.add_order(
        request,
        uuid.uuid4().hex,
        active=parent is None or parent.status == OrderStatus.FILLED,
    )
    key = (request.account, request.asset)
    clock = batch.state.last_bars.get(key)
    if clock is not None:  # make the pair's clock durable with its first order
        batch.changes.last_bars[key] = clock
    return OrderAck(request.client_order_id, order.broker_order_id, accepted=True)


def rejection(batch: PaperBatch, request: OrderRequest) -> str | None:
    """Why ``request`` must be rejected, or ``None`` to accept it."""
    problem = matching.request_problem(request)
    if problem is not None:
        return problem
    if batch.order(request.client_order_id) is not None:
        return f"duplicate client_order_id {request.client_order_id!r}"
    parent_id = request.parent_client_order_id
    if parent_id is None:
        return None
    parent = batch.order(parent_id)
    if parent is None or parent.request.account != request.account:
        return f"unknown parent order {parent_id!r} in account {request.account!r}"
    if parent.request.asset != request.asset:
        return f"parent order {parent_id!r} is on another asset"
    if parent.status == OrderStatus.CANCELLED:
        return f"parent order {parent_id!r} is cancelled"
    return None


def cancel_by_request(
    batch: PaperBatch, client_order_id: str, reports: list[BrokerReport]
) -> CancelAck:
    """Cancel a working order (and its unfilled children) in ``batch``,
    adding the reports; the ack says REQUESTED (cancelled), NOT_FOUND or
    ALREADY_DONE. The reports are dated by the last bar seen for the order's
    (account, asset), so they stay on the operation's replayed clock (the
    wall clock if no bar has been seen yet)."""
    order = batch.order(client_order_id)
    if order is None:
        return CancelAck(client_order_id, CancelOutcome.NOT_FOUND, "no such order")
    if not order.working:
        reason = f"order already {order.status.lower()}"
        return CancelAck(client_order_id, CancelOutcome.ALREADY_DONE, reason)
    last = batch.state.last_bars.get((order.request.account, order.request.asset))
    time = last.time if last is not None else utc_now()
    reports.extend(cancel(batch, order, "cancelled by request", time))
    return CancelAck(client_order_id, CancelOutcome.REQUESTED)
