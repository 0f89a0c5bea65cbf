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
returns its ack before any report of that order is delivered (see
:mod:`.transactions`: delivery before "seen", watchdog, catch-up).

Failures (see :mod:`.rest` and :mod:`.orders`). Every REST call has an
overall deadline (``timeout_s``); 429 and 5xx are retried with backoff
honouring ``Retry-After``; a submit, cancel or modify whose answer is lost
is settled by re-reading the order by client id, else raises
``OrderOutcomeUnknown`` (never "rejected"). Connection state changes are
passed to ``on_connection_event(reason, state)`` (the engine journals them);
CONNECTED means synced: open orders, transactions since the last one
delivered and open trades all read completely.

Brackets. The engine sends a bracket as three requests: the entry, then the
STOP child and the LIMIT child (``parent_client_order_id`` = the entry). On
OANDA a stop-loss or take-profit is a *dependent order* on a trade: it
closes the whole trade, and OANDA cancels the other one when the trade
closes (``LINKED_TRADE_CLOSED``), which gives the OCO behaviour. So:

* entry already filled (the usual case: a MARKET entry fills within the
  POST): each child is sent at once as a ``STOP_LOSS``/``TAKE_PROFIT`` order
  on the trade the entry opened;
* entry still pending (LIMIT/STOP entry): the child is held here and sent as
  a dependent order once the poller has delivered the entry's fill (its ack
  carries the placeholder broker id ``on-fill-of-<entry order id>``);
  placing it is retried, and a stop-loss that cannot be placed closes the
  trade at market (:mod:`.brackets`). Held children are lost if the process
  stops before the entry fills;
* :meth:`OANDABroker.submit_bracket` sends all three at once, atomically, as
  one order with ``stopLossOnFill``/``takeProfitOnFill``: use it when the
  children are known before the entry is sent.

Units and money: quantities in units of the base currency, sent with the
instrument's ``tradeUnitsPrecision`` (0 for FX: whole units); prices sent
with its ``displayPrecision`` (:meth:`OANDABroker.instrument_spec`);
commissions are OANDA's, in the account's home currency (not converted),
carried on the fill itself (no separate ``CommissionReport``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import httpx

from live_trading.engine.ports import BrokerTimeout, ConnectionState, ReportListener

from .brackets import BracketOrders
from .config import OANDAConfig
from .market_data import MarketDataFeed
from .orders import OrderRouting
from .queries import VenueQueries
from .rest import AccessRefused, RestCalls
from .transactions import TransactionFeed

log = logging.getLogger(__name__)

ConnectionListener = Callable[[str, ConnectionState], None]


class OANDABroker(
    BracketOrders, OrderRouting, TransactionFeed, VenueQueries, MarketDataFeed, RestCalls
):
    """Broker + MarketData on one OANDA v20 account. See the module docs."""

    name = "oanda"

    def __init__(
        self,
        config: OANDAConfig,
        *,
        bar_poll_interval_s: float = 5.0,
        on_connection_event: ConnectionListener | None = None,
    ) -> None:
        self.config = config
        self.bar_poll_interval_s = bar_poll_interval_s
        self.on_connection_event = on_connection_event
        self._client = None
        self._state = ConnectionState.DISCONNECTED
        self._listener = None
        self._orders = {}
        self._by_ext = {}
        self._accounts = set()
        self._last_tx = None
        self._seen_tx = set()
        self._gated = set()  # ext ids whose submit/modify is in flight
        self._cancel_requested = {}  # ext id -> cid, untracked orders
        self._specs = {}
        self._units_precision = {}
        self._protect_tasks = set()
        self._sync_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._poller = None
        self._bar_tasks = {}
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

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        if state == self._state:
            return
        self._state = state
        log.info("OANDA connection %s: %s", state.value, reason)
        if self.on_connection_event is not None:
            try:
                self.on_connection_event(reason, state)
            except Exception:  # a journaling hook must not break the adapter
                log.exception("on_connection_event failed")

    async def connect(self) -> None:
        """Check the token and account (``GET /summary``), then sync (open
        orders, transactions since the last id, open trades; retried with
        backoff, ``max_retries`` times) and start the transaction poller.
        CONNECTED only once every part of the sync was read completely.

        Raises:
            ConnectionError: unreachable, bad token (401) or account
                (403/404), or the sync kept failing.
        """
        if self._state == ConnectionState.CONNECTED:
            return
        self._set_state(ConnectionState.CONNECTING, "connect")
        self._closing = False
        await self._new_client()
        try:
            _, body = await self._get_ok(self._acct("/summary"), call="connect")
            if self._last_tx is None:
                self._last_tx = str(body["lastTransactionID"])
            await self._first_sync()
        except BaseException as error:
            await self._close_client()
            self._set_state(ConnectionState.DISCONNECTED, f"connect failed: {error}")
            if isinstance(error, BrokerTimeout):
                raise ConnectionError(f"OANDA did not answer: {error}") from None
            raise
        self._poller = asyncio.create_task(self._poll_loop(), name="oanda-transactions")
        log.info(
            "connected to OANDA account %s (%s)",
            self.config.account_id,
            self.config.environment.value,
        )

    async def _first_sync(self) -> None:
        for attempt in range(self.config.max_retries + 1):
            try:
                await self._resync()
                return
            except (ConnectionError, BrokerTimeout) as error:
                if attempt == self.config.max_retries or isinstance(error, AccessRefused):
                    raise
                self._set_state(ConnectionState.RECONNECTING, f"partial sync: {error}")
                await asyncio.sleep(self.config.backoff_s(attempt))

    async def _new_client(self) -> None:
        await self._close_client()
        self._client = httpx.AsyncClient(
            base_url=self.config.rest_url,
            timeout=self.config.timeout_s,
            headers={
                "Authorization": f"Bearer {self.config.api_key}",
                "Accept-Datetime-Format": "RFC3339",
                "Content-Type": "application/json",
            },
        )

    async def _replace_client(self) -> None:
        """A fresh HTTP client (new connections) for the watchdog; calls in
        flight on the old one finish within their deadline before it closes."""
        old = self._client
        self._client = None
        await self._new_client()
        if old is not None:
            task = asyncio.get_running_loop().create_task(self._close_later(old))
            self._protect_tasks.add(task)
            task.add_done_callback(self._protect_tasks.discard)

    async def _close_later(self, client: httpx.AsyncClient) -> None:
        try:
            await asyncio.sleep(self.config.timeout_s * (self.config.max_retries + 1))
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _close_client(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await client.aclose()

    async def disconnect(self) -> None:
        self._closing = True
        tasks = [
            t
            for t in [self._poller, *self._bar_tasks.values(), *self._protect_tasks]
            if t is not None
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._poller = None
        self._bar_tasks.clear()
        await self._close_client()
        self._set_state(ConnectionState.DISCONNECTED, "disconnect requested")


__all__ = ["OANDABroker"]
