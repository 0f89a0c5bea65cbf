"""Order routing of :class:`~.client.OANDABroker`: submit, cancel, modify.

Lost answers. A POST or PUT whose answer is lost (deadline passed, the
connection dropped after sending) may have been processed. The order is
re-read by its client id (``GET /orders/@<ext id>``): found, its ack is
built from what OANDA has; not found, or the re-read failing too, the call
raises ``OrderOutcomeUnknown`` and the order stays tracked, so a fill that
turns up later is still reported (and ``open_orders`` / ``executions_since``
show the venue's truth for reconciliation). A 5xx answer to a POST is
settled the same way, then sent again only when OANDA has no such order.

Reports of an order being sent are held back by the transaction feed until
its call has returned (a gate per client id, not a lock the feed waits on).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from live_trading.domain.orders import (
    CancelAck,
    CancelOutcome,
    OrderAck,
    OrderCancelled,
    OrderRequest,
    OrderStatus,
)
from live_trading.domain.values import OrderType, utc_now
from live_trading.engine.ports import OrderOutcomeUnknown

from . import parsing as p
from .rest import AnswerLost
from .settling import OrderSettling
from .tracking import FINISHED, Tracked, request_from_pending, request_problem

_DONE_STATES = ("FILLED", "CANCELLED", "TRIGGERED")
_STATUS = {
    "PENDING": OrderStatus.SUBMITTED,
    "FILLED": OrderStatus.FILLED,
    "TRIGGERED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELLED,
}


class OrderRouting(OrderSettling):
    """Mixin of OANDABroker (uses its REST calls; settling and bookkeeping
    in :class:`~.settling.OrderSettling`)."""

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        """Send ``request``; see :mod:`.client` for bracket children.

        Refusals (``accepted=False``) carry OANDA's reason, e.g.
        ``"INSUFFICIENT_MARGIN"``, ``"INSTRUMENT_NOT_TRADEABLE: ..."``.

        Raises:
            ConnectionError: OANDA unreachable or the token refused: the
                order was certainly not sent.
            OrderOutcomeUnknown: sent, the answer lost and the re-read by
                client id did not settle it (see the module docs).
        """
        self._require_connected()
        cid = request.client_order_id
        if cid in self._orders:
            return OrderAck(cid, None, False, f"duplicate client_order_id {cid!r}")
        problem = request_problem(request)
        if problem:
            return OrderAck(cid, None, False, problem)
        self._accounts.add(request.account)
        if request.parent_client_order_id is not None:
            return await self._submit_child(request)
        try:
            body = p.order_body(request, self._ext_id(request), *await self._formats(request.asset))
        except LookupError as error:
            return OrderAck(cid, None, False, str(error))
        except ValueError as error:
            return OrderAck(cid, None, False, str(error))
        tracked = self._track(request)
        return await self._send_new(tracked, body, "submit_order")

    async def _send_new(self, tracked: Tracked, body: dict[str, Any], call: str) -> OrderAck:
        """POST ``body`` for ``tracked`` and settle its outcome (module docs)."""
        with self._gate(tracked):
            status = 0
            answer: dict[str, Any] = {}
            for attempt in range(self.config.max_retries + 1):
                try:
                    status, answer = await self._call(
                        "POST", self._acct("/orders"), call=call, json=body
                    )
                except AnswerLost as lost:
                    order = await self._reread(tracked, call, lost.detail)
                    if order is None:
                        raise OrderOutcomeUnknown(
                            call, tracked.request.client_order_id, lost.detail
                        ) from None
                    return self._ack_from_order(tracked, order)
                except ConnectionError:
                    self._untrack(tracked)
                    raise
                if status < 500:
                    break
                order = await self._reread(tracked, call, f"HTTP {status}")
                if order is not None:
                    return self._ack_from_order(tracked, order)
                await asyncio.sleep(self.config.backoff_s(attempt))
            return self._ack_from_create(tracked, status, answer)

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        """Cancel a working order (``PUT /orders/@<ext id>/cancel``); the
        ``OrderCancelled`` report comes from the transaction feed. A held
        bracket child is dropped here and reported at once. An order this
        process does not know (a restart) is found at OANDA by client id.

        Returns ``REQUESTED``, ``NOT_FOUND`` (OANDA has no such order) or
        ``ALREADY_DONE`` (filled, cancelled or triggered).

        Raises:
            ConnectionError: not sent.
            OrderOutcomeUnknown: sent, answer lost, re-read inconclusive.
        """
        tracked = self._orders.get(client_order_id)
        if tracked is not None and tracked.status in FINISHED:
            return CancelAck(client_order_id, CancelOutcome.ALREADY_DONE, tracked.status.value)
        if tracked is not None and tracked.held:
            tracked.status = OrderStatus.CANCELLED
            tracked.held = False
            await self._deliver(
                [OrderCancelled(client_order_id, None, "cancelled by request", utc_now())]
            )
            return CancelAck(client_order_id, CancelOutcome.REQUESTED, "held child dropped")
        self._require_connected()
        if tracked is not None:
            ext = tracked.ext_id
        else:  # sent before a restart: its OrderCancelled is reported by ext id
            ext = self._ext_of_unknown(client_order_id)
            self._cancel_requested[ext] = client_order_id
        path = self._acct(f"/orders/@{ext}/cancel")
        try:
            status, answer = await self._call("PUT", path, call="cancel_order", idempotent=True)
        except AnswerLost as lost:
            return await self._cancel_settled(client_order_id, ext, lost.detail, lost=True)
        self._wake.set()
        if status < 400:
            return CancelAck(client_order_id, CancelOutcome.REQUESTED)
        if status == 404:
            return await self._cancel_settled(
                client_order_id, ext, p.error_reason(status, answer), lost=False
            )
        raise ConnectionError(
            f"OANDA refused the cancel of {client_order_id}: {p.error_reason(status, answer)}"
        )

    async def _cancel_settled(self, cid: str, ext: str, detail: str, *, lost: bool) -> CancelAck:
        """After a 404 (OANDA: ORDER_DOESNT_EXIST, also said of an order no
        longer pending) or a lost answer: what OANDA has of the order."""
        order = await self._reread_ext(ext, "cancel_order", cid, detail)
        if order is None:
            return CancelAck(
                cid, CancelOutcome.NOT_FOUND, f"OANDA has no order with client id {ext}"
            )
        state = str(order.get("state"))
        if lost and state == "CANCELLED":  # our cancel took; its report follows
            return CancelAck(cid, CancelOutcome.REQUESTED, "cancelled at OANDA")
        if state in _DONE_STATES:
            return CancelAck(cid, CancelOutcome.ALREADY_DONE, f"order {state}")
        raise OrderOutcomeUnknown("cancel_order", cid, f"{detail}; order still {state}")

    async def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderAck:
        """Replace a working order (``PUT /orders/@<ext id>``): OANDA cancels
        it and creates a new one with a new broker id (same client id).
        Stop-loss/take-profit orders close the whole trade: only their price
        can change. An unknown or finished order is refused, saying so; a
        lost answer is settled by re-reading the order.

        Raises:
            ConnectionError: not sent.
            OrderOutcomeUnknown: sent, answer lost, re-read failed.
        """
        tracked = self._orders.get(client_order_id) or await self._adopt(client_order_id)
        if tracked is None:
            return OrderAck(
                client_order_id,
                None,
                False,
                "no such working order: OANDA has no order with this client id",
            )
        if tracked.status not in (OrderStatus.PENDING, OrderStatus.SUBMITTED):
            return OrderAck(
                client_order_id,
                tracked.broker_order_id,
                False,
                f"the order is no longer working ({tracked.status.value})",
            )
        given = (("quantity", quantity), ("limit_price", limit_price), ("stop_price", stop_price))
        changes: dict[str, Any] = {k: v for k, v in given if v is not None}
        request = dataclasses.replace(tracked.request, **changes)
        problem = request_problem(request) or self._unmodifiable(tracked, quantity)
        if problem:
            return OrderAck(client_order_id, tracked.broker_order_id, False, problem)
        if tracked.held:
            tracked.request = request
            return OrderAck(client_order_id, tracked.broker_order_id, True)
        self._require_connected()
        body = await self._replacement_body(tracked, request)
        with self._gate(tracked):
            return await self._replace(tracked, request, body)

    async def _replace(
        self, tracked: Tracked, request: OrderRequest, body: dict[str, Any]
    ) -> OrderAck:
        """PUT the replacement; a lost answer or a 5xx is settled by
        re-reading the order (replaced: a new id), a 5xx then sent again."""
        cid, old_id = tracked.request.client_order_id, tracked.broker_order_id
        path = self._acct(f"/orders/@{tracked.ext_id}")
        status = 0
        answer: dict[str, Any] = {}
        for attempt in range(self.config.max_retries + 1):
            try:
                status, answer = await self._call("PUT", path, call="modify_order", json=body)
            except AnswerLost as lost:
                order = await self._reread(tracked, "modify_order", lost.detail)
                if order is None or str(order["id"]) == old_id:
                    state = order.get("state") if order else "not found"
                    return OrderAck(
                        cid,
                        old_id,
                        False,
                        f"the change was not applied "
                        f"({lost.detail}; the order at OANDA "
                        f"is {state})",
                    )
                return self._replaced(tracked, request, str(order["id"]))
            if status < 500:
                break
            order = await self._reread(tracked, "modify_order", f"HTTP {status}")
            if order is not None and str(order["id"]) != old_id:
                return self._replaced(tracked, request, str(order["id"]))
            await asyncio.sleep(self.config.backoff_s(attempt))
        created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
        if status >= 400 or not created:
            return OrderAck(cid, old_id, False, p.error_reason(status, answer))
        return self._replaced(tracked, request, str(created["id"]))

    def _replaced(self, tracked: Tracked, request: OrderRequest, new_id: str) -> OrderAck:
        tracked.request, tracked.broker_order_id = request, new_id
        return OrderAck(request.client_order_id, new_id, True)

    @staticmethod
    def _unmodifiable(tracked: Tracked, quantity: float | None) -> str | None:
        if tracked.dependent_kind is not None:
            if quantity is not None and quantity != tracked.request.quantity:
                return (
                    "OANDA stop-loss/take-profit orders close the whole trade: "
                    "their quantity cannot change"
                )
            return None
        if tracked.request.order_type is OrderType.MARKET:
            return "a market order cannot be modified"
        return None

    async def _replacement_body(self, tracked: Tracked, request: OrderRequest) -> dict[str, Any]:
        formats = await self._formats(request.asset)
        if tracked.dependent_kind is None:
            return p.order_body(request, tracked.ext_id, *formats)
        price = request.stop_price if request.order_type is OrderType.STOP else request.limit_price
        return p.dependent_order_body(
            tracked.dependent_kind, tracked.trade_id or "", price or 0.0, tracked.ext_id, formats[0]
        )

    async def _adopt(self, client_order_id: str) -> Tracked | None:
        """Track an order sent before a restart, as OANDA has it (by client
        id); None when OANDA has no such order."""
        self._require_connected()
        ext = self._ext_of_unknown(client_order_id)
        order = await self._reread_ext(
            ext, "modify_order", client_order_id, "not tracked since the adapter started"
        )
        if order is None:
            return None
        account = ext[3:].rsplit("-", 1)[0] if ext.startswith("LT-") else ""
        trades: dict[str, Any] = {}
        if order.get("tradeID"):
            _, body = await self._get_ok(self._acct("/openTrades"), call="modify_order")
            trades = {t["id"]: t for t in body.get("trades", [])}
        request = request_from_pending(order, client_order_id, account, trades)
        if request is None:
            return None
        tracked = Tracked(
            request,
            ext,
            broker_order_id=str(order["id"]),
            status=_STATUS.get(str(order.get("state")), OrderStatus.SUBMITTED),
            trade_id=order.get("tradeID"),
            dependent_kind=order["type"] if order.get("tradeID") else None,
        )
        self._orders[client_order_id], self._by_ext[ext] = tracked, client_order_id
        return tracked
