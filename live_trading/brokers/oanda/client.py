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
import logging

import httpx

from live_trading.domain.values import BarSize
from live_trading.engine.ports import ConnectionState, ReportListener

from .brackets import BracketOrders
from .config import OANDAConfig
from .market_data import MarketDataFeed
from .orders import OrderRouting, _Tracked
from .rest import RestCalls
from .transactions import TransactionFeed

log = logging.getLogger(__name__)


class OANDABroker(BracketOrders, OrderRouting, TransactionFeed, MarketDataFeed, RestCalls):
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


__all__ = ["OANDABroker"]
