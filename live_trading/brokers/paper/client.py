"""The built-in paper broker: a simulated broker that works orders on bars.

Units: prices in the quote currency of the asset, quantities in units of the
base asset (always positive, direction in the side), commissions in quote
currency, times aware UTC (fills carry the time of the bar they happened in).

The broker keeps one sub-account per ``account`` string (the engine uses one
per trading operation, each replaying its own clock), and works each
(account, asset) pair only against the bars it is shown for that pair.

Durability, as at a real venue: all state lives in a :class:`PaperBookState`
(:mod:`.book`) kept in a :class:`~.store.PaperStore` of the broker's own,
separate from the engine's journal (in memory by default; MongoDB with
:class:`~.mongo_store.MongoPaperStore`). Each mutating call (submit, cancel,
bar, fill at last price) gathers its changes in one batch and commits it
atomically **before** it returns or delivers any report; if the commit
fails, nothing of the call happened. :meth:`PaperBroker.connect` loads the
committed state, so a broker restarted after a crash (``kill -9``) reports
the open orders, executions and positions its predecessor had committed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import (
    BrokerReport,
    CancelAck,
    CancelOutcome,
    Execution,
    OrderAck,
    OrderRequest,
)
from live_trading.domain.values import Bar
from live_trading.engine.ports import ConnectionState, ReportListener, ReportsListener

from . import matching, working
from .book import FLAT_EPSILON, PaperBatch, PaperBookState, PaperChanges, PaperOrder
from .config import PaperBrokerConfig
from .store import InMemoryPaperStore, PaperStore

__all__ = ["FLAT_EPSILON", "PaperBookState", "PaperBroker", "PaperOrder"]


class PaperBroker:
    """A simulated broker implementing the ``Broker`` and ``SimulatedMarket``
    ports.

    Fill model (see :meth:`on_bar`): market orders fill at the next bar's
    open (or, at the end of a feed, the last close) plus half-spread and
    slippage adversely; stops fill at the stop (or the open on a gap) plus
    slippage; limits at the limit (or the open on a favourable gap). When a
    stop-loss and a take-profit could both fill in one bar, the stop wins.

    ``state`` is the book before :meth:`connect` (which replaces it with the
    store's); ``store`` defaults to an in-memory store seeded with ``state``.
    Mutating calls are serialised per account (one per trading operation):
    an account's durable commit never waits for another account's, and its
    reports are delivered after its lock is released, so a listener may call
    the broker back. Accounts share nothing in the book but the order
    ``sequence``, which each new order reserves at once.
    """

    name = "paper"

    def __init__(
        self,
        config: PaperBrokerConfig | None = None,
        state: PaperBookState | None = None,
        store: PaperStore | None = None,
    ) -> None:
        self.config = config or PaperBrokerConfig()
        self.state = state or PaperBookState()
        self.store: PaperStore = store or InMemoryPaperStore(self.state)
        self.connected = False
        self._listener: ReportListener | None = None
        self._batch_listener: ReportsListener | None = None
        self._accounts: dict[str, asyncio.Lock] = {}

    def _lock(self, account: str) -> asyncio.Lock:
        """The lock serialising ``account``'s mutating calls."""
        lock = self._accounts.get(account)
        if lock is None:
            lock = self._accounts[account] = asyncio.Lock()
        return lock

    # -- Broker port ---------------------------------------------------------

    def set_listener(self, listener: ReportListener) -> None:
        """Deliver each report to ``listener`` (replaces a batch listener)."""
        self._listener, self._batch_listener = listener, None

    def set_batch_listener(self, listener: ReportsListener) -> None:
        """Deliver the reports of each call in one list (see :meth:`_deliver`)."""
        self._batch_listener = listener

    async def connect(self) -> None:
        """Load the committed book from the store.

        Raises:
            ConnectionError: the store cannot be reached.
        """
        locks = list(self._accounts.values())  # no call in flight while the book is replaced
        for lock in locks:
            await lock.acquire()
        try:
            self.state = await self.store.load()
            self.connected = True
        finally:
            for lock in locks:
                lock.release()

    async def disconnect(self) -> None:
        self.connected = False

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        """Accept ``request`` as a working order, or reject it with a reason.

        A bracket child (``parent_client_order_id`` set) is accepted inactive
        and starts working once its parent has filled. The accepted order is
        committed to the store before this returns.

        Raises:
            ConnectionError: the store cannot be reached (order not accepted).
        """
        async with self._lock(request.account):
            batch = PaperBatch(self.state)
            ack = working.accept(batch, request)
            await self._commit(batch)
        return ack

    async def submit_orders(self, requests: list[OrderRequest]) -> list[OrderAck]:
        """:meth:`submit_order` for each request, committed together (one
        store commit for the call; a bracket child may follow its parent).
        Requests of several accounts are taken one by one.

        Raises:
            ConnectionError: the store cannot be reached (nothing accepted).
        """
        accounts = {r.account for r in requests}
        if len(accounts) != 1:
            return [await self.submit_order(r) for r in requests]
        async with self._lock(accounts.pop()):
            batch = PaperBatch(self.state)
            acks = [working.accept(batch, r) for r in requests]
            await self._commit(batch)
        return acks

    async def cancel_order(self, client_order_id: str) -> CancelAck:
        """Cancel a working order (and, if it has not filled, its bracket
        children); the listener gets ``OrderCancelled`` reports, after the
        cancellation is committed. The ack says REQUESTED (cancelled),
        NOT_FOUND (no such order) or ALREADY_DONE (filled or cancelled before).

        The report's time is the time of the last bar seen for the order's
        (account, asset), so it stays on the operation's replayed clock; the
        wall clock if no bar has been seen yet.

        Raises:
            ConnectionError: the store cannot be reached (nothing cancelled).
        """
        order = self.state.orders.get(client_order_id)
        if order is None:
            return CancelAck(client_order_id, CancelOutcome.NOT_FOUND, "no such order")
        [ack] = await self.cancel_orders([client_order_id])
        return ack

    async def cancel_orders(self, client_order_ids: list[str]) -> list[CancelAck]:
        """:meth:`cancel_order` for each id, committed together (one store
        commit), the reports delivered after it. Orders of several accounts
        are cancelled one by one.

        Raises:
            ConnectionError: the store cannot be reached (nothing cancelled).
        """
        known = [self.state.orders.get(cid) for cid in client_order_ids]
        accounts = {o.request.account for o in known if o is not None}
        if len(accounts) > 1:
            return [(await self.cancel_orders([cid]))[0] for cid in client_order_ids]
        if not accounts:
            return [
                CancelAck(cid, CancelOutcome.NOT_FOUND, "no such order") for cid in client_order_ids
            ]
        async with self._lock(accounts.pop()):
            batch = PaperBatch(self.state)
            reports: list[BrokerReport] = []
            acks = [working.cancel_by_request(batch, cid, reports) for cid in client_order_ids]
            await self._commit(batch)
        await self._deliver(reports)
        return acks

    async def open_orders(self, account: str) -> list[OrderRequest]:
        """Working orders of ``account`` (inactive bracket children included),
        in submission order."""
        orders = self.state.orders.values()
        return [o.request for o in orders if o.working and o.request.account == account]

    async def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderAck:
        """Change a working order's quantity or LIMIT/STOP price (committed
        before this returns). Refused, with the reason, for an unknown or
        finished order or a change that would make the order invalid."""
        order = self.state.orders.get(client_order_id)
        if order is None:
            return OrderAck(client_order_id, None, False, "no such working order")
        async with self._lock(order.request.account):
            order = self.state.orders.get(client_order_id)  # as it is now
            if order is None or not order.working:
                return OrderAck(client_order_id, None, False, "no such working order")
            given = (
                ("quantity", quantity),
                ("limit_price", limit_price),
                ("stop_price", stop_price),
            )
            changes: dict[str, Any] = {k: v for k, v in given if v is not None}
            request = dataclasses.replace(order.request, **changes)
            problem = matching.request_problem(request)
            if problem is not None:
                return OrderAck(client_order_id, order.broker_order_id, False, problem)
            batch = PaperBatch(self.state)
            batch.changes.orders[client_order_id] = dataclasses.replace(order, request=request)
            await self._commit(batch)
        return OrderAck(client_order_id, order.broker_order_id, True)

    async def instrument_spec(self, asset: str) -> InstrumentSpec:
        """The tick, lot and minimum of ``asset`` from the configuration
        (:meth:`PaperBrokerConfig.spec`); any asset is tradable here."""
        return self.config.spec(asset)

    @property
    def connection_state(self) -> ConnectionState:
        return ConnectionState.CONNECTED if self.connected else ConnectionState.DISCONNECTED

    async def broker_order_id(self, client_order_id: str) -> str | None:
        """Our id for the order ``client_order_id``, if we ever accepted it."""
        order = self.state.orders.get(client_order_id)
        return order.broker_order_id if order else None

    async def executions(self, account: str) -> list[Execution]:
        """The fills of ``account``, in the order the broker made them."""
        return list(self.state.executions.get(account, []))

    async def executions_since(
        self, account: str, after_execution_id: str | None
    ) -> list[Execution]:
        """The fills of ``account`` made after the fill ``after_execution_id``,
        in order; all of them when it is ``None`` or not one of the
        account's fills."""
        fills = self.state.executions.get(account, [])
        for index, execution in enumerate(fills):
            if execution.execution_id == after_execution_id:
                return fills[index + 1 :]
        return list(fills)

    async def positions(self, account: str) -> dict[str, float]:
        """Signed net quantity per asset of ``account`` (+ long, - short);
        flat assets are omitted."""
        items = self.state.positions.items()
        return {asset: qty for (acc, asset), qty in items if acc == account}

    # -- SimulatedMarket port ------------------------------------------------

    async def on_bar(self, account: str, asset: str, bar: Bar) -> None:
        """Work ``account``'s orders on ``asset`` against ``bar``.

        **Idempotent per (account, asset):** a bar whose ``time`` is not after
        the last bar already processed for the pair is ignored (no fills, no
        reports), so a restarted engine may show the broker again a bar it
        had processed before a crash.

        Within the bar, in this order:

        1. MARKET orders working (and active) before this bar fill at
           ``bar.open`` moved adversely by half-spread + slippage.
        2. Bracket children of those fills become active.
        3. Active STOP and LIMIT orders are worked against ``bar.high`` /
           ``bar.low`` (see :mod:`.matching`). All stops are worked before
           all limits, so **when the stop-loss and the take-profit of one OCO
           group could both fill in this bar, the stop wins**: the path inside
           a bar is unknown, so we assume the worse. Children of an order
           filled in this step become active but are first worked on the next
           bar.
        4. After any fill in an OCO group, the group's other working orders
           are cancelled (``OrderCancelled`` with reason ``"OCO"``).
        5. The bar is remembered as the last bar of (account, asset): its
           close is the last price, its time the pair's clock.

        Fills are dated ``bar.time``. The whole bar is committed to the store
        as one batch first; then every report is awaited by the listener, in
        order, before this returns.

        Raises:
            ConnectionError: the store cannot be reached (the bar was not
                applied; showing it again later applies it).
        """
        async with self._lock(account):
            last = self.state.last_bars.get((account, asset))
            if last is not None and bar.time <= last.time:
                return
            if working.quiet(self.state, self.config, account, asset, bar):
                self.state.last_bars[(account, asset)] = bar  # see _clock_only
                return
            batch = PaperBatch(self.state)
            reports = working.work_bar(batch, self.config, account, asset, bar)
            if self._clock_only(batch.changes):
                self.state.apply(batch.changes)  # see _clock_only: nothing to make durable
            else:
                await self._commit(batch)
        await self._deliver(reports)

    @staticmethod
    def _clock_only(changes: PaperChanges) -> bool:
        """True when a bar moved only the pair's clock (no fill, no order or
        position change). Such a bar is not committed: working the same bar
        again against the same orders gives the same nothing, and every order
        change commits the clock with it (see :meth:`submit_order`), so the
        durable clock never goes back past a bar that changed anything."""
        return not (changes.orders or changes.executions or changes.positions)

    async def fill_at_last_price(self, account: str, asset: str) -> None:
        """Fill ``account``'s working MARKET orders on ``asset`` at the last
        close seen, moved adversely by half-spread + slippage and dated with
        the last bar's time; then activate their children (without working
        them). Does nothing if no bar has been seen for the pair. Committed
        before the reports are delivered.

        Raises:
            ConnectionError: the store cannot be reached (nothing filled).
        """
        async with self._lock(account):
            last = self.state.last_bars.get((account, asset))
            if last is None:
                return
            batch = PaperBatch(self.state)
            reports = working.fill_markets(
                batch, self.config, account, asset, last.close, last.time
            )
            await self._commit(batch)
        await self._deliver(reports)

    # -- internals -----------------------------------------------------------

    async def _commit(self, batch: PaperBatch) -> None:
        """Commit ``batch`` to the store, then apply it to :attr:`state`.
        An empty batch is not committed. On error the state is unchanged."""
        if batch.changes.empty:
            return
        await self.store.commit(batch.changes)
        self.state.apply(batch.changes)

    async def _deliver(self, reports: list[BrokerReport]) -> None:
        """Await the batch listener with the call's reports, or the listener
        with each, in order (dropped if no listener is set: the state, e.g.
        :meth:`executions`, still has them)."""
        if self._batch_listener is not None:
            if reports:
                await self._batch_listener(reports)
            return
        if self._listener is None:
            return
        for report in reports:
            await self._listener(report)
