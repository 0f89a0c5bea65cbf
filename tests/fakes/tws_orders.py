"""Orders of the fake TWS (tests/fakes/tws_server.py): placeOrder (new and
modify), cancelOrder, the scripted behaviour of a new order, fills and
their live reports, trades at a price, and positions from the executions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.fakes.tws_market import MIN_TICK
from tests.fakes.tws_model import FakeExecution, FakeOrder, _Conn, _crossed


def on_tick(price: float) -> float:
    """``price`` on the venue's tick: a real venue never executes off it."""
    return round(round(price / MIN_TICK) * MIN_TICK, 10)


class TWSOrders:
    """Mixin of FakeTWS."""

    def _place_order(self, conn: _Conn, f: list[str]) -> None:
        order_id = int(f[1])
        (
            _con_id,
            symbol,
            sec_type,
            _ltd,
            _strike,
            _right,
            _mult,
            exchange,
            _pex,
            currency,
            _local,
            _tclass,
        ) = f[2:14]
        action, qty, order_type, lmt, aux, tif, oca, account, _oc, _origin, ref = f[16:27]
        transmit, parent_id = f[27] != "0", int(f[28] or 0)
        existing = next(
            (
                o
                for o in self.orders
                if o.order_id == order_id and o.client_id == conn.client_id and o.working
            ),
            None,
        )
        if existing is not None:  # modification
            existing.quantity = float(qty)
            existing.lmt_price, existing.aux_price = lmt, aux
            if self.adversary.modify_warning is not None:
                self._send(conn, 4, 2, order_id, *self.adversary.modify_warning, "")
            conn.muted = self.adversary.lose_place_answers > 0
            self.adversary.lose_place_answers -= conn.muted
            self._send_open_order(conn, existing)
            self._send_status(conn, existing)
            conn.muted = False
            return
        if any(
            o.order_id == order_id and o.client_id == conn.client_id and o.working
            for o in self.orders
        ):
            self._send(conn, 4, 2, order_id, 103, "Duplicate order id", "")
            return
        self.next_valid_id = max(self.next_valid_id, order_id + 1)
        self.placements.append((ref, order_id, parent_id, transmit))
        self._perm += 1
        order = FakeOrder(
            order_id,
            conn.client_id,
            self._perm,
            symbol,
            sec_type,
            exchange,
            currency,
            action,
            float(qty),
            order_type,
            lmt,
            aux,
            tif,
            account or self.account,
            ref,
            oca,
            parent_id,
        )
        behaviour = self.behaviour.get(ref, self.default_behaviour)
        if not transmit:  # TWS keeps it, untransmitted and silent, until a transmit
            self.untransmitted.append((order, behaviour))
            return
        if parent_id and any(o.order_id == parent_id for o, _ in self.untransmitted):
            self._transmit_group(conn, order, behaviour)
            return
        lost = self.adversary.lose_place_answers > 0 or self.adversary.drop_after_place > 0
        drop = self.adversary.drop_after_place > 0
        if lost:  # the venue takes the order; its answer never reaches the client
            self.adversary.lose_place_answers -= not drop
            self.adversary.drop_after_place -= drop
            conn.muted = True
        try:
            self._new_order(conn, order, behaviour)
        finally:
            conn.muted = False
        if drop:
            conn.writer.transport.abort()

    def _new_order(self, conn: _Conn, order: FakeOrder, behaviour: str) -> None:
        order_id, ref, order_type = order.order_id, order.order_ref, order.order_type
        if behaviour == "reject":
            order.status = "Inactive"
            self.orders.append(order)
            self._send(conn, 4, 2, order_id, 201, "Order rejected - reason:Insufficient margin", "")
            self._send_status(conn, order)
            return
        self.orders.append(order)
        order.status = "PreSubmitted"
        self._send_order(conn, order)
        if self.held(order):  # a bracket child waits for its parent's fill
            return
        order.status = "Submitted"
        self._send_order(conn, order)
        if order_type == "MKT" and behaviour == "fill":
            self.fill(ref)
        elif order_type == "MKT" and behaviour == "partial":
            first = round(order.quantity * 0.4, 8)
            self.fill(ref, first, price=self.fill_price)
            self.fill(ref, order.quantity - first, price=self.fill_price + 0.0002)

    def _send_order(self, conn: _Conn, order: FakeOrder) -> None:
        """openOrder and orderStatus of ``order``, in either order (TWS does
        not promise one)."""
        if self.adversary.status_before_open_order():
            self._send_status(conn, order)
            self._send_open_order(conn, order)
        else:
            self._send_open_order(conn, order)
            self._send_status(conn, order)

    def _cancel(self, conn: _Conn, order_id: int) -> None:
        order = next(
            (
                o
                for o in self.orders
                if o.order_id == order_id and o.client_id == conn.client_id and o.working
            ),
            None,
        )
        if order is None:
            self._send(
                conn,
                4,
                2,
                order_id,
                10147,
                f"OrderId {order_id} that needs to be cancelled is not found.",
                "",
            )
            return
        order.status = "Cancelled"
        self._send(conn, 4, 2, order_id, 202, "Order Canceled - reason:", "")
        self._send_status(conn, order)
        for child in self._children(order):  # TWS cancels a cancelled parent's children
            if child.working:
                child.status = "Cancelled"
                self._broadcast(child, status=True)

    def _broadcast(
        self, order: FakeOrder, *, status: bool = True, open_order: bool = False
    ) -> None:
        for conn in self.conns:
            if conn.client_id == order.client_id:
                if open_order:
                    self._send_open_order(conn, order)
                if status:
                    self._send_status(conn, order)

    def trade_at(self, price: float) -> list[FakeExecution]:
        """The market trades at ``price``: working market orders fill at it,
        limits (LMT, ``lmtPrice``) and stops (STP, ``auxPrice``) it crosses
        fill at it. Held children are not worked; children activated by a
        fill here are worked from the next call. Streaming quote
        subscribers get the new bid/ask."""
        self.fill_price = price
        fills = []
        for order in [o for o in self.orders if o.working and not self.held(o)]:
            if not order.working:  # cancelled by OCA during this pass
                continue
            if _crossed(order, price):
                fills.append(self.fill(order.order_ref, price=price))
        self._push_quotes()
        return fills

    # ----------------------------------------------------------- scripting
    def fill(
        self, order_ref: str, quantity: float | None = None, price: float | None = None
    ) -> FakeExecution:
        """Execute (part of) the working order ``order_ref``; reported live to
        the client that owns it when connected, else only via reqExecutions."""
        order = next(o for o in self.orders if o.order_ref == order_ref and o.working)
        qty = order.remaining if quantity is None else quantity
        price = on_tick(self.fill_price if price is None else price)
        order.avg_price = (order.avg_price * order.filled + price * qty) / (order.filled + qty)
        order.filled += qty
        order.last_price = price
        if order.remaining <= 1e-9:
            order.status = "Filled"
        self._exec_seq += 1
        ex = FakeExecution(
            exec_id=f"0000e0d5.6578{self._exec_seq:04x}.01.01",
            order=order,
            shares=qty,
            price=price,
            time=datetime.now(UTC).replace(microsecond=0),
            cum_qty=order.filled,
            avg_price=order.avg_price,
            commission=self.commission,
            order_id=order.order_id,
            children_at_fill=[c.order_ref for c in self._children(order)],
        )
        self.executions.append(ex)
        for conn in self.conns:
            if conn.client_id == order.client_id and not self.link_down:
                self._push_fill(conn, order, ex)
        self._after_fill(order)
        return ex

    def _push_fill(self, conn: _Conn, order: FakeOrder, ex: FakeExecution) -> None:
        self._send_status(conn, order)
        self._send_exec(conn, -1, ex)
        if self.adversary.duplicate():
            self._send_exec(conn, -1, ex)
        mode, delay = self.adversary.commission_mode()
        if mode == "prompt":
            self._send_commission(conn, ex)
        elif mode == "late":
            asyncio.get_running_loop().call_later(delay, self._late_commission, conn, ex)
        if order.status == "Filled":
            self._send_open_order(conn, order)

    def _positions(self) -> dict:
        out: dict = {}
        for ex in self.executions:
            o = ex.order
            key = (o.symbol, o.sec_type, o.currency)
            qty, cost, _ = out.get(key, (0.0, 0.0, o))
            signed = ex.shares if o.action == "BUY" else -ex.shares
            out[key] = (qty + signed, cost + signed * ex.price, o)
        return {k: (q, (c / q if q else 0.0), o) for k, (q, c, o) in out.items()}
