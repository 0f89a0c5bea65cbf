"""Order routing of :class:`~.client.IBKRBroker`: submit (brackets
included) and modify. Cancel and the orders found at the venue by
``orderRef`` are in :mod:`.venue_orders`.

Submit: the order gets an IB ``orderId`` above every id used or seen (ids
never roll back, see :mod:`.connection`) and our client order id in
``orderRef``. The ack waits for IB's first answer (``orderStatus``,
``openOrder`` or an error). Without one within ``submit_ack_timeout_s``, or
if the socket drops after sending, the outcome is unknown:
``OrderOutcomeUnknown`` (the order may be working; the engine keeps it in
flight until the venue's records settle it). ``ConnectionError`` only when
the order certainly was not sent.

Brackets sent one order at a time (``submit_order`` of an entry, then of
its children with ``parent_client_order_id``): each child gets IB's
``parentId`` and ``ocaGroup`` (``ocaType`` 1). A child whose parent has
already filled works on its own (OCA kept). :meth:`submit_bracket` sends
the three at once with IB's transmit flags (parent and stop-loss
``transmit=False``, take-profit ``transmit=True``), so the children exist
at the venue before the parent can fill.

Modify: the changed order is sent again under its orderId; accepted on
IB's ``openOrder`` echo. Warnings that leave the order live (399, 404,
21xx except 2102, 10167...) are not refusals; an error about the orderId
is. No answer in time: the order is re-read at the venue and the ack says
what the venue shows; if that fails too, ``OrderOutcomeUnknown``.
"""

from __future__ import annotations

import asyncio

from live_trading.domain.orders import OrderAck, OrderRequest
from live_trading.engine.ports import OrderOutcomeUnknown

from .deadlines import TIMEOUTS
from .parsing import ORDER_REF_PREFIX, asset_to_contract, perm_id_of, request_to_order
from .reports import DONE_CANCELLED, reason_of
from .state import IBKRState

PENDING = ("PendingSubmit", "ApiPending")
MODIFY_REFUSED_LIVE = 2102  # "Unable to modify this order as it is still being processed"
LIVE_WARNINGS = frozenset({105, 110, 161, 165, 321, 329, 399, 404, 434, 492, 10167})


def is_live_warning(code: int) -> bool:
    """IB message codes that leave the order as it is (warnings, notices)."""
    return code in LIVE_WARNINGS or (2100 <= code < 2200 and code != MODIFY_REFUSED_LIVE)


