"""``IBKRBroker``: the Broker port over TWS / IB Gateway, through ib_async.

Design notes:

* Our client order id travels in IB's ``orderRef``; orders and fills are
  found again by it (after a restart of our process or of the gateway),
  never by IB's ``orderId``, which the gateway may hand out again after a
  restart. ``broker_order_id`` is IB's ``permId`` (stable), or ``oid:<orderId>``
  until the gateway has told it.
* Fills are delivered once per ``execId``. IB sends the commission report
  after the execution: a fill is delivered when its report arrives, or with
  commission 0 after ``commission_wait_s`` (if the report arrives later it is
  not delivered again; ``executions()`` then shows the late commission).
* Reports (Execution, OrderCancelled) go to the listener one at a time, in
  the order IB produced them, from one consumer task. Reports of an order
  being submitted are held until ``submit_order`` has returned its ack.
* Socket loss (or IB error 1100) puts the broker in RECONNECTING and starts
  reconnection with ``reconnect_backoff_s``; after reconnecting, fills made
  while disconnected (returned by the startup ``reqExecutions``) are
  delivered, each once. 1101/1102 (IB restored its link) trigger an
  executions sweep. ``on_connection_event(reason, state)`` is called at
  every transition so the engine can journal it.
* Order routing (brackets: children sent with IB ``parentId`` + ``ocaGroup``;
  modify waits for IB's openOrder echo) is in :mod:`.orders`; the
  ``MarketData`` port (quotes, history, real-time bars) in :mod:`.market_data`.
* ``positions(account)`` is the net of the fills of orders whose orderRef
  starts with ``LT-<account>-`` (the IB account is shared by operations);
  ``account_positions()`` is IB's own view of the IB account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ib_async import IB

from live_trading.domain.orders import Execution, OrderCancelled, OrderRequest
from live_trading.domain.values import utc_now
from live_trading.engine.ports import ConnectionState, ReportListener

from .config import IBKRConfig
from .market_data import MarketDataFeed
from .orders import OrderRouting, reason_of
from .parsing import (
    ORDER_REF_PREFIX,
    broker_order_id_of,
    contract_to_asset,
    fill_to_execution,
    order_ref_prefix,
)

log = logging.getLogger(__name__)

ConnectionListener = Callable[[str, ConnectionState], None]

_DONE_CANCELLED = ("Cancelled", "ApiCancelled", "Inactive")
FLAT_EPSILON = 1e-9


class IBKRBroker(OrderRouting, MarketDataFeed):
    """Interactive Brokers implementation of the ``Broker`` and ``MarketData`` ports."""

    name = "ibkr"

    def __init__(self, config: IBKRConfig | None = None, *,
                 on_connection_event: ConnectionListener | None = None) -> None:
        self.config = config or IBKRConfig()
        self.on_connection_event = on_connection_event
        self._ib = IB()
        self._ib.RequestTimeout = self.config.connect_timeout_s
        self._listener: ReportListener | None = None
        self._state = ConnectionState.DISCONNECTED
        self._closing = False
        self._queue: asyncio.Queue | None = None
        self._consumer: asyncio.Task | None = None
        self._reconnect_task: asyncio.Task | None = None
        self._seen: set[str] = set()  # execIds queued or delivered
        self._known: dict[str, Execution] = {}  # execId -> fill, arrival order
        self._pending: dict[str, tuple] = {}  # execId -> (fill, future)
        self._requests: dict[str, OrderRequest] = {}
        self._broker_ids: dict[str, str] = {}
        self._cancel_reported: set[str] = set()
        self._submitting: dict[str, asyncio.Event] = {}
        self._hooked = False
        self._bar_subs: dict = {}  # (asset, BarSize) -> bar subscription
        self._qualified_contracts: dict = {}  # asset -> Contract with conId

    # ----------------------------------------------------------- connection
    def set_listener(self, listener: ReportListener) -> None:
        self._listener = listener

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        if state == self._state and state != ConnectionState.RECONNECTING:
            return
        self._state = state
        log.info("IBKR connection %s: %s", state, reason)
        if self.on_connection_event is not None:
            try:
                self.on_connection_event(reason, state)
            except Exception:  # a journaling hook must not break the adapter
                log.exception("on_connection_event failed")

    def _hook(self) -> None:
        if self._hooked:
            return
        ib = self._ib
        ib.execDetailsEvent += self._on_exec_details
        ib.commissionReportEvent += self._on_commission
        ib.orderStatusEvent += self._on_order_status
        ib.disconnectedEvent += self._on_disconnected
        ib.errorEvent += self._on_error
        self._hooked = True

    async def _open(self) -> None:
        c = self.config
        await self._ib.connectAsync(c.host, c.port, clientId=c.client_id,
                                    timeout=c.connect_timeout_s, account=c.account or "")

    async def connect(self) -> None:
        """Connect and synchronise. Fills IB already has are recorded (see
        ``executions``) but not delivered: recovery reads them.

        Raises:
            ConnectionError: TWS / Gateway cannot be reached.
        """
        self._closing = False
        self._hook()
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._consumer = asyncio.create_task(self._consume(), name="ibkr-reports")
        self._set_state(ConnectionState.CONNECTING, "connect")
        try:
            await self._open()
        except (TimeoutError, OSError, ConnectionError) as error:
            self._set_state(ConnectionState.DISCONNECTED, f"connect failed: {error!r}")
            raise ConnectionError(f"cannot reach IB at {self.config.host}:"
                                  f"{self.config.port}: {error!r}") from error
        self._set_state(ConnectionState.CONNECTED, "connected")
        self._resync(deliver=False)

    async def disconnect(self) -> None:
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(BaseException):
                await self._reconnect_task
            self._reconnect_task = None
        await self._close_bar_subscriptions()
        self._ib.disconnect()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(BaseException):
                await self._consumer
            self._consumer = None
            self._queue = None
        self._set_state(ConnectionState.DISCONNECTED, "disconnect requested")

    def _on_disconnected(self) -> None:
        if self._closing or self._state != ConnectionState.CONNECTED:
            return
        self._start_reconnect("socket to TWS/Gateway lost")

    def _start_reconnect(self, reason: str) -> None:
        self._set_state(ConnectionState.RECONNECTING, reason)
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(
                self._reconnect_loop(), name="ibkr-reconnect")

    async def _reconnect_loop(self) -> None:
        backoff = self.config.reconnect_backoff_s
        attempt = 0
        while not self._closing:
            await asyncio.sleep(backoff[min(attempt, len(backoff) - 1)])
            attempt += 1
            if self._ib.isConnected():
                self._ib.disconnect()
            try:
                await self._open()
            except Exception as error:  # noqa: BLE001 - keep trying
                self._set_state(ConnectionState.RECONNECTING,
                                f"reconnect attempt {attempt} failed: {error!r}")
                continue
            self._set_state(ConnectionState.CONNECTED, f"reconnected after {attempt} attempt(s)")
            self._resync(deliver=True)
            self._resubscribe_bars()
            return

    def _on_error(self, req_id: int, code: int, message: str, contract) -> None:
        if code == 1100:
            self._set_state(ConnectionState.RECONNECTING, f"IB {code}: {message}")
        elif code in (1101, 1102):
            self._set_state(ConnectionState.CONNECTED, f"IB {code}: {message}")
            asyncio.get_running_loop().create_task(self._sweep_executions())
            if code == 1101:  # "data lost": market data subscriptions must be renewed
                self._resubscribe_bars()

    async def _sweep_executions(self) -> None:
        with contextlib.suppress(Exception):
            await self._ib.reqExecutionsAsync()
            self._resync(deliver=True)

    def _resync(self, *, deliver: bool) -> None:
        """Re-read IB's view after a (re)connection: order ids and fills."""
        for trade in self._ib.trades():
            ref = trade.order.orderRef
            if ref.startswith(ORDER_REF_PREFIX) and trade.order.permId:
                self._broker_ids[ref] = broker_order_id_of(trade.order.permId,
                                                           trade.order.orderId)
        fills = sorted(self._ib.fills(), key=lambda f: f.execution.time)
        for fill in fills:
            if deliver:
                self._on_fill(fill)
            elif fill.execution.orderRef.startswith(ORDER_REF_PREFIX) \
                    and fill.execution.execId not in self._seen:
                self._seen.add(fill.execution.execId)
                execution = fill_to_execution(fill, specs=self.config.contracts)
                self._known[execution.execution_id] = execution
                self._broker_ids.setdefault(execution.client_order_id,
                                            execution.broker_order_id)

    # -------------------------------------------------------------- reports
    def _on_exec_details(self, trade, fill) -> None:
        self._on_fill(fill)

    def _on_fill(self, fill) -> None:
        ex = fill.execution
        if not ex.orderRef.startswith(ORDER_REF_PREFIX) or ex.execId in self._seen:
            return
        self._seen.add(ex.execId)
        future = asyncio.get_running_loop().create_future()
        if fill.commissionReport.execId:
            future.set_result(fill.commissionReport.commission)
        else:
            self._pending[ex.execId] = (fill, future)
            asyncio.get_running_loop().call_later(
                self.config.commission_wait_s, self._commission_timeout, ex.execId)
        self._enqueue(("fill", ex.orderRef, fill, future))

    def _commission_timeout(self, exec_id: str) -> None:
        entry = self._pending.pop(exec_id, None)
        if entry and not entry[1].done():
            fill, future = entry
            report = fill.commissionReport
            future.set_result(report.commission if report.execId else 0.0)

    def _on_commission(self, trade, fill, report) -> None:
        entry = self._pending.pop(report.execId, None)
        if entry and not entry[1].done():
            entry[1].set_result(report.commission)
        elif report.execId in self._known:  # late report: keep it for executions()
            import dataclasses
            self._known[report.execId] = dataclasses.replace(
                self._known[report.execId], commission=float(report.commission))

    def _on_order_status(self, trade) -> None:
        ref = trade.order.orderRef
        if not ref.startswith(ORDER_REF_PREFIX):
            return
        if trade.order.permId:
            self._broker_ids[ref] = broker_order_id_of(trade.order.permId, trade.order.orderId)
        status = trade.orderStatus.status
        if status in _DONE_CANCELLED and ref not in self._cancel_reported \
                and ref not in self._submitting:
            self._cancel_reported.add(ref)
            self._enqueue(("cancel", ref, OrderCancelled(
                ref, self._broker_ids.get(ref), reason_of(trade), utc_now()), None))

    def _enqueue(self, item) -> None:
        if self._queue is not None:
            self._queue.put_nowait(item)

    async def _consume(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            kind, ref, payload, future = await queue.get()
            gate = self._submitting.get(ref)
            if gate is not None:
                await gate.wait()
            if kind == "fill":
                commission = await future
                report = fill_to_execution(payload, commission, self.config.contracts)
                self._known[report.execution_id] = report
                self._broker_ids.setdefault(ref, report.broker_order_id)
            else:
                report = payload
            if self._listener is not None:
                try:
                    await self._listener(report)
                except Exception:
                    log.exception("report listener failed on %r", report)

    async def drain(self) -> None:
        """Wait until every report received so far has been delivered."""
        while self._queue is not None and (not self._queue.empty() or self._pending):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    # --------------------------------------------------------------- queries
    async def executions(self, account: str) -> list[Execution]:
        prefix = order_ref_prefix(account)
        return [e for e in self._known.values() if e.client_order_id.startswith(prefix)]

    async def executions_since(self, account: str, after_execution_id: str | None
                               ) -> list[Execution]:
        fills = await self.executions(account)
        for index, execution in enumerate(fills):
            if execution.execution_id == after_execution_id:
                return fills[index + 1:]
        return fills

    async def broker_order_id(self, client_order_id: str) -> str | None:
        known = self._broker_ids.get(client_order_id)
        if known is not None:
            return known
        trade = self._trade_of(client_order_id)
        if trade is not None:
            return broker_order_id_of(trade.order.permId, trade.order.orderId)
        return None

    async def positions(self, account: str) -> dict[str, float]:
        """Net of the delivered/recorded fills of ``account``'s orders."""
        net: dict[str, float] = {}
        for e in await self.executions(account):
            signed = e.quantity if e.side.value == "BUY" else -e.quantity
            net[e.asset] = net.get(e.asset, 0.0) + signed
        return {a: q for a, q in net.items() if abs(q) > FLAT_EPSILON}

    async def account_positions(self) -> dict[str, float]:
        """IB's own positions of the IB account (all operations and manual trades)."""
        self._require_connected()
        positions = await self._ib.reqPositionsAsync()
        out: dict[str, float] = {}
        for p in positions:
            if self.config.account and p.account != self.config.account:
                continue
            asset = contract_to_asset(p.contract, self.config.contracts)
            out[asset] = out.get(asset, 0.0) + float(p.position)
        return {a: q for a, q in out.items() if abs(q) > FLAT_EPSILON}

