"""Brackets and OCA groups of the fake TWS (tests/fakes/tws_server.py):
children held until their parent fills, a fill cancelling the rest of its
OCA group, and orders sent with ``transmit=False`` held (silently, as TWS
does) until the last child of their bracket arrives with ``transmit=True``."""

from __future__ import annotations

from tests.fakes.tws_model import FakeOrder, _Conn


class TWSBrackets:
    """Mixin of FakeTWS."""

    def _parent(self, order: FakeOrder) -> FakeOrder | None:
        if not order.parent_id:
            return None
        return next(
            (
                o
                for o in reversed(self.orders)
                if o.order_id == order.parent_id
                and o.client_id == order.client_id
                and o is not order
            ),
            None,
        )

    def _children(self, parent: FakeOrder) -> list[FakeOrder]:
        return [
            o
            for o in self.orders
            if o.parent_id == parent.order_id
            and o.client_id == parent.client_id
            and self._parent(o) is parent
        ]

    def held(self, order: FakeOrder) -> bool:
        """A child (parentId set) works only once its parent has filled."""
        parent = self._parent(order)
        return parent is not None and parent.status != "Filled"

    def _after_fill(self, order: FakeOrder) -> None:
        if order.oca_group:  # ocaType 1: a fill cancels the rest of the group
            for other in self.orders:
                if (
                    other is not order
                    and other.working
                    and other.oca_group == order.oca_group
                    and other.account == order.account
                ):
                    other.status = "Cancelled"
                    self._broadcast(other)
        if order.status == "Filled":
            for child in self._children(order):
                if child.working and child.status == "PreSubmitted":
                    child.status = "Submitted"
                    self._broadcast(child, open_order=True)

    def _transmit_group(self, conn: _Conn, last: FakeOrder, behaviour: str) -> None:
        """The last child of a bracket arrives with transmit=True: the parent
        and every child are placed together, the children held, then the
        parent works."""
        group = [
            (o, b) for o, b in self.untransmitted if last.parent_id in (o.order_id, o.parent_id)
        ] + [(last, behaviour)]
        self.untransmitted = [g for g in self.untransmitted if g not in group]
        parent, parent_behaviour = group[0]
        for order, _b in group:
            order.status = "PreSubmitted"
            self.orders.append(order)
            self._send_order(conn, order)
        self.orders.remove(parent)
        self._new_order(conn, parent, parent_behaviour)
