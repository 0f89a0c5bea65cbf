"""Order routing of :class:`~.client.IBKRBroker`: submit (brackets
included), modify, cancel, and the working orders as IB reports them.

Bracket orders, the IB way. The engine sends an entry, then its stop-loss
and take-profit children (``parent_client_order_id`` = the entry's id,
sharing an ``oco_group``), one request at a time, each awaited. The entry
is sent with ``transmit=True`` (the adapter cannot know whether children
will follow); each child is sent with ``parentId`` = the entry's IB
``orderId`` and ``ocaGroup`` (``ocaType`` 1: a fill cancels the others).
TWS holds the children until the parent fills, cancels them with the
parent, and the OCA group cancels the take-profit when the stop-loss fills
(and vice versa).

Risk window of that choice: a parent that fills before its children reach
TWS (a market entry usually does: a few milliseconds) leaves the position
without a stop for the time the two child submissions take. A child whose
parent has already filled is therefore sent without ``parentId`` (a plain
working order, still in the OCA group): IB would otherwise be asked to
attach it to a finished order. A child whose parent is unknown, cancelled
or rejected without fill is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from live_trading.domain.orders import OrderAck, OrderRequest
from live_trading.engine.ports import ConnectionState

from .parsing import (
    ORDER_REF_PREFIX,
    asset_to_contract,
    broker_order_id_of,
    order_ref_prefix,
    request_to_order,
    trade_to_request,
)

_DONE_CANCELLED = ("Cancelled", "ApiCancelled", "Inactive")


class OrderRouting:
    """Mixin of IBKRBroker (uses its ``_ib``, ``config`` and bookkeeping)."""

    def _require_connected(self) -> None:
        if self._state != ConnectionState.CONNECTED or not self._ib.isConnected():
            raise ConnectionError(f"IB not connected ({self._state})")

    def _trade_of(self, client_order_id: str):
        found = None
        for trade in self._ib.trades():
            if trade.order.orderRef == client_order_id:
                if trade.isActive():
                    return trade
                found = found or trade
        return found

    def _parent_id_for(self, request: OrderRequest) -> tuple[int, str | None]:
        """(IB parentId to send, refusal reason) of a bracket child."""
        parent_cid = request.parent_client_order_id
        parent = self._trade_of(parent_cid)
        if parent is None:
            return 0, f"unknown parent order {parent_cid!r}"
        status = parent.orderStatus.status
        if status == "Filled":
            return 0, None  # parent done: the child works on its own (OCA kept)
        if status in _DONE_CANCELLED and not parent.fills:
            return 0, f"parent order {parent_cid!r} is {status}"
        return parent.order.orderId, None

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        self._require_connected()
        cid = request.client_order_id
        if not cid.startswith(ORDER_REF_PREFIX):
            return OrderAck(cid, None, False, f"client order id must start with "
                                              f"{ORDER_REF_PREFIX!r}")
        parent_id = 0
        if request.parent_client_order_id:
            parent_id, refusal = self._parent_id_for(request)
            if refusal is not None:
                return OrderAck(cid, None, False, refusal)
        try:
            contract = asset_to_contract(request.asset, self.config.contracts)
            order = request_to_order(request, self.config.account)
        except ValueError as error:
            return OrderAck(cid, None, False, str(error))
        order.parentId = parent_id
        gate = self._submitting[cid] = asyncio.Event()
        try:
            self._requests[cid] = request
            trade = self._ib.placeOrder(contract, order)
            deadline = asyncio.get_running_loop().time() + self.config.submit_ack_timeout_s
            while (trade.orderStatus.status in ("PendingSubmit", "ApiPending")
                   and asyncio.get_running_loop().time() < deadline
                   and self._ib.isConnected()):
                await asyncio.sleep(0.005)
            status = trade.orderStatus.status
            if status in _DONE_CANCELLED and not trade.fills:
                self._cancel_reported.add(cid)
                return OrderAck(cid, None, False, reason_of(trade))
            broker_id = broker_order_id_of(trade.order.permId, trade.order.orderId)
            self._broker_ids[cid] = broker_id
            return OrderAck(cid, broker_id, True)
        finally:
            del self._submitting[cid]
            gate.set()

    async def cancel_order(self, client_order_id: str) -> None:
        self._require_connected()
        trade = self._trade_of(client_order_id)
        if trade is None or not trade.isActive():
            return
        self._ib.cancelOrder(trade.order)

    async def modify_order(self, client_order_id: str, *, quantity: float | None = None,
                           limit_price: float | None = None,
                           stop_price: float | None = None) -> OrderAck:
        """Send the changed order and wait for IB's answer: its openOrder
        echo (accepted) or an error about that orderId (refused, the local
        copy restored); no answer within ``submit_ack_timeout_s`` = refused
        (the change may still be applied by IB later)."""
        self._require_connected()
        trade = self._trade_of(client_order_id)
        if trade is None or not trade.isActive():
            return OrderAck(client_order_id, None, False, "no such working order")
        if quantity is not None and quantity <= 0:
            return OrderAck(client_order_id, None, False, "quantity must be > 0")
        order = trade.order
        before = (order.totalQuantity, order.lmtPrice, order.auxPrice)
        if quantity is not None:
            order.totalQuantity = quantity
        if limit_price is not None:
            order.lmtPrice = limit_price
        if stop_price is not None:
            order.auxPrice = stop_price
        answer = asyncio.get_running_loop().create_future()

        def on_open(echoed) -> None:
            if echoed is trade and not answer.done():
                answer.set_result(None)

        def on_error(req_id, code, message, _contract) -> None:
            if req_id == order.orderId and not answer.done() and not 2100 <= code < 2200:
                answer.set_result(f"IB {code}: {message}")

        self._ib.openOrderEvent += on_open
        self._ib.errorEvent += on_error
        try:
            self._ib.placeOrder(trade.contract, order)
            try:
                error = await asyncio.wait_for(answer, self.config.submit_ack_timeout_s)
            except TimeoutError:
                error = "IB did not confirm the modification in time"
        finally:
            self._ib.openOrderEvent -= on_open
            self._ib.errorEvent -= on_error
        if error is not None or trade.orderStatus.status in _DONE_CANCELLED:
            if error is not None:
                order.totalQuantity, order.lmtPrice, order.auxPrice = before
            return OrderAck(client_order_id, None, False, error or reason_of(trade))
        return OrderAck(client_order_id, self._broker_ids.get(client_order_id), True)

    async def open_orders(self, account: str) -> list[OrderRequest]:
        """Working orders of the operation ``account`` (orderRef ``LT-<account>-``),
        as IB reports them now (``reqAllOpenOrders``); held bracket children
        included, linked to their parent by IB's ``parentId``."""
        self._require_connected()
        prefix = order_ref_prefix(account)
        trades = await self._ib.reqAllOpenOrdersAsync()
        refs_by_id = {(t.order.clientId, t.order.orderId): t.order.orderRef
                      for t in self._ib.trades()}
        result: dict[str, OrderRequest] = {}
        for trade in trades:
            ref = trade.order.orderRef
            if not ref.startswith(prefix) or trade.orderStatus.status in _DONE_CANCELLED \
                    or trade.orderStatus.status == "Filled":
                continue
            request = trade_to_request(trade, account, self.config.contracts)
            if request is None:
                continue
            known = self._requests.get(ref)
            if known is not None:  # keep bracket links as we sent them
                request = dataclasses.replace(
                    request, parent_client_order_id=known.parent_client_order_id,
                    oco_group=known.oco_group or request.oco_group)
            elif trade.order.parentId:
                parent_ref = refs_by_id.get((trade.order.clientId, trade.order.parentId))
                with contextlib.suppress(TypeError):
                    request = dataclasses.replace(request, parent_client_order_id=parent_ref)
            result[ref] = request
            if trade.order.permId:
                self._broker_ids[ref] = broker_order_id_of(trade.order.permId,
                                                           trade.order.orderId)
        return list(result.values())


def reason_of(trade) -> str:
    for entry in reversed(trade.log):
        if entry.errorCode or entry.message:
            return entry.message
    return f"order {trade.orderStatus.status}"
