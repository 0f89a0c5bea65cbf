"""Settling and bookkeeping of :class:`~.orders.OrderRouting`.

Settling: after a lost answer (or a 5xx) an order is re-read from OANDA by
its client id (``GET /orders/@<ext id>``) and its ack built from what OANDA
has (see :mod:`.orders`). Bookkeeping: the orders this process tracks, by
client order id and by client extension id, and the gate that holds back
the transaction feed's reports of an order while its call is running.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from live_trading.domain.orders import OrderAck, OrderRequest, OrderStatus
from live_trading.engine.ports import BrokerTimeout, OrderOutcomeUnknown

from . import parsing as p
from .rest import prefix_of
from .state import OANDAState
from .tracking import Tracked

log = logging.getLogger(__name__)


class OrderSettling(OANDAState):
    """Mixin of OANDABroker under :class:`~.orders.OrderRouting`: re-reads
    of orders after lost answers, acks, and the tracked-order books."""

    # -- settling ----------------------------------------------------------------

    async def _reread(self, tracked: Tracked, call: str, detail: str) -> dict[str, Any] | None:
        return await self._reread_ext(tracked.ext_id, call, tracked.request.client_order_id, detail)

    async def _reread_ext(
        self, ext: str, call: str, cid: str, detail: str
    ) -> dict[str, Any] | None:
        """OANDA's order with client id ``ext``, None when it has none.

        Raises:
            OrderOutcomeUnknown: the re-read failed too.
        """
        try:
            status, body = await self._call("GET", self._acct(f"/orders/@{ext}"), call=call)
        except (BrokerTimeout, ConnectionError) as error:
            raise OrderOutcomeUnknown(call, cid, f"{detail}; re-read failed: {error}") from None
        if status == 404:
            return None
        if status >= 400 or not isinstance(body.get("order"), dict):
            raise OrderOutcomeUnknown(
                call, cid, f"{detail}; re-read answered {p.error_reason(status, body)}"
            )
        log.warning(
            "OANDA %s of %s: %s; settled by re-reading the order (%s)",
            call,
            cid,
            detail,
            body["order"].get("state"),
        )
        return body["order"]

    def _ack_from_order(self, tracked: Tracked, order: dict[str, Any]) -> OrderAck:
        """The ack of a new order as re-read from OANDA after a lost answer."""
        answer: dict[str, Any] = {"orderCreateTransaction": {"id": order["id"]}}
        if order.get("state") == "FILLED":
            fill: dict[str, Any] = {"id": order.get("fillingTransactionID")}
            if order.get("tradeOpenedID"):
                fill["tradeOpened"] = {"tradeID": order["tradeOpenedID"]}
            answer["orderFillTransaction"] = fill
        elif order.get("state") == "CANCELLED":
            answer["orderCancelTransaction"] = {
                "reason": "CANCELLED by OANDA (found on re-read after a lost answer)"
            }
        return self._ack_from_create(tracked, 201, answer)

    def _ack_from_create(self, tracked: Tracked, status: int, answer: Any) -> OrderAck:
        cid = tracked.request.client_order_id
        created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
        if status >= 400 or not created:
            tracked.status, tracked.refused_status = OrderStatus.REJECTED, status
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

    # -- bookkeeping ----------------------------------------------------------------

    def _track(self, request: OrderRequest, dependent_kind: str | None = None) -> Tracked:
        tracked = Tracked(request, self._ext_id(request), dependent_kind=dependent_kind)
        self._orders[request.client_order_id] = tracked
        self._by_ext[tracked.ext_id] = request.client_order_id
        return tracked

    def _untrack(self, tracked: Tracked) -> None:
        self._orders.pop(tracked.request.client_order_id, None)
        self._by_ext.pop(tracked.ext_id, None)

    def _gate(self, tracked: Tracked) -> _Gate:
        return _Gate(self, tracked.ext_id)

    def _ext_id(self, request: OrderRequest) -> str:
        prefix = prefix_of(request.account)
        cid = request.client_order_id
        return cid if cid.startswith(prefix) else prefix + cid

    def _ext_of_unknown(self, client_order_id: str) -> str:
        """The client extension id of an order sent before a restart: our
        client order ids (``LT-<operation>-<n>``) are their own ext id."""
        if client_order_id.startswith("LT-") or not self._accounts:
            return client_order_id
        return prefix_of(min(self._accounts)) + client_order_id


class _Gate:
    """While open, the transaction feed holds back reports of ``ext_id``."""

    def __init__(self, broker: Any, ext_id: str) -> None:
        self.broker, self.ext_id = broker, ext_id

    def __enter__(self) -> Self:
        self.broker._gated.add(self.ext_id)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.broker._gated.discard(self.ext_id)
        self.broker._wake.set()
