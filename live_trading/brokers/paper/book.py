"""The paper broker's book: its whole state, and batches of changes to it.

Units: prices in the quote currency of the asset, quantities in units of the
base asset (positions signed: + long, - short), times aware UTC.

A broker call never edits :class:`PaperBookState` directly. It records what
it changes in a :class:`PaperBatch`, which reads through to the state (so
the call sees its own changes), the batch's :class:`PaperChanges` are
committed to the store, and only then applied to the state with
:meth:`PaperBookState.apply`. A failed commit therefore leaves the state
as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from live_trading.domain.orders import Execution, OrderRequest, OrderStatus
from live_trading.domain.values import Bar

FLAT_EPSILON = 1e-9
"""A net position smaller than this (base units) is flat: float sums of fills
that cancel out may leave a residue such as 1e-17."""

PositionKey = tuple[str, str]
"""(account, asset)."""


@dataclass(slots=True)
class PaperOrder:
    """An accepted order and how far it has got.

    ``status`` is SUBMITTED while working, then FILLED or CANCELLED.
    ``active`` is False for a bracket child whose parent has not filled yet.
    ``sequence`` is the order's 0-based rank among all orders the broker
    ever accepted (submission order, kept across restarts).
    """

    request: OrderRequest
    broker_order_id: str
    status: OrderStatus = OrderStatus.SUBMITTED
    active: bool = True
    sequence: int = 0

    @property
    def working(self) -> bool:
        return self.status == OrderStatus.SUBMITTED

    def copy(self) -> PaperOrder:
        """A copy (the request is immutable and shared)."""
        return PaperOrder(
            self.request, self.broker_order_id, self.status, self.active, self.sequence
        )


class NumberedExecution(NamedTuple):
    """An execution and its 0-based rank among its account's executions."""

    rank: int
    execution: Execution


@dataclass(slots=True)
class PaperChanges:
    """What one broker call changed, to be committed as one atomic batch.

    Attributes:
        orders: new or changed orders (complete), by client_order_id.
        executions: new fills, in order, each with its rank in its account.
        positions: new signed net quantity per (account, asset); 0.0 = flat
            (the position is removed).
        last_bars: the new last bar per (account, asset).
    """

    orders: dict[str, PaperOrder] = field(default_factory=dict)
    executions: list[NumberedExecution] = field(default_factory=list)
    positions: dict[PositionKey, float] = field(default_factory=dict)
    last_bars: dict[PositionKey, Bar] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.orders or self.executions or self.positions or self.last_bars)


