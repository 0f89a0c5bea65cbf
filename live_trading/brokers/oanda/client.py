"""OANDA v20 adapter: the ``Broker`` and ``MarketData`` ports over REST.

Identity. OANDA accounts are shared (other programs, other operations), so
every order we send carries the client extension id ``LT-<account>-<cid>``
(``<cid>`` our client order id, ``<account>`` the engine's account, one per
operation) unless ``cid`` already starts with that prefix. Executions and
positions of an ``account`` are the fills whose ``clientOrderID`` carries its
prefix; :meth:`OANDABroker.account_positions` gives the whole OANDA account.

Reports. A background poller reads ``GET /transactions/sinceid`` (every
``poll_interval_s``, and at once after each submit, cancel or modify) and
delivers, in transaction order and once per transaction id, ``Execution``
for each ``ORDER_FILL`` of one of our orders and ``OrderCancelled`` for each
``ORDER_CANCEL`` (except the cancel half of a replacement). ``submit_order``
returns its ack before any report of that order is delivered.

Brackets. The engine sends a bracket as three requests: the entry, then the
STOP child and the LIMIT child (``parent_client_order_id`` = the entry). On
OANDA a stop-loss or take-profit is a *dependent order* on a trade: it
closes the whole trade, and OANDA cancels the other one when the trade
closes (``LINKED_TRADE_CLOSED``), which gives the OCO behaviour. So:

* entry already filled (the usual case: a MARKET entry fills within the
  POST): each child is sent at once as a ``STOP_LOSS``/``TAKE_PROFIT`` order
  on the trade the entry opened;
* entry still pending (LIMIT/STOP entry): the child is held here and sent as
  a dependent order when the poller sees the entry's fill (its ack carries
  the placeholder broker id ``on-fill-of-<entry order id>``). Held children
  are lost if the process stops before the entry fills;
* :meth:`OANDABroker.submit_bracket` sends all three at once, atomically, as
  one order with ``stopLossOnFill``/``takeProfitOnFill``: use it when the
  children are known before the entry is sent.

Units and money: quantities are whole units of the base currency; prices
are rounded to the instrument's precision (``OANDAConfig.precision``);
commissions are OANDA's, in the account's home currency (not converted).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from live_trading.domain.orders import (
    BrokerReport,
    Execution,
    OrderAck,
    OrderCancelled,
    OrderRequest,
    OrderStatus,
)
from live_trading.domain.values import Bar, BarSize, OrderType, Side, utc_now
from live_trading.engine.ports import BarListener, ConnectionState, Quote, ReportListener

from . import parsing as p
from .config import OANDAConfig

log = logging.getLogger(__name__)

MAX_CANDLES = 5000
FLAT_EPSILON = 1e-9


@dataclasses.dataclass
class _Tracked:
    """An order this adapter sent (or holds, for a bracket child)."""

    request: OrderRequest
    ext_id: str
    broker_order_id: str | None = None
    status: OrderStatus = OrderStatus.PENDING
    trade_id: str | None = None  # the trade the order opened (entries)
    dependent_kind: str | None = None  # STOP_LOSS / TAKE_PROFIT (bracket children)
    held: bool = False  # a child waiting for its parent's fill


class OANDABroker:
    """Broker + MarketData on one OANDA v20 account. See the module docs."""

    name = "oanda"

    def __init__(self, config: OANDAConfig, *, bar_poll_interval_s: float = 5.0) -> None:
        self.config = config
        self.bar_poll_interval_s = bar_poll_interval_s
        self._client: httpx.AsyncClient | None = None
        self._state = ConnectionState.DISCONNECTED
        self._listener: ReportListener | None = None
        self._orders: dict[str, _Tracked] = {}
        self._by_ext: dict[str, str] = {}
        self._accounts: set[str] = set()
        self._last_tx: str | None = None
        self._seen_tx: set[str] = set()
        self._sync_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._poller: asyncio.Task | None = None
        self._bar_tasks: dict[tuple[str, BarSize], asyncio.Task] = {}
        self._closing = False

    def __repr__(self) -> str:
        return f"OANDABroker({self.config!r}, state={self._state.value})"

    __str__ = __repr__

    # -- connection ----------------------------------------------------------

    def set_listener(self, listener: ReportListener) -> None:
        self._listener = listener

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    async def connect(self) -> None:
        """Check the token and account (``GET /summary``), remember the last
        transaction id and start the transaction poller.

        Raises:
            ConnectionError: unreachable, bad token (401) or account (403/404).
        """
        if self._state == ConnectionState.CONNECTED:
            return
        self._state = ConnectionState.CONNECTING
        self._closing = False
        self._client = httpx.AsyncClient(
            base_url=self.config.rest_url, timeout=self.config.timeout_s,
            headers={"Authorization": f"Bearer {self.config.api_key}",
                     "Accept-Datetime-Format": "RFC3339",
                     "Content-Type": "application/json"})
        try:
            _, body = await self._call("GET", self._acct("/summary"))
        except BaseException:
            self._state = ConnectionState.DISCONNECTED
            await self._client.aclose()
            self._client = None
            raise
        self._last_tx = str(body["lastTransactionID"])
        self._state = ConnectionState.CONNECTED
        self._poller = asyncio.create_task(self._poll_loop(), name="oanda-transactions")
        log.info("connected to OANDA account %s (%s)", self.config.account_id,
                 self.config.environment.value)

    async def disconnect(self) -> None:
        self._closing = True
        tasks = [t for t in [self._poller, *self._bar_tasks.values()] if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._poller = None
        self._bar_tasks.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._state = ConnectionState.DISCONNECTED

    # -- orders ----------------------------------------------------------------

    async def submit_order(self, request: OrderRequest) -> OrderAck:
        """Send ``request``; see the module docs for bracket children.

        Refusals (``accepted=False``) carry OANDA's reason, e.g.
        ``"INSUFFICIENT_MARGIN"``, ``"INSTRUMENT_NOT_TRADEABLE: ..."``.

        Raises:
            ConnectionError: OANDA unreachable, or the token was refused. A
                timeout after the request left is also reported this way
                (the order may exist: reconcile with :meth:`broker_order_id`).
        """
        self._require_connected()
        cid = request.client_order_id
        if cid in self._orders:
            return OrderAck(cid, None, False, f"duplicate client_order_id {cid!r}")
        problem = _request_problem(request)
        if problem:
            return OrderAck(cid, None, False, problem)
        self._accounts.add(request.account)
        # The poller waits while an order is sent, so that no report of it is
        # read before it is tracked, and its ack is returned first.
        async with self._sync_lock:
            if request.parent_client_order_id is not None:
                return await self._submit_child(request)
            try:
                body = p.order_body(request, self._ext_id(request),
                                    self._precision(request.asset))
            except ValueError as error:
                return OrderAck(cid, None, False, str(error))
            tracked = self._track(request)
            try:
                status, answer = await self._call("POST", self._acct("/orders"), json=body)
            except ConnectionError:
                # Tracked still: a timed-out order may exist; its reports are kept.
                tracked.status = OrderStatus.PENDING
                raise
            return self._ack_from_create(tracked, status, answer)

    async def submit_bracket(self, entry: OrderRequest, stop_loss: OrderRequest,
                             take_profit: OrderRequest) -> list[OrderAck]:
        """Send a bracket as one OANDA order with ``stopLossOnFill`` and
        ``takeProfitOnFill`` (atomic: OANDA creates the dependent orders when
        the entry fills). Returns the acks of entry, stop-loss, take-profit."""
        self._require_connected()
        for req in (entry, stop_loss, take_profit):
            problem = _request_problem(req) or (
                f"duplicate client_order_id {req.client_order_id!r}"
                if req.client_order_id in self._orders else None)
            if problem:
                return [OrderAck(r.client_order_id, None, False, problem)
                        for r in (entry, stop_loss, take_profit)]
        self._accounts.add(entry.account)
        precision = self._precision(entry.asset)
        body = p.order_body(entry, self._ext_id(entry), precision,
                            stop_loss=(stop_loss.stop_price, self._ext_id(stop_loss)),
                            take_profit=(take_profit.limit_price, self._ext_id(take_profit)))
        async with self._sync_lock:
            children = [self._track(stop_loss, dependent_kind="STOP_LOSS"),
                        self._track(take_profit, dependent_kind="TAKE_PROFIT")]
            tracked = self._track(entry)
            status, answer = await self._call("POST", self._acct("/orders"), json=body)
            ack = self._ack_from_create(tracked, status, answer)
            acks = [ack]
            for child in children:
                cid = child.request.client_order_id
                if not ack.accepted:
                    child.status = OrderStatus.REJECTED
                    acks.append(OrderAck(cid, None, False, ack.reason))
                    continue
                code, found = await self._call("GET", self._acct(f"/orders/@{child.ext_id}"))
                if code == 200:
                    child.broker_order_id = str(found["order"]["id"])
                    child.trade_id = found["order"].get("tradeID")
                    child.status = OrderStatus.SUBMITTED
                else:
                    child.broker_order_id = f"on-fill-of-{ack.broker_order_id}"
                acks.append(OrderAck(cid, child.broker_order_id, True))
            return acks

    async def cancel_order(self, client_order_id: str) -> None:
        """Cancel a working order (``PUT /orders/@<ext id>/cancel``); the
        ``OrderCancelled`` report comes from the poller. A held bracket child
        is dropped here and reported at once. Unknown or finished orders are
        ignored."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.status in (OrderStatus.FILLED, OrderStatus.CANCELLED,
                                                 OrderStatus.REJECTED):
            return
        if tracked.held:
            tracked.status = OrderStatus.CANCELLED
            tracked.held = False
            await self._deliver([OrderCancelled(client_order_id, None,
                                                "cancelled by request", utc_now())])
            return
        self._require_connected()
        status, answer = await self._call("PUT", self._acct(f"/orders/@{tracked.ext_id}/cancel"))
        if status >= 400:
            log.info("cancel of %s refused by OANDA: %s", client_order_id,
                     p.error_reason(status, answer))
        self._wake.set()

    async def modify_order(self, client_order_id: str, *, quantity: float | None = None,
                           limit_price: float | None = None,
                           stop_price: float | None = None) -> OrderAck:
        """Replace a working order (``PUT /orders/@<ext id>``): OANDA cancels
        it and creates a new one with a new broker id (same client id).
        Stop-loss/take-profit orders close the whole trade: only their price
        can change."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.status not in (OrderStatus.PENDING,
                                                     OrderStatus.SUBMITTED):
            return OrderAck(client_order_id, None, False, "no such working order")
        changes = {k: v for k, v in (("quantity", quantity), ("limit_price", limit_price),
                                     ("stop_price", stop_price)) if v is not None}
        request = dataclasses.replace(tracked.request, **changes)
        problem = _request_problem(request)
        if problem:
            return OrderAck(client_order_id, tracked.broker_order_id, False, problem)
        if tracked.held:
            tracked.request = request
            return OrderAck(client_order_id, tracked.broker_order_id, True)
        precision = self._precision(request.asset)
        if tracked.dependent_kind is not None:
            if quantity is not None and quantity != tracked.request.quantity:
                return OrderAck(client_order_id, tracked.broker_order_id, False,
                                "OANDA stop-loss/take-profit orders close the whole trade: "
                                "their quantity cannot change")
            price = request.stop_price if request.order_type is OrderType.STOP \
                else request.limit_price
            body = p.dependent_order_body(tracked.dependent_kind, tracked.trade_id or "",
                                          price, tracked.ext_id, precision)
        elif request.order_type is OrderType.MARKET:
            return OrderAck(client_order_id, tracked.broker_order_id, False,
                            "a market order cannot be modified")
        else:
            body = p.order_body(request, tracked.ext_id, precision)
        self._require_connected()
        async with self._sync_lock:
            status, answer = await self._call("PUT", self._acct(f"/orders/@{tracked.ext_id}"),
                                              json=body)
            created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
            if status >= 400 or not created:
                return OrderAck(client_order_id, tracked.broker_order_id, False,
                                p.error_reason(status, answer))
            tracked.request = request
            tracked.broker_order_id = str(created["id"])
        self._wake.set()
        return OrderAck(client_order_id, tracked.broker_order_id, True)

    async def open_orders(self, account: str) -> list[OrderRequest]:
        """Working orders of ``account`` at OANDA (pending orders with its
        client id prefix) plus bracket children held here."""
        self._accounts.add(account)
        _, body = await self._get_ok(self._acct("/pendingOrders"))
        prefix = _prefix(account)
        trades: dict[str, dict[str, Any]] | None = None
        out: list[OrderRequest] = []
        for order in body.get("orders", []):
            ext = (order.get("clientExtensions") or {}).get("id") or ""
            if not ext.startswith(prefix):
                continue
            cid = self._by_ext.get(ext, ext[len(prefix):])
            tracked = self._orders.get(cid)
            if tracked is not None:
                out.append(tracked.request)
                continue
            if order["type"] in ("STOP_LOSS", "TAKE_PROFIT") and trades is None:
                _, open_body = await self._get_ok(self._acct("/openTrades"))
                trades = {t["id"]: t for t in open_body.get("trades", [])}
            request = _request_from_pending(order, cid, account, trades or {})
            if request is not None:
                out.append(request)
        out.extend(t.request for t in self._orders.values()
                   if t.held and t.request.account == account
                   and t.status not in (OrderStatus.CANCELLED, OrderStatus.REJECTED))
        return out

    async def executions(self, account: str) -> list[Execution]:
        """Fills of ``account`` since ``config.first_transaction_id``."""
        return await self.executions_since(account, None)

    async def executions_since(self, account: str, after_execution_id: str | None
                               ) -> list[Execution]:
        """Fills of ``account`` (``ORDER_FILL`` transactions of its orders)
        after the transaction ``after_execution_id``; from
        ``config.first_transaction_id`` when it is None or not an id."""
        self._accounts.add(account)
        start = after_execution_id if after_execution_id and after_execution_id.isdigit() \
            else self.config.first_transaction_id
        prefix = _prefix(account)
        out = []
        for tx in await self._transactions_since(start):
            ext = tx.get("clientOrderID") or ""
            if tx.get("type") == "ORDER_FILL" and ext.startswith(prefix):
                out.append(p.fill_to_execution(tx, self._by_ext.get(ext, ext[len(prefix):]),
                                               account))
        return out

    async def broker_order_id(self, client_order_id: str) -> str | None:
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            return tracked.broker_order_id
        for account in sorted(self._accounts):
            ext = client_order_id if client_order_id.startswith(_prefix(account)) \
                else _prefix(account) + client_order_id
            status, body = await self._call("GET", self._acct(f"/orders/@{ext}"))
            if status == 200:
                return str(body["order"]["id"])
        return None

    async def positions(self, account: str) -> dict[str, float]:
        """Net signed units per asset from ``account``'s fills (OANDA's own
        positions mix every user of the shared account: see
        :meth:`account_positions`)."""
        net: dict[str, float] = {}
        for fill in await self.executions(account):
            signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
            net[fill.asset] = net.get(fill.asset, 0.0) + signed
        return {a: q for a, q in net.items() if abs(q) > FLAT_EPSILON}

    async def account_positions(self) -> dict[str, float]:
        """Net signed units per asset of the whole OANDA account (open trades)."""
        _, body = await self._get_ok(self._acct("/openTrades"))
        net: dict[str, float] = {}
        for trade in body.get("trades", []):
            asset = p.to_asset(trade["instrument"])
            net[asset] = net.get(asset, 0.0) + p.to_float(trade["currentUnits"])
        return {a: q for a, q in net.items() if abs(q) > FLAT_EPSILON}

    async def close_position(self, asset: str) -> list[str]:
        """Close every open trade on ``asset`` (``PUT /trades/{id}/close``),
        whoever opened it. Returns the fill transaction ids."""
        self._require_connected()
        instrument = p.to_instrument(asset)
        _, body = await self._get_ok(self._acct("/openTrades"))
        fills = []
        for trade in body.get("trades", []):
            if trade["instrument"] != instrument:
                continue
            status, answer = await self._call("PUT", self._acct(f"/trades/{trade['id']}/close"),
                                              json={"units": "ALL"})
            if status < 400 and "orderFillTransaction" in answer:
                fills.append(str(answer["orderFillTransaction"]["id"]))
        self._wake.set()
        return fills

    # -- market data -------------------------------------------------------------

    async def get_historical_data(self, asset: str, bar_size: BarSize, start: datetime,
                                  end: datetime) -> list[Bar]:
        """Complete mid candles with open time in [start, end), oldest first
        (requests of at most 5000 candles each)."""
        instrument = p.to_instrument(asset)
        granularity = p.to_granularity(bar_size)
        step = bar_size.duration * MAX_CANDLES
        bars: dict[datetime, Bar] = {}
        cursor = start
        while cursor < end:
            chunk_end = min(end, cursor + step)
            _, body = await self._get_ok(f"/v3/instruments/{instrument}/candles", params={
                "granularity": granularity, "price": "M",
                "from": p.format_time(cursor), "to": p.format_time(chunk_end)})
            for candle in body.get("candles", []):
                if not candle.get("complete", True):
                    continue
                bar = p.candle_to_bar(candle)
                if start <= bar.time < end:
                    bars[bar.time] = bar
            cursor = chunk_end
        return [bars[t] for t in sorted(bars)]

    async def get_market_quote(self, asset: str) -> Quote:
        _, body = await self._get_ok(self._acct("/pricing"),
                                     params={"instruments": p.to_instrument(asset)})
        price = body["prices"][0]
        bid, ask = p.quote_prices(price)
        return Quote(asset=p.to_asset(price["instrument"]), bid=bid, ask=ask,
                     time=p.parse_time(price["time"]))

    async def stream_prices(self, assets: list[str]) -> AsyncIterator[Quote]:
        """Quotes from ``GET /pricing/stream`` as they come, forever.

        Heartbeats are not yielded; they keep the stream alive. A stream
        silent for ``heartbeat_timeout_s``, closed, or failing is reopened
        (delay ``reconnect_delay_s``, doubled per failure up to 30 s).

        Raises:
            ConnectionError: a 4xx answer: the token is refused (401/403) or
                an instrument is unknown (400); reconnecting would not help.
                5xx answers and dropped connections are retried.
        """
        instruments = ",".join(p.to_instrument(a) for a in assets)
        url = f"{self.config.stream_base_url}{self._acct('/pricing/stream')}"
        delay = self.config.reconnect_delay_s
        async with httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.timeout_s,
                                      read=self.config.heartbeat_timeout_s),
                headers={"Authorization": f"Bearer {self.config.api_key}",
                         "Accept-Datetime-Format": "RFC3339"}) as client:
            while True:
                try:
                    async with client.stream("GET", url,
                                             params={"instruments": instruments}) as response:
                        if response.status_code != 200:
                            body = _json_or_none(await response.aread())
                            reason = p.error_reason(response.status_code, body)
                            if response.status_code >= 500:
                                raise httpx.RemoteProtocolError(reason)  # retried below
                            raise ConnectionError(
                                f"OANDA price stream refused (HTTP {response.status_code}): "
                                f"{reason}")
                        delay = self.config.reconnect_delay_s
                        async for line in _lines(response, self.config.heartbeat_timeout_s):
                            message = _json_or_none(line)
                            if not isinstance(message, dict):
                                continue
                            if message.get("type") == "PRICE":
                                bid, ask = p.quote_prices(message)
                                yield Quote(asset=p.to_asset(message["instrument"]), bid=bid,
                                            ask=ask, time=p.parse_time(message["time"]))
                    log.warning("OANDA price stream ended; reconnecting")
                except (httpx.TransportError, TimeoutError) as error:
                    log.warning("OANDA price stream dropped (%s); reconnecting in %.1fs",
                                type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def subscribe_bars(self, asset: str, bar_size: BarSize,
                             listener: BarListener) -> None:
        """Poll candles every ``bar_poll_interval_s`` and call ``listener``
        with each candle that completes after the subscription."""
        key = (asset, bar_size)
        if key in self._bar_tasks:
            return
        self._bar_tasks[key] = asyncio.create_task(self._bar_loop(asset, bar_size, listener))

    async def unsubscribe_bars(self, asset: str, bar_size: BarSize) -> None:
        task = self._bar_tasks.pop((asset, bar_size), None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _bar_loop(self, asset: str, bar_size: BarSize, listener: BarListener) -> None:
        last: datetime | None = None
        first = True
        while not self._closing:
            try:
                now = datetime.now(UTC)
                since = last + bar_size.duration if last else now - bar_size.duration * 3
                bars = await self.get_historical_data(asset, bar_size, since,
                                                      now + bar_size.duration)
                for bar in bars:
                    if last is not None and bar.time <= last:
                        continue
                    last = bar.time
                    if not first:
                        await listener(asset, bar_size, bar)
                first = False
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep polling through outages
                log.warning("OANDA candles for %s %s failed: %s", asset, bar_size.value, error)
            await asyncio.sleep(self.bar_poll_interval_s)

    # -- the transaction poller ---------------------------------------------------------

    async def sync(self) -> None:
        """Read new transactions now and deliver their reports."""
        await self._deliver(await self._collect())

    async def _poll_loop(self) -> None:
        # A flag as well as the cancel: Python 3.11's wait_for can swallow a
        # cancellation that races with the wait's own completion.
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_s)
            self._wake.clear()
            if self._closing:
                return
            try:
                reports = await self._collect()
            except ConnectionError as error:
                if self._state == ConnectionState.CONNECTED:
                    log.warning("OANDA unreachable (%s); retrying", error)
                self._state = ConnectionState.RECONNECTING
                continue
            except Exception:
                log.exception("OANDA transaction poll failed")
                continue
            self._state = ConnectionState.CONNECTED
            await self._deliver(reports)

    async def _collect(self) -> list[BrokerReport]:
        async with self._sync_lock:
            reports: list[BrokerReport] = []
            for tx in await self._transactions_since(self._last_tx or "1"):
                tx_id = str(tx["id"])
                self._last_tx = tx_id
                if tx_id in self._seen_tx:
                    continue
                self._seen_tx.add(tx_id)
                reports.extend(await self._on_transaction(tx))
            return reports

    async def _on_transaction(self, tx: dict[str, Any]) -> list[BrokerReport]:
        kind = tx.get("type")
        if kind in ("STOP_LOSS_ORDER", "TAKE_PROFIT_ORDER"):
            ext = (tx.get("clientExtensions") or {}).get("id")
            tracked = self._orders.get(self._by_ext.get(ext or "", ""))
            if tracked is not None:
                tracked.broker_order_id = str(tx["id"])
                tracked.trade_id = str(tx.get("tradeID"))
                tracked.status = OrderStatus.SUBMITTED
            return []
        if kind not in ("ORDER_FILL", "ORDER_CANCEL"):
            return []
        tracked = self._orders.get(self._by_ext.get(tx.get("clientOrderID") or "", ""))
        if tracked is None or tracked.status == OrderStatus.REJECTED:
            return []
        cid = tracked.request.client_order_id
        if kind == "ORDER_FILL":
            tracked.status = OrderStatus.FILLED
            opened = tx.get("tradeOpened") or {}
            if opened.get("tradeID"):
                tracked.trade_id = str(opened["tradeID"])
            reports: list[BrokerReport] = [
                p.fill_to_execution(tx, cid, tracked.request.account)]
            reports.extend(await self._release_children(tracked))
            return reports
        if tx.get("reason") == "CLIENT_REQUEST_REPLACED" \
                or str(tx.get("orderID")) != tracked.broker_order_id:
            return []  # the old half of a replacement
        tracked.status = OrderStatus.CANCELLED
        time = p.parse_time(tx["time"])
        reports = [OrderCancelled(cid, str(tx["orderID"]), str(tx.get("reason", "")), time)]
        for child in self._children(cid):
            if child.held:
                child.held = False
                child.status = OrderStatus.CANCELLED
                reports.append(OrderCancelled(child.request.client_order_id, None,
                                              "parent order cancelled", time))
        return reports

    async def _release_children(self, parent: _Tracked) -> list[BrokerReport]:
        """Send the held children of a just-filled parent as dependent orders."""
        reports: list[BrokerReport] = []
        for child in self._children(parent.request.client_order_id):
            if not child.held:
                continue
            child.held = False
            if parent.trade_id is None:
                child.status = OrderStatus.CANCELLED
                reports.append(OrderCancelled(child.request.client_order_id, None,
                                              "parent fill opened no trade", utc_now()))
                continue
            ack = await self._place_dependent(child, parent.trade_id)
            if not ack.accepted:
                child.status = OrderStatus.CANCELLED
                reports.append(OrderCancelled(child.request.client_order_id, None,
                                              f"OANDA refused the order: {ack.reason}",
                                              utc_now()))
        return reports

    def _children(self, parent_cid: str) -> list[_Tracked]:
        return [t for t in self._orders.values()
                if t.request.parent_client_order_id == parent_cid]

    async def _deliver(self, reports: list[BrokerReport]) -> None:
        if self._listener is None:
            return
        for report in reports:
            try:
                await self._listener(report)
            except Exception:
                log.exception("report listener failed on %s", type(report).__name__)

    # -- internals ------------------------------------------------------------------------

    async def _submit_child(self, request: OrderRequest) -> OrderAck:
        cid = request.client_order_id
        parent = self._orders.get(request.parent_client_order_id or "")
        if parent is None or parent.request.account != request.account:
            return OrderAck(cid, None, False,
                            f"unknown parent order {request.parent_client_order_id!r}")
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
            return await self._place_dependent(self._track(request, dependent_kind=kind),
                                               parent.trade_id)
        tracked = self._track(request, dependent_kind=kind)
        tracked.held = True
        tracked.broker_order_id = f"on-fill-of-{parent.broker_order_id}"
        return OrderAck(cid, tracked.broker_order_id, True)

    async def _place_dependent(self, tracked: _Tracked, trade_id: str) -> OrderAck:
        request = tracked.request
        price = request.stop_price if request.order_type is OrderType.STOP \
            else request.limit_price
        tracked.trade_id = trade_id
        body = p.dependent_order_body(tracked.dependent_kind or "", trade_id, price or 0.0,
                                      tracked.ext_id, self._precision(request.asset))
        status, answer = await self._call("POST", self._acct("/orders"), json=body)
        created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
        if status >= 400 or not created:
            tracked.status = OrderStatus.REJECTED
            return OrderAck(request.client_order_id, None, False, p.error_reason(status, answer))
        tracked.broker_order_id = str(created["id"])
        tracked.status = OrderStatus.SUBMITTED
        self._wake.set()
        return OrderAck(request.client_order_id, tracked.broker_order_id, True)

    def _ack_from_create(self, tracked: _Tracked, status: int, answer: Any) -> OrderAck:
        cid = tracked.request.client_order_id
        created = answer.get("orderCreateTransaction") if isinstance(answer, dict) else None
        if status >= 400 or not created:
            tracked.status = OrderStatus.REJECTED
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

    def _track(self, request: OrderRequest, dependent_kind: str | None = None) -> _Tracked:
        tracked = _Tracked(request, self._ext_id(request), dependent_kind=dependent_kind)
        self._orders[request.client_order_id] = tracked
        self._by_ext[tracked.ext_id] = request.client_order_id
        return tracked

    def _ext_id(self, request: OrderRequest) -> str:
        prefix = _prefix(request.account)
        cid = request.client_order_id
        return cid if cid.startswith(prefix) else prefix + cid

    def _precision(self, asset: str) -> int:
        return self.config.precision(p.to_instrument(asset))

    def _acct(self, path: str) -> str:
        return f"/v3/accounts/{self.config.account_id}{path}"

    def _require_connected(self) -> None:
        if self._client is None:
            raise ConnectionError("not connected to OANDA: call connect() first")

    async def _transactions_since(self, start: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = start
        while True:
            _, body = await self._get_ok(self._acct("/transactions/sinceid"),
                                         params={"id": cursor})
            found = body.get("transactions", [])
            out.extend(found)
            last = str(body.get("lastTransactionID", cursor))
            if not found or int(found[-1]["id"]) >= int(last):
                return out
            cursor = str(found[-1]["id"])

    async def _get_ok(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, body = await self._call("GET", path, **kwargs)
        if status >= 400:
            raise ConnectionError(f"OANDA GET {path} failed: {p.error_reason(status, body)}")
        return status, body

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """One REST call -> (status, JSON body). Authentication failures and
        transport errors raise ConnectionError; other statuses are returned."""
        if self._client is None:
            raise ConnectionError("not connected to OANDA: call connect() first")
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise ConnectionError(f"OANDA {method} {path} timed out "
                                  f"({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise ConnectionError(f"OANDA unreachable at {self.config.rest_url}: "
                                  f"{type(error).__name__}") from None
        body = _json_or_none(response.content)
        if response.status_code == 401:
            raise ConnectionError(
                "OANDA rejected the API key (HTTP 401): check the token and that the "
                f"environment ({self.config.environment.value}) matches it")
        if response.status_code == 403:
            raise ConnectionError(
                f"OANDA refused access to account {self.config.account_id} (HTTP 403): "
                f"{p.error_reason(403, body)}")
        return response.status_code, body if body is not None else {}


def _prefix(account: str) -> str:
    return f"LT-{account}-"


def _json_or_none(raw: bytes | str) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


async def _lines(response: httpx.Response, silence_s: float) -> AsyncIterator[str]:
    """The response's lines; TimeoutError when none arrives for ``silence_s``."""
    iterator = response.aiter_lines().__aiter__()
    while True:
        try:
            line = await asyncio.wait_for(iterator.__anext__(), silence_s)
        except StopAsyncIteration:
            return
        if line.strip():
            yield line


