"""Bracket children on OANDA (see :mod:`.client`): stop-loss and
take-profit orders are *dependent orders* on the trade their entry opened.

A trade never stays without its stop. Placing a child is retried
(``config.protect_attempts``, backoff; each attempt itself retries 429s and
settles lost answers). When a stop-loss still cannot be placed, the trade
is closed at market by a ``REDUCE_ONLY`` market order carrying the
stop-loss's own client id, so the engine sees the stop-loss fill (at
market) and the position flat; the reason is logged. A take-profit that
cannot be placed is reported cancelled with the reason; no child stays
"held" once its entry has filled. The entry's fill is reported first, and
never waits for, nor is lost with, the placement of its children.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

from live_trading.domain.orders import (
    BrokerReport,
    OrderAck,
    OrderCancelled,
    OrderRequest,
    OrderStatus,
)
from live_trading.domain.values import OrderType, utc_now
from live_trading.engine.ports import OrderOutcomeUnknown

from . import parsing as p
from .state import OANDAState
from .tracking import Tracked, request_problem

log = logging.getLogger(__name__)


class BracketOrders(OANDAState):
    """Mixin of OANDABroker: bracket children held, placed and released."""

    async def submit_bracket(
        self, entry: OrderRequest, stop_loss: OrderRequest, take_profit: OrderRequest
    ) -> list[OrderAck]:
        """Send a bracket as one OANDA order with ``stopLossOnFill`` and
        ``takeProfitOnFill`` (atomic: OANDA creates the dependent orders when
        the entry fills). Returns the acks of entry, stop-loss, take-profit.

        Raises:
            ConnectionError, OrderOutcomeUnknown: as ``submit_order``.
        """
        self._require_connected()
        for req in (entry, stop_loss, take_profit):
            problem = request_problem(req) or (
                f"duplicate client_order_id {req.client_order_id!r}"
                if req.client_order_id in self._orders
                else None
            )
            if problem:
                return [
                    OrderAck(r.client_order_id, None, False, problem)
                    for r in (entry, stop_loss, take_profit)
                ]
        stop_price, target_price = stop_loss.stop_price, take_profit.limit_price
        if stop_price is None or target_price is None:
            problem = "a bracket needs a stop-loss stop_price and a take-profit limit_price"
            return [
                OrderAck(r.client_order_id, None, False, problem)
                for r in (entry, stop_loss, take_profit)
            ]
        self._accounts.add(entry.account)
        body = p.order_body(
            entry,
            self._ext_id(entry),
            *await self._formats(entry.asset),
            stop_loss=(stop_price, self._ext_id(stop_loss)),
            take_profit=(target_price, self._ext_id(take_profit)),
        )
        children = [
            self._track(stop_loss, dependent_kind="STOP_LOSS"),
            self._track(take_profit, dependent_kind="TAKE_PROFIT"),
        ]
        try:
            ack = await self._send_new(self._track(entry), body, "submit_bracket")
        except ConnectionError:  # not sent: forget the children too
            for child in children:
                self._untrack(child)
            raise
        acks = [ack]
        for child in children:
            if not ack.accepted:
                child.status = OrderStatus.REJECTED
                acks.append(OrderAck(child.request.client_order_id, None, False, ack.reason))
                continue
            await self._find_on_fill_child(child, ack.broker_order_id)
            acks.append(OrderAck(child.request.client_order_id, child.broker_order_id, True))
        return acks

    async def _find_on_fill_child(self, child: Tracked, entry_id: str | None) -> None:
        """The broker id of an on-fill child, when its entry has filled."""
        child.status = OrderStatus.SUBMITTED
        with contextlib.suppress(ConnectionError, TimeoutError):
            status, found = await self._call(
                "GET", self._acct(f"/orders/@{child.ext_id}"), call="submit_bracket"
            )
            if status == 200:
                child.broker_order_id = str(found["order"]["id"])
                child.trade_id = found["order"].get("tradeID")
        child.broker_order_id = child.broker_order_id or f"on-fill-of-{entry_id}"

    async def _submit_child(self, request: OrderRequest) -> OrderAck:
        cid = request.client_order_id
        parent = self._orders.get(request.parent_client_order_id or "")
        if parent is None or parent.request.account != request.account:
            return OrderAck(
                cid, None, False, f"unknown parent order {request.parent_client_order_id!r}"
            )
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
            child = self._track(request, dependent_kind=kind)
            return await self._place_dependent(child, parent.trade_id)
        tracked = self._track(request, dependent_kind=kind)
        tracked.held = True
        tracked.broker_order_id = f"on-fill-of-{parent.broker_order_id}"
        return OrderAck(cid, tracked.broker_order_id, True)

    def _children(self, parent_cid: str) -> list[Tracked]:
        return [t for t in self._orders.values() if t.request.parent_client_order_id == parent_cid]

    def _protect_later(self, parent: Tracked) -> None:
        """After the parent's fill was delivered: place its held children
        in the background (the transaction feed does not wait)."""
        held = [c for c in self._children(parent.request.client_order_id) if c.held]
        if not held:
            return
        task = asyncio.get_running_loop().create_task(
            self._release_children(parent, held), name="oanda-protect"
        )
        self._protect_tasks.add(task)
        task.add_done_callback(self._protect_tasks.discard)

    async def _release_children(self, parent: Tracked, held: list[Tracked]) -> None:
        """Place the held children of a filled parent, stop-loss first."""
        reports: list[BrokerReport] = []
        stop_closed = None
        for child in sorted(held, key=lambda c: c.dependent_kind != "STOP_LOSS"):
            if not child.held:  # cancelled meanwhile
                continue
            child.held = False
            cid = child.request.client_order_id
            if parent.trade_id is None or stop_closed is not None:
                child.status = OrderStatus.CANCELLED
                reason = stop_closed or "parent fill opened no trade"
                reports.append(OrderCancelled(cid, None, reason, utc_now()))
                continue
            ack = await self._place_dependent(child, parent.trade_id)
            if ack.accepted and child.dependent_kind is None:  # closed at market instead
                stop_closed = f"trade closed at market: its stop-loss failed ({ack.reason})"
            elif not ack.accepted:
                child.status = OrderStatus.CANCELLED
                reports.append(
                    OrderCancelled(cid, None, f"OANDA refused the order: {ack.reason}", utc_now())
                )
        await self._deliver(reports)

    async def _place_dependent(self, tracked: Tracked, trade_id: str) -> OrderAck:
        """Place a child on ``trade_id``, retried; a stop-loss that cannot
        be placed closes the trade at market under its own client id (the
        ack then says so in ``reason`` and the child is a market order)."""
        request = tracked.request
        price = request.stop_price if request.order_type is OrderType.STOP else request.limit_price
        tracked.trade_id = trade_id
        body = p.dependent_order_body(
            tracked.dependent_kind or "",
            trade_id,
            price or 0.0,
            tracked.ext_id,
            (await self._formats(request.asset))[0],
        )
        ack = await self._send_retried(tracked, body)
        if ack.accepted:
            return ack
        if tracked.dependent_kind != "STOP_LOSS" or "TRADE_DOESNT_EXIST" in ack.reason:
            return ack
        log.error(
            "OANDA: the stop-loss %s of trade %s could not be placed (%s): closing "
            "the trade at market",
            request.client_order_id,
            trade_id,
            ack.reason,
        )
        return await self._close_unprotected(tracked, ack.reason)

    async def _close_unprotected(self, tracked: Tracked, why: str) -> OrderAck:
        request = dataclasses.replace(
            tracked.request,
            order_type=OrderType.MARKET,
            stop_price=None,
            limit_price=None,
            parent_client_order_id=None,
        )
        body = p.order_body(request, tracked.ext_id, *await self._formats(request.asset))
        body["order"]["positionFill"] = "REDUCE_ONLY"
        tracked.dependent_kind, tracked.request = None, request
        ack = await self._send_retried(tracked, body)
        if not ack.accepted:
            log.critical(
                "OANDA: trade of %s left WITHOUT its stop: the stop-loss failed (%s) "
                "and closing at market failed too (%s)",
                request.client_order_id,
                why,
                ack.reason,
            )
            return ack
        return dataclasses.replace(
            ack, reason=f"stop-loss not placed ({why}): trade closed at market"
        )

    async def _send_retried(self, tracked: Tracked, body: dict) -> OrderAck:
        """``_send_new`` up to ``config.protect_attempts`` times, while the
        failure is transient (rate limit, 5xx, unreachable, lost answer)."""
        cid = tracked.request.client_order_id
        ack = OrderAck(cid, None, False, "not sent")
        for attempt in range(self.config.protect_attempts):
            if attempt:
                await asyncio.sleep(self.config.backoff_s(attempt))
            self._orders[cid], self._by_ext[tracked.ext_id] = tracked, cid
            tracked.status = OrderStatus.PENDING
            try:
                ack = await self._send_new(tracked, body, "submit_order")
            except (ConnectionError, OrderOutcomeUnknown) as error:
                ack = OrderAck(cid, None, False, str(error))
                continue
            if ack.accepted or not _transient(tracked.refused_status):
                return ack
        self._orders[cid], self._by_ext[tracked.ext_id] = tracked, cid
        tracked.status = OrderStatus.REJECTED
        return ack


def _transient(status: int) -> bool:
    """A refusal worth another attempt: rate limited (429) or a 5xx."""
    return status == 429 or status >= 500
