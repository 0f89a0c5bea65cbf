"""Bracket children on OANDA (see :mod:`.client`): stop-loss and
take-profit orders are *dependent orders* on the trade their entry opened."""

from __future__ import annotations

from live_trading.domain.orders import (
    BrokerReport,
    OrderAck,
    OrderCancelled,
    OrderRequest,
    OrderStatus,
)
from live_trading.domain.values import OrderType, utc_now

from . import parsing as p
from .orders import _Tracked, request_problem


class BracketOrders:
    """Mixin of OANDABroker: bracket children held, placed and released."""

    async def submit_bracket(self, entry: OrderRequest, stop_loss: OrderRequest,
                             take_profit: OrderRequest) -> list[OrderAck]:
        """Send a bracket as one OANDA order with ``stopLossOnFill`` and
        ``takeProfitOnFill`` (atomic: OANDA creates the dependent orders when
        the entry fills). Returns the acks of entry, stop-loss, take-profit."""
        self._require_connected()
        for req in (entry, stop_loss, take_profit):
            problem = request_problem(req) or (
                f"duplicate client_order_id {req.client_order_id!r}"
                if req.client_order_id in self._orders else None)
            if problem:
                return [OrderAck(r.client_order_id, None, False, problem)
                        for r in (entry, stop_loss, take_profit)]
        self._accounts.add(entry.account)
        precision = self._precision(entry.asset)
        body = p.order_body(entry, self._ext_id(entry), precision,
                            stop_loss=(stop_loss.stop_price, self._ext_id(stop_loss)),
                            take_profit=(take_profit.limit_price, self._ext_id(take_profit)))
        async with self._sync_lock:
            children = [self._track(stop_loss, dependent_kind="STOP_LOSS"),
                        self._track(take_profit, dependent_kind="TAKE_PROFIT")]
            tracked = self._track(entry)
            status, answer = await self._call("POST", self._acct("/orders"), json=body)
            ack = self._ack_from_create(tracked, status, answer)
            acks = [ack]
            for child in children:
                cid = child.request.client_order_id
                if not ack.accepted:
                    child.status = OrderStatus.REJECTED
                    acks.append(OrderAck(cid, None, False, ack.reason))
                    continue
                code, found = await self._call("GET", self._acct(f"/orders/@{child.ext_id}"))
                if code == 200:
                    child.broker_order_id = str(found["order"]["id"])
                    child.trade_id = found["order"].get("tradeID")
                    child.status = OrderStatus.SUBMITTED
                else:
                    child.broker_order_id = f"on-fill-of-{ack.broker_order_id}"
                acks.append(OrderAck(cid, child.broker_order_id, True))
            return acks

    async def _release_children(self, parent: _Tracked) -> list[BrokerReport]:
        """Send the held children of a just-filled parent as dependent orders."""
        reports: list[BrokerReport] = []
        for child in self._children(parent.request.client_order_id):
            if not child.held:
                continue
            child.held = False
            if parent.trade_id is None:
                child.status = OrderStatus.CANCELLED
                reports.append(OrderCancelled(child.request.client_order_id, None,
                                              "parent fill opened no trade", utc_now()))
                continue
            ack = await self._place_dependent(child, parent.trade_id)
            if not ack.accepted:
                child.status = OrderStatus.CANCELLED
                reports.append(OrderCancelled(child.request.client_order_id, None,
                                              f"OANDA refused the order: {ack.reason}",
                                              utc_now()))
        return reports

    def _children(self, parent_cid: str) -> list[_Tracked]:
        return [t for t in self._orders.values()
                if t.request.parent_client_order_id == parent_cid]

    async def _submit_child(self, request: OrderRequest) -> OrderAck:
        cid = request.client_order_id
        parent = self._orders.get(request.parent_client_order_id or "")
        if parent is None or parent.request.account != request.account:
            return OrderAck(cid, None, False,
                            f"unknown parent order {request.parent_client_order_id!r}")
        if parent.request.asset != request.asset:
            return OrderAck(cid, None, False, "parent order is on another asset")
        if request.order_type is OrderType.MARKET:
            return OrderAck(cid, None, False, "a bracket child must be a STOP or LIMIT order")
        kind = "STOP_LOSS" if request.order_type is OrderType.STOP else "TAKE_PROFIT"
        if parent.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
            return OrderAck(cid, None, False, "parent order is not working")
        if parent.trade_id is not None or parent.status == OrderStatus.FILLED:
            if parent.trade_id is None:
                return OrderAck(cid, None, False, "parent fill opened no trade")
            return await self._place_dependent(self._track(request, dependent_kind=kind),
                                               parent.trade_id)
        tracked = self._track(request, dependent_kind=kind)
        tracked.held = True
        tracked.broker_order_id = f"on-fill-of-{parent.broker_order_id}"
        return OrderAck(cid, tracked.broker_order_id, True)

    async def _place_dependent(self, tracked: _Tracked, trade_id: str) -> OrderAck:
        request = tracked.request
        price = request.stop_price if request.order_type is OrderType.STOP \
            else request.limit_price
        tracked.trade_id = trade_id
        body = p.dependent_order_body(tracked.dependent_kind or "", trade_id, price or 0.0,
                                      tracked.ext_id, self._precision(request.asset))
        status, answer = await self._call("POST", self._acct("/orders"), json=body)
        created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
        if status >= 400 or not created:
            tracked.status = OrderStatus.REJECTED
            return OrderAck(request.client_order_id, None, False, p.error_reason(status, answer))
        tracked.broker_order_id = str(created["id"])
        tracked.status = OrderStatus.SUBMITTED
        self._wake.set()
        return OrderAck(request.client_order_id, tracked.broker_order_id, True)

