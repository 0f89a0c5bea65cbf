"""``IBKRBroker``: the Broker and MarketData ports over TWS / IB Gateway,
through ib_async.

Design notes:

* Our client order id travels in IB's ``orderRef``; orders and fills are
  found again by it (after a restart of our process or of the gateway),
  never by IB's ``orderId``, which the gateway may hand out again after a
  restart. ``broker_order_id`` is IB's ``permId`` (stable) from the first
  status of the order, or ``oid:<orderId>`` until IB has told it.
* Every awaited request has a deadline (:mod:`.deadlines`): none can hang.
* Connection, sync and reconnection: :mod:`.connection`. Reports (fills at
  once, commissions after them, cancellations): :mod:`.reports`. Order
  routing: :mod:`.orders`; orders found at the venue by ``orderRef``
  (cancel / modify of an order ib_async forgot, open orders):
  :mod:`.venue_orders`. Market data: :mod:`.market_data`; instrument
  specifications: :mod:`.instruments`.
* ``positions(account)`` is the net of the fills of orders whose orderRef
  starts with ``LT-<account>-`` (the IB account is shared by operations);
  ``account_positions()`` is IB's own view of the IB account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ib_async import IB

from live_trading.domain.orders import Execution
from live_trading.engine.ports import ConnectionState, ReportListener

from .config import IBKRConfig
from .connection import ConnectionManager
from .deadlines import within
from .instruments import InstrumentSpecs
from .market_data import MarketDataFeed
from .orders import OrderRouting
from .parsing import broker_order_id_of, contract_to_asset, order_ref_prefix, perm_id_of
from .reports import ReportStream
from .venue_orders import VenueOrders

log = logging.getLogger(__name__)

ConnectionListener = Callable[[str, ConnectionState], None]

FLAT_EPSILON = 1e-9


class IBKRBroker(
    ConnectionManager, ReportStream, OrderRouting, VenueOrders, MarketDataFeed, InstrumentSpecs
):
    """Interactive Brokers implementation of the ``Broker`` and ``MarketData`` ports."""

    name = "ibkr"

    def __init__(
        self,
        config: IBKRConfig | None = None,
        *,
        on_connection_event: ConnectionListener | None = None,
    ) -> None:
        self.config = config or IBKRConfig()
        self.on_connection_event = on_connection_event
        self._ib = IB()
        self._ib.RaiseRequestErrors = True  # a refused request raises, never []
        self._listener = None
        self._state = ConnectionState.DISCONNECTED
        self._closing = self._connecting = self._hooked = False
        self._client_id_refused = False
        self._queue = None
        self._consumer = None
        self._reconnect_task = None
        self._restore_task = None
        self._max_order_id = 0  # highest IB orderId used or seen: never reused
        self._known = {}  # execId -> fill, arrival order
        self._reported = set()  # execIds delivered to the listener
        self._commissions = {}  # execId -> commission (quote ccy)
        self._requests = {}
        self._broker_ids = {}
        self._cancel_reported = set()
        self._submitting = {}
        self._bar_subs = {}  # (asset, BarSize) -> bar subscription
        self._qualified_contracts = {}  # asset -> Contract with conId
        self._specs = {}  # asset -> InstrumentSpec
        self.bar_errors = {}  # (asset, BarSize) -> last IB error on its bars

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

    def _require_connected(self) -> None:
        if self._state != ConnectionState.CONNECTED or not self._ib.isConnected():
            raise ConnectionError(f"IB not connected ({self._state})")

    # --------------------------------------------------------------- queries
    async def executions(self, account: str) -> list[Execution]:
        prefix = order_ref_prefix(account)
        return [e for e in self._known.values() if e.client_order_id.startswith(prefix)]

    async def executions_since(
        self, account: str, after_execution_id: str | None
    ) -> list[Execution]:
        fills = await self.executions(account)
        for index, execution in enumerate(fills):
            if execution.execution_id == after_execution_id:
                return fills[index + 1 :]
        return fills

    async def broker_order_id(self, client_order_id: str) -> str | None:
        known = self._broker_ids.get(client_order_id)
        if known is not None:
            return known
        trade = self._trade_of(client_order_id)
        if trade is not None:
            return broker_order_id_of(perm_id_of(trade), trade.order.orderId)
        return None

    async def positions(self, account: str) -> dict[str, float]:
        """Net of the delivered/recorded fills of ``account``'s orders."""
        net: dict[str, float] = {}
        for e in await self.executions(account):
            signed = e.quantity if e.side.value == "BUY" else -e.quantity
            net[e.asset] = net.get(e.asset, 0.0) + signed
        return {a: q for a, q in net.items() if abs(q) > FLAT_EPSILON}

    async def account_positions(self) -> dict[str, float]:
        """IB's own positions of the IB account (all operations and manual trades).

        Raises:
            ConnectionError: not connected. BrokerTimeout: no answer in time.
        """
        self._require_connected()
        positions = await within(
            "account_positions", self._ib.reqPositionsAsync(), self.config.request_timeout_s
        )
        out: dict[str, float] = {}
        for p in positions:
            if self.config.account and p.account != self.config.account:
                continue
            asset = contract_to_asset(p.contract, self.config.contracts)
            out[asset] = out.get(asset, 0.0) + float(p.position)
        return {a: q for a, q in out.items() if abs(q) > FLAT_EPSILON}
