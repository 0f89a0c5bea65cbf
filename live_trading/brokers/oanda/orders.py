"""Order routing of :class:`~.client.OANDABroker`: submit, cancel,
modify, the working orders at OANDA, and closing positions."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from live_trading.domain.orders import OrderAck, OrderCancelled, OrderRequest, OrderStatus
from live_trading.domain.values import OrderType, utc_now

from . import parsing as p
from .rest import prefix_of

log = logging.getLogger(__name__)


@dataclasses.dataclass
class _Tracked:
    """An order this adapter sent (or holds, for a bracket child)."""

    request: OrderRequest
    ext_id: str
    broker_order_id: str | None = None
    status: OrderStatus = OrderStatus.PENDING
    trade_id: str | None = None  # the trade the order opened (entries)
    dependent_kind: str | None = None  # STOP_LOSS / TAKE_PROFIT (bracket children)
    held: bool = False  # a child waiting for its parent's fill



class OrderRouting:
    """Mixin of OANDABroker (uses its REST calls and bookkeeping)."""

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        """Send ``request``; see the module docs for bracket children.

        Refusals (``accepted=False``) carry OANDA's reason, e.g.
        ``"INSUFFICIENT_MARGIN"``, ``"INSTRUMENT_NOT_TRADEABLE: ..."``.

        Raises:
            ConnectionError: OANDA unreachable, or the token was refused. A
                timeout after the request left is also reported this way
                (the order may exist: reconcile with :meth:`broker_order_id`).
        """
        self._require_connected()
        cid = request.client_order_id
        if cid in self._orders:
            return OrderAck(cid, None, False, f"duplicate client_order_id {cid!r}")
        problem = request_problem(request)
        if problem:
            return OrderAck(cid, None, False, problem)
        self._accounts.add(request.account)
        # The poller waits while an order is sent, so that no report of it is
        # read before it is tracked, and its ack is returned first.
        async with self._sync_lock:
            if request.parent_client_order_id is not None:
                return await self._submit_child(request)
            try:
                body = p.order_body(request, self._ext_id(request),
                                    self._precision(request.asset))
            except ValueError as error:
                return OrderAck(cid, None, False, str(error))
            tracked = self._track(request)
            try:
                status, answer = await self._call("POST", self._acct("/orders"), json=body)
            except ConnectionError:
                # Tracked still: a timed-out order may exist; its reports are kept.
                tracked.status = OrderStatus.PENDING
                raise
            return self._ack_from_create(tracked, status, answer)

    async def cancel_order(self, client_order_id: str) -> None:
        """Cancel a working order (``PUT /orders/@<ext id>/cancel``); the
        ``OrderCancelled`` report comes from the poller. A held bracket child
        is dropped here and reported at once. Unknown or finished orders are
        ignored."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.status in (OrderStatus.FILLED, OrderStatus.CANCELLED,
                                                 OrderStatus.REJECTED):
            return
        if tracked.held:
            tracked.status = OrderStatus.CANCELLED
            tracked.held = False
            await self._deliver([OrderCancelled(client_order_id, None,
                                                "cancelled by request", utc_now())])
            return
        self._require_connected()
        status, answer = await self._call("PUT", self._acct(f"/orders/@{tracked.ext_id}/cancel"))
        if status >= 400:
            log.info("cancel of %s refused by OANDA: %s", client_order_id,
                     p.error_reason(status, answer))
        self._wake.set()

    async def modify_order(self, client_order_id: str, *, quantity: float | None = None,
                           limit_price: float | None = None,
                           stop_price: float | None = None) -> OrderAck:
        """Replace a working order (``PUT /orders/@<ext id>``): OANDA cancels
        it and creates a new one with a new broker id (same client id).
        Stop-loss/take-profit orders close the whole trade: only their price
        can change."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.status not in (OrderStatus.PENDING,
                                                     OrderStatus.SUBMITTED):
            return OrderAck(client_order_id, None, False, "no such working order")
        changes = {k: v for k, v in (("quantity", quantity), ("limit_price", limit_price),
                                     ("stop_price", stop_price)) if v is not None}
        request = dataclasses.replace(tracked.request, **changes)
        problem = request_problem(request)
        if problem:
            return OrderAck(client_order_id, tracked.broker_order_id, False, problem)
        if tracked.held:
            tracked.request = request
            return OrderAck(client_order_id, tracked.broker_order_id, True)
        precision = self._precision(request.asset)
        if tracked.dependent_kind is not None:
            if quantity is not None and quantity != tracked.request.quantity:
                return OrderAck(client_order_id, tracked.broker_order_id, False,
                                "OANDA stop-loss/take-profit orders close the whole trade: "
                                "their quantity cannot change")
            price = request.stop_price if request.order_type is OrderType.STOP \
                else request.limit_price
            body = p.dependent_order_body(tracked.dependent_kind, tracked.trade_id or "",
                                          price, tracked.ext_id, precision)
        elif request.order_type is OrderType.MARKET:
            return OrderAck(client_order_id, tracked.broker_order_id, False,
                            "a market order cannot be modified")
        else:
            body = p.order_body(request, tracked.ext_id, precision)
        self._require_connected()
        async with self._sync_lock:
            status, answer = await self._call("PUT", self._acct(f"/orders/@{tracked.ext_id}"),
                                              json=body)
            created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
            if status >= 400 or not created:
                return OrderAck(client_order_id, tracked.broker_order_id, False,
                                p.error_reason(status, answer))
            tracked.request = request
            tracked.broker_order_id = str(created["id"])
        self._wake.set()
        return OrderAck(client_order_id, tracked.broker_order_id, True)

    async def open_orders(self, account: str) -> list[OrderRequest]:
        """Working orders of ``account`` at OANDA (pending orders with its
        client id prefix) plus bracket children held here."""
        self._accounts.add(account)
        _, body = await self._get_ok(self._acct("/pendingOrders"))
        prefix = prefix_of(account)
        trades: dict[str, dict[str, Any]] | None = None
        out: list[OrderRequest] = []
        for order in body.get("orders", []):
            ext = (order.get("clientExtensions") or {}).get("id") or ""
            if not ext.startswith(prefix):
                continue
            cid = self._by_ext.get(ext, ext[len(prefix):])
            tracked = self._orders.get(cid)
            if tracked is not None:
                out.append(tracked.request)
                continue
            if order["type"] in ("STOP_LOSS", "TAKE_PROFIT") and trades is None:
                _, open_body = await self._get_ok(self._acct("/openTrades"))
                trades = {t["id"]: t for t in open_body.get("trades", [])}
            request = _request_from_pending(order, cid, account, trades or {})
            if request is not None:
                out.append(request)
        out.extend(t.request for t in self._orders.values()
                   if t.held and t.request.account == account
                   and t.status not in (OrderStatus.CANCELLED, OrderStatus.REJECTED))
        return out

    async def close_position(self, asset: str) -> list[str]:
        """Close every open trade on ``asset`` (``PUT /trades/{id}/close``),
        whoever opened it. Returns the fill transaction ids."""
        self._require_connected()
        instrument = p.to_instrument(asset)
        _, body = await self._get_ok(self._acct("/openTrades"))
        fills = []
        for trade in body.get("trades", []):
            if trade["instrument"] != instrument:
                continue
            status, answer = await self._call("PUT", self._acct(f"/trades/{trade['id']}/close"),
                                              json={"units": "ALL"})
            if status < 400 and "orderFillTransaction" in answer:
                fills.append(str(answer["orderFillTransaction"]["id"]))
        self._wake.set()
        return fills

    def _ack_from_create(self, tracked: _Tracked, status: int, answer: Any) -> OrderAck:
        cid = tracked.request.client_order_id
        created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
        if status >= 400 or not created:
            tracked.status = OrderStatus.REJECTED
            return OrderAck(cid, None, False, p.error_reason(status, answer))
        tracked.broker_order_id = str(created["id"])
        fill = answer.get("orderFillTransaction")
        if answer.get("orderCancelTransaction") and not fill:
            tracked.status = OrderStatus.REJECTED  # e.g. FOK market: INSUFFICIENT_MARGIN
            return OrderAck(cid, tracked.broker_order_id, False, p.error_reason(status, answer))
        tracked.status = OrderStatus.FILLED if fill else OrderStatus.SUBMITTED
        if fill and (fill.get("tradeOpened") or {}).get("tradeID"):
            tracked.trade_id = str(fill["tradeOpened"]["tradeID"])
        self._wake.set()
        return OrderAck(cid, tracked.broker_order_id, True)

    def _track(self, request: OrderRequest, dependent_kind: str | None = None) -> _Tracked:
        tracked = _Tracked(request, self._ext_id(request), dependent_kind=dependent_kind)
        self._orders[request.client_order_id] = tracked
        self._by_ext[tracked.ext_id] = request.client_order_id
        return tracked

    def _ext_id(self, request: OrderRequest) -> str:
        prefix = prefix_of(request.account)
        cid = request.client_order_id
        return cid if cid.startswith(prefix) else prefix + cid

    def _precision(self, asset: str) -> int:
        return self.config.precision(p.to_instrument(asset))


def request_problem(request: OrderRequest) -> str | None:
    if not request.quantity > 0:
        return f"quantity must be > 0, got {request.quantity!r}"
    try:
        p.to_instrument(request.asset)
        p.units_str(request.side, request.quantity)
    except ValueError as error:
        return str(error)
    if request.order_type is OrderType.LIMIT and not (request.limit_price or 0) > 0:
        return "a LIMIT order needs a limit_price > 0"
    if request.order_type is OrderType.STOP and not (request.stop_price or 0) > 0:
        return "a STOP order needs a stop_price > 0"
    return None


def _request_from_pending(order: dict[str, Any], cid: str, account: str,
                          trades: dict[str, dict[str, Any]]) -> OrderRequest | None:
    kind = order.get("type")
    price = p.to_float(order.get("price"))
    if kind in ("LIMIT", "STOP"):
        units = p.to_float(order["units"])
        return OrderRequest(cid, account, p.to_asset(order["instrument"]), p.side_of(units),
                            abs(units), OrderType(kind),
                            limit_price=price if kind == "LIMIT" else None,
                            stop_price=price if kind == "STOP" else None)
    trade = trades.get(str(order.get("tradeID")))
    if kind in ("STOP_LOSS", "TAKE_PROFIT") and trade is not None:
        units = p.to_float(trade["currentUnits"])
        stop = kind == "STOP_LOSS"
        return OrderRequest(cid, account, p.to_asset(trade["instrument"]),
                            p.side_of(units).opposite, abs(units),
                            OrderType.STOP if stop else OrderType.LIMIT,
                            limit_price=None if stop else price,
                            stop_price=price if stop else None)
    return None