@dataclass(slots=True)
class PaperBookState:
    """All mutable state of the paper broker.

    Attributes:
        orders: every accepted order by client_order_id, in submission order.
        executions: the fills of each account, in order.
        positions: signed net quantity per (account, asset); flat ones removed.
        last_bars: the last bar seen per (account, asset).
        working: an index derived from ``orders``: the client order ids of
            the working orders of each (account, asset), in submission
            order, so a bar is worked in time proportional to the orders
            still working, not to every order ever accepted. Kept by
            :meth:`apply`; call :meth:`reindex` after editing ``orders``
            directly.
    """

    orders: dict[str, PaperOrder] = field(default_factory=dict)
    executions: dict[str, list[Execution]] = field(default_factory=dict)
    positions: dict[PositionKey, float] = field(default_factory=dict)
    last_bars: dict[PositionKey, Bar] = field(default_factory=dict)
    working: dict[PositionKey, dict[str, None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    next_sequence: int = field(default=-1, compare=False, repr=False)

    def take_sequence(self) -> int:
        """The next order ``sequence``, reserved at once: batches of different
        accounts, built and committed concurrently, never share one (a batch
        that fails to commit leaves its numbers unused)."""
        if self.next_sequence < 0:
            self.next_sequence = max((o.sequence for o in self.orders.values()), default=-1) + 1
        self.next_sequence += 1
        return self.next_sequence - 1

    def __post_init__(self) -> None:
        if self.orders and not self.working:
            self.reindex()

    def reindex(self) -> None:
        """Rebuild :attr:`working` from :attr:`orders`."""
        self.working = {}
        for order in self.orders.values():
            self._index(order)

    def _index(self, order: PaperOrder) -> None:
        request = order.request
        ids = self.working.setdefault((request.account, request.asset), {})
        if order.working:
            ids[request.client_order_id] = None
        else:
            ids.pop(request.client_order_id, None)

    def apply(self, changes: PaperChanges) -> None:
        """Apply committed ``changes`` (copies of their orders are kept, so
        the state never shares a mutable object with ``changes``)."""
        for client_order_id, order in changes.orders.items():
            self.orders[client_order_id] = order.copy()
            self._index(order)
        for _, execution in changes.executions:
            self.executions.setdefault(execution.account, []).append(execution)
        for key, quantity in changes.positions.items():
            if quantity == 0.0:
                self.positions.pop(key, None)
            else:
                self.positions[key] = quantity
        self.last_bars.update(changes.last_bars)

    def copy(self) -> PaperBookState:
        """A copy sharing no mutable object with this state."""
        return PaperBookState(
            orders={cid: o.copy() for cid, o in self.orders.items()},
            executions={acc: list(fills) for acc, fills in self.executions.items()},
            positions=dict(self.positions),
            last_bars=dict(self.last_bars),
            working={key: dict(ids) for key, ids in self.working.items()},
        )


class PaperBatch:
    """The changes of one broker call, seen on top of the committed state.

    Reads (:meth:`order`, :meth:`orders`, :meth:`position`) return the
    batch's version where it has one; writes only touch :attr:`changes`.
    """

    def __init__(self, state: PaperBookState) -> None:
        self.state = state
        self.changes = PaperChanges()

    def order(self, client_order_id: str) -> PaperOrder | None:
        """The current version of an order, or ``None`` if unknown."""
        changed = self.changes.orders.get(client_order_id)
        return changed if changed is not None else self.state.orders.get(client_order_id)

    def orders(self) -> list[PaperOrder]:
        """The current version of every order, in submission order."""
        changed = self.changes.orders
        current = [changed.get(cid, order) for cid, order in self.state.orders.items()]
        current.extend(o for cid, o in changed.items() if cid not in self.state.orders)
        return current

    def working_orders(self, account: str, asset: str | None = None) -> list[PaperOrder]:
        """The current version of every working order of ``account`` on
        ``asset`` (every asset when None): by asset, then in submission order."""
        changed, orders = self.changes.orders, self.state.orders
        if asset is None:
            keys = [key for key in self.state.working if key[0] == account]
        else:
            keys = [(account, asset)]
        current = [
            changed.get(cid) or orders[cid]
            for key in keys
            for cid in self.state.working.get(key, ())
        ]
        current.extend(
            o
            for cid, o in changed.items()
            if cid not in orders
            and o.request.account == account
            and (asset is None or o.request.asset == asset)
        )
        return [o for o in current if o.working]

    def add_order(self, request: OrderRequest, broker_order_id: str, active: bool) -> PaperOrder:
        """Record a newly accepted order (working); returns it."""
        order = PaperOrder(
            request, broker_order_id, active=active, sequence=self.state.take_sequence()
        )
        self.changes.orders[request.client_order_id] = order
        return order

    def update(
        self, order: PaperOrder, *, status: OrderStatus | None = None, active: bool | None = None
    ) -> None:
        """Record a new ``status`` and/or ``active`` flag of ``order``."""
        cid = order.request.client_order_id
        changed = self.changes.orders.get(cid) or self.state.orders[cid].copy()
        if status is not None:
            changed.status = status
        if active is not None:
            changed.active = active
        self.changes.orders[cid] = changed

    def position(self, key: PositionKey) -> float:
        """Signed net quantity of (account, asset), base units; 0.0 if flat."""
        return self.changes.positions.get(key, self.state.positions.get(key, 0.0))

    def set_position(self, key: PositionKey, quantity: float) -> None:
        """Record the new signed net quantity (below FLAT_EPSILON: flat)."""
        self.changes.positions[key] = 0.0 if abs(quantity) < FLAT_EPSILON else quantity

    def add_execution(self, execution: Execution) -> None:
        """Record a new fill, after the account's earlier ones."""
        account = execution.account
        pending = sum(1 for _, e in self.changes.executions if e.account == account)
        index = len(self.state.executions.get(account, [])) + pending
        self.changes.executions.append(NumberedExecution(index, execution))

    def set_last_bar(self, key: PositionKey, bar: Bar) -> None:
        self.changes.last_bars[key] = bar
