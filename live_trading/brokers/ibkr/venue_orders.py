"""Orders as the venue knows them, found by our client order id
(``orderRef``): cancel, the working orders, and the look-ups behind a
cancel or modify of an order ib_async has forgotten (placed before a
reconnect or a restart of our process).

A cancel is never a silent no-op: the :class:`~live_trading.domain.orders.CancelAck`
says REQUESTED (sent; an ``OrderCancelled`` report follows), ALREADY_DONE
(the order had filled or was cancelled) or NOT_FOUND (IB has no open or
completed order with that ``orderRef``).
"""

from __future__ import annotations

import contextlib
import dataclasses

from live_trading.domain.orders import CancelAck, CancelOutcome, OrderRequest

from .deadlines import within
from .parsing import order_ref_prefix, trade_to_request
from .reports import DONE_CANCELLED
from .state import IBKRState

FINISHED = (*DONE_CANCELLED, "Filled")


class VenueOrders(IBKRState):
    """Mixin of IBKRBroker (uses its ``_ib``, ``config`` and bookkeeping)."""

    def _trade_of(self, client_order_id: str):
        """ib_async's trade of ``client_order_id`` (a working one first), or None."""
        found = None
        for trade in self._ib.trades():
            if trade.order.orderRef == client_order_id:
                if trade.isActive():
                    return trade
                found = found or trade
        return found

    async def _find_open_at_venue(self, client_order_id: str, call: str):
        """The working trade of ``client_order_id`` among IB's open orders
        (``reqAllOpenOrders``, under the request deadline), or None."""
        trades = await within(call, self._ib.reqAllOpenOrdersAsync(), self.config.request_timeout_s)
        for trade in trades:
            if trade.order.orderRef == client_order_id and trade.orderStatus.status not in FINISHED:
                self._remember_broker_id(client_order_id, trade)
                return trade
        return None

    async def _working_trade(self, client_order_id: str, call: str):
        trade = self._trade_of(client_order_id)
        if trade is not None and trade.isActive():
            return trade
        return await self._find_open_at_venue(client_order_id, call)

    async def _done_at_venue(self, client_order_id: str) -> str | None:
        """Why ``client_order_id`` is finished (filled / cancelled), or None
        if neither our fills nor IB's completed orders know it."""
        trade = self._trade_of(client_order_id)
        if trade is not None and trade.orderStatus.status in FINISHED:
            return f"order {trade.orderStatus.status}"
        if any(e.client_order_id == client_order_id for e in self._known.values()):
            return "order filled"
        completed = await within(
            "cancel_order", self._ib.reqCompletedOrdersAsync(True), self.config.request_timeout_s
        )
        for trade in completed:
            if trade.order.orderRef == client_order_id:
                return f"order {trade.orderStatus.status or 'completed'}"
        return None

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        """See :class:`~live_trading.engine.ports.Broker` and the module doc.

        Raises:
            ConnectionError: not connected (not sent). BrokerTimeout: the
                look-up at the venue got no answer (nothing was sent).
        """
        self._require_connected()
        cid = client_order_id
        trade = await self._working_trade(cid, "cancel_order")
        if trade is not None:
            self._ib.cancelOrder(trade.order)
            return CancelAck(cid, CancelOutcome.REQUESTED)
        reason = await self._done_at_venue(cid)
        if reason is not None:
            return CancelAck(cid, CancelOutcome.ALREADY_DONE, reason)
        return CancelAck(
            cid, CancelOutcome.NOT_FOUND, f"IB has no open or completed order with orderRef {cid!r}"
        )

    async def open_orders(self, account: str) -> list[OrderRequest]:
        """Working orders of the operation ``account`` (orderRef ``LT-<account>-``),
        as IB reports them now (``reqAllOpenOrders``); held bracket children
        included, linked to their parent by IB's ``parentId``.

        Raises:
            ConnectionError: not connected. BrokerTimeout: no answer in time.
        """
        self._require_connected()
        prefix = order_ref_prefix(account)
        trades = await within(
            "open_orders", self._ib.reqAllOpenOrdersAsync(), self.config.request_timeout_s
        )
        refs_by_id = {
            (t.order.clientId, t.order.orderId): t.order.orderRef for t in self._ib.trades()
        }
        result: dict[str, OrderRequest] = {}
        for trade in trades:
            ref = trade.order.orderRef
            if not ref.startswith(prefix) or trade.orderStatus.status in FINISHED:
                continue
            request = trade_to_request(trade, account, self.config.contracts)
            if request is None:
                continue
            result[ref] = self._with_bracket_links(request, trade, refs_by_id)
            self._remember_broker_id(ref, trade)
        return list(result.values())

    def _with_bracket_links(self, request: OrderRequest, trade, refs_by_id) -> OrderRequest:
        known = self._requests.get(request.client_order_id)
        if known is not None:  # keep bracket links as we sent them
            return dataclasses.replace(
                request,
                parent_client_order_id=known.parent_client_order_id,
                oco_group=known.oco_group or request.oco_group,
            )
        if trade.order.parentId:
            parent_ref = refs_by_id.get((trade.order.clientId, trade.order.parentId))
            with contextlib.suppress(TypeError):
                return dataclasses.replace(request, parent_client_order_id=parent_ref)
        return request