class OrderRouting(IBKRState):
    """Mixin of IBKRBroker (uses its ``_ib``, ``config`` and bookkeeping)."""

    def _next_order_id(self) -> int:
        """An orderId above any used or seen (TWS's own may roll back)."""
        order_id = max(self._ib.client.getReqId(), self._max_order_id + 1)
        self._max_order_id = order_id
        self._ib.client.updateReqId(order_id + 1)
        return order_id

    def _parent_id_for(self, request: OrderRequest) -> tuple[int, str | None]:
        """(IB parentId to send, refusal reason) of a bracket child."""
        parent_cid = request.parent_client_order_id
        parent = self._trade_of(parent_cid) if parent_cid is not None else None
        if parent is None:
            return 0, f"unknown parent order {parent_cid!r}"
        status = parent.orderStatus.status
        if status == "Filled":
            return 0, None  # parent done: the child works on its own (OCA kept)
        if status in DONE_CANCELLED and not parent.fills:
            return 0, f"parent order {parent_cid!r} is {status}"
        return parent.order.orderId, None

    def _build(self, request: OrderRequest):
        """(contract, order) of ``request``, or raise ValueError (refusal)."""
        if not request.client_order_id.startswith(ORDER_REF_PREFIX):
            raise ValueError(f"client order id must start with {ORDER_REF_PREFIX!r}")
        contract = asset_to_contract(request.asset, self.config.contracts)
        return contract, request_to_order(request, self.config.account)

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        """See :class:`~live_trading.engine.ports.Broker`; the module doc."""
        self._require_connected()
        cid = request.client_order_id
        parent_id = 0
        if request.parent_client_order_id:
            parent_id, refusal = self._parent_id_for(request)
            if refusal is not None:
                return OrderAck(cid, None, False, refusal)
        try:
            contract, order = self._build(request)
        except ValueError as error:
            return OrderAck(cid, None, False, str(error))
        order.parentId = parent_id
        [ack] = await self._place([(request, contract, order)])
        return ack

    async def submit_bracket(
        self, entry: OrderRequest, stop_loss: OrderRequest, take_profit: OrderRequest
    ) -> tuple[OrderAck, OrderAck, OrderAck]:
        """Entry, stop-loss and take-profit sent together with IB's transmit
        flags: nothing is transmitted until the take-profit arrives, so the
        children are at the venue before the entry can fill. Raises like
        ``submit_order``."""
        self._require_connected()
        try:
            legs = [(r, *self._build(r)) for r in (entry, stop_loss, take_profit)]
        except ValueError as error:
            refused = [
                OrderAck(r.client_order_id, None, False, str(error))
                for r in (entry, stop_loss, take_profit)
            ]
            return refused[0], refused[1], refused[2]
        parent_order = legs[0][2]
        parent_order.orderId = self._next_order_id()
        for index, (_request, _contract, order) in enumerate(legs):
            order.transmit = index == 2
            if index:
                order.parentId = parent_order.orderId
        entry_ack, stop_ack, target_ack = await self._place(legs)
        return entry_ack, stop_ack, target_ack

    async def _place(self, legs: list) -> list[OrderAck]:
        """Send each (request, contract, order), then wait for IB's answers."""
        gates = {}
        try:
            trades = []
            for request, contract, order in legs:
                cid = request.client_order_id
                gates[cid] = self._submitting[cid] = asyncio.Event()
                self._requests[cid] = request
                if not order.orderId:
                    order.orderId = self._next_order_id()
                trades.append(self._ib.placeOrder(contract, order))
            return [
                await self._ack_of(request.client_order_id, trade)
                for (request, _c, _o), trade in zip(legs, trades, strict=True)
            ]
        finally:
            for cid, gate in gates.items():
                del self._submitting[cid]
                gate.set()

    async def _ack_of(self, cid: str, trade) -> OrderAck:
        await self._first_answer(cid, trade)
        if trade.orderStatus.status in DONE_CANCELLED and not trade.fills:
            self._cancel_reported.add(cid)
            return OrderAck(cid, None, False, reason_of(trade))
        self._remember_broker_id(cid, trade)
        return OrderAck(cid, self._broker_ids[cid], True)

    async def _first_answer(self, cid: str, trade) -> None:
        """Wait for IB's first word on ``trade``, or raise OrderOutcomeUnknown."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.submit_ack_timeout_s
        while trade.orderStatus.status in PENDING and not perm_id_of(trade):
            if not self._ib.isConnected():
                raise OrderOutcomeUnknown(
                    "submit_order", cid, "connection to IB lost after the order was sent"
                )
            if loop.time() >= deadline:
                TIMEOUTS["submit_order"] += 1
                raise OrderOutcomeUnknown(
                    "submit_order",
                    cid,
                    f"no answer from IB within {self.config.submit_ack_timeout_s:g} s",
                )
            await asyncio.sleep(0.002)

    async def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderAck:
        """See the module doc. Raises ConnectionError (not sent) or
        OrderOutcomeUnknown (sent, and neither answer nor re-read came)."""
        self._require_connected()
        cid = client_order_id
        if quantity is not None and quantity <= 0:
            return OrderAck(cid, None, False, "quantity must be > 0")
        trade = await self._working_trade(cid, "modify_order")
        if trade is None:
            return OrderAck(
                cid, None, False, f"order {cid} is not working at IB (not among its open orders)"
            )
        order = trade.order
        before = (order.totalQuantity, order.lmtPrice, order.auxPrice)
        wanted = (
            quantity if quantity is not None else order.totalQuantity,
            limit_price if limit_price is not None else order.lmtPrice,
            stop_price if stop_price is not None else order.auxPrice,
        )
        order.totalQuantity, order.lmtPrice, order.auxPrice = wanted
        answer = await self._modify_answer(trade)
        if answer is TimeoutError:
            return await self._modify_outcome_from_venue(cid, trade, wanted, before)
        if answer is not None:
            order.totalQuantity, order.lmtPrice, order.auxPrice = before
            return OrderAck(cid, None, False, answer)
        if trade.orderStatus.status in DONE_CANCELLED:
            return OrderAck(cid, None, False, reason_of(trade))
        return OrderAck(cid, self._broker_ids.get(cid), True)

    async def _modify_answer(self, trade):
        """None (echoed), an error text (refused), or TimeoutError (no answer)."""
        answer = asyncio.get_running_loop().create_future()
        order_id = trade.order.orderId

        def on_open(echoed) -> None:
            if echoed is trade and not answer.done():
                answer.set_result(None)

        def on_error(req_id, code, message, _contract) -> None:
            if req_id == order_id and not answer.done() and not is_live_warning(code):
                answer.set_result(f"IB {code}: {message}")

        self._ib.openOrderEvent += on_open
        self._ib.errorEvent += on_error
        try:
            self._ib.placeOrder(trade.contract, trade.order)
            return await asyncio.wait_for(answer, self.config.submit_ack_timeout_s)
        except TimeoutError:
            TIMEOUTS["modify_order"] += 1
            return TimeoutError
        finally:
            self._ib.openOrderEvent -= on_open
            self._ib.errorEvent -= on_error

    async def _modify_outcome_from_venue(self, cid: str, trade, wanted, before) -> OrderAck:
        try:
            found = await self._find_open_at_venue(cid, "modify_order")
        except (TimeoutError, ConnectionError) as error:
            raise OrderOutcomeUnknown(
                "modify_order", cid, f"no answer, and the re-read failed: {error}"
            ) from error
        if found is None:
            return OrderAck(cid, None, False, f"order {cid} no longer works at IB")
        venue = (found.order.totalQuantity, found.order.lmtPrice, found.order.auxPrice)
        if all(_same(a, b) for a, b in zip(venue, wanted, strict=True)):
            return OrderAck(cid, self._broker_ids.get(cid), True)
        trade.order.totalQuantity, trade.order.lmtPrice, trade.order.auxPrice = before
        return OrderAck(
            cid,
            None,
            False,
            f"IB did not apply the modification (the venue shows quantity/limit/stop {venue})",
        )


def _same(a, b) -> bool:
    return abs(float(a or 0) - float(b or 0)) <= 1e-9