def _request_problem(request: OrderRequest) -> str | None:
    if not request.quantity > 0:
        return f"quantity must be > 0, got {request.quantity!r}"
    try:
        p.to_instrument(request.asset)
        p.units_str(request.side, request.quantity)
    except ValueError as error:
        return str(error)
    if request.order_type is OrderType.LIMIT and not (request.limit_price or 0) > 0:
        return "a LIMIT order needs a limit_price > 0"
    if request.order_type is OrderType.STOP and not (request.stop_price or 0) > 0:
        return "a STOP order needs a stop_price > 0"
    return None


def _request_from_pending(order: dict[str, Any], cid: str, account: str,
                          trades: dict[str, dict[str, Any]]) -> OrderRequest | None:
    kind = order.get("type")
    price = p.to_float(order.get("price"))
    if kind in ("LIMIT", "STOP"):
        units = p.to_float(order["units"])
        return OrderRequest(cid, account, p.to_asset(order["instrument"]), p.side_of(units),
                            abs(units), OrderType(kind),
                            limit_price=price if kind == "LIMIT" else None,
                            stop_price=price if kind == "STOP" else None)
    trade = trades.get(str(order.get("tradeID")))
    if kind in ("STOP_LOSS", "TAKE_PROFIT") and trade is not None:
        units = p.to_float(trade["currentUnits"])
        stop = kind == "STOP_LOSS"
        return OrderRequest(cid, account, p.to_asset(trade["instrument"]),
                            p.side_of(units).opposite, abs(units),
                            OrderType.STOP if stop else OrderType.LIMIT,
                            limit_price=None if stop else price,
                            stop_price=price if stop else None)
    return None


__all__ = ["OANDABroker"]
