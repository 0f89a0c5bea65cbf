"""A fake TWS / IB Gateway on loopback, speaking the TWS socket protocol well
enough for the unmodified ``ib_async`` client (tested with ib_async 2.1.0).

Protocol: the client sends ``b"API\\0"`` then a length-prefixed
``"v157..178"``; the server answers a length-prefixed message of two
NUL-terminated fields ``<server version>``, ``<connection time>``. Every
later message is a 4-byte big-endian length then NUL-terminated fields.
Messages are encoded as the real TWS encodes them for the negotiated server
version (default 178, the highest ib_async 2.1.0 asks for), in the field
order of ib_async's ``decoder.py``.

Supported incoming requests: startApi(71), reqPositions(61),
reqOpenOrders(5), reqAllOpenOrders(16), reqCompletedOrders(99, the
finished orders), reqAccountUpdates(6), reqAccountUpdatesMulti(76), reqExecutions(7),
placeOrder(3, new and modify; ``parentId`` and ``ocaGroup`` honoured),
cancelOrder(4, a parent's children cancelled with it), reqIds(8),
reqCurrentTime(49), reqContractDetails(9, the pairs of ``CONTRACTS``),
reqMktData(1, snapshot or streaming bid/ask), cancelMktData(2),
reqHistoricalData(20, bars scripted in ``history[barSizeSetting]``, each
request recorded in ``history_requests``), cancelHistoricalData(25),
reqRealTimeBars(50), cancelRealTimeBars(51).
Anything else is ignored (logged in ``unhandled``).

Outgoing: managedAccounts(15), nextValidId(9), openOrder(5), orderStatus(3),
execDetails(11), commissionReport(59), error(4), position(61),
positionEnd(62), openOrderEnd(53), completedOrdersEnd(102),
updateAccountValue(6), accountDownloadEnd(54), accountUpdateMultiEnd(74),
execDetailsEnd(55), currentTime(49), contractDetails(10),
contractDetailsEnd(52), tickPrice(1), tickSnapshotEnd(57),
historicalData(17), realtimeBar(50).

Brackets and OCA: an order with ``parentId`` stays PreSubmitted (whyHeld
"child") until its parent has filled; a fill of an order in an OCA group
cancels the group's other working orders (orderStatus Cancelled).
:meth:`trade_at` makes the market trade at a price: working market orders
fill at it, crossed limits (LMT) and stops (STP) fill at it, streaming quote
subscribers get the new bid/ask. :meth:`realtime_bar` pushes a 5-second bar.

Scripted behaviour per order (``behaviour[orderRef]`` or
``default_behaviour``): ``"fill"`` (market fills at once), ``"partial"``
(two executions), ``"reject"`` (error 201 + orderStatus Inactive),
``"rest"`` (stays Submitted until :meth:`fill` is called). Connection
scenarios: :meth:`outage` (close sockets, refuse connections),
:meth:`fill` while down, :meth:`resume`, and :meth:`restart` (rolls
``nextValidId`` back to 1, keeps orders and executions, as IB does).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.fakes.tws_adversary import Adversary
from tests.fakes.tws_wire import TWS_TZ, UNSET_DOUBLE, UNSET_INT, TWSWire  # noqa: F401

CONTRACTS = {  # (symbol, secType, currency) -> (conId, exchange, localSymbol, tradingClass)
    ("USD", "CASH", "CAD"): (15016062, "IDEALPRO", "USD.CAD", "USD.CAD"),
    ("EUR", "CASH", "USD"): (12087792, "IDEALPRO", "EUR.USD", "EUR.USD"),
}


@dataclass
class FakeOrder:
    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    sec_type: str
    exchange: str
    currency: str
    action: str
    quantity: float
    order_type: str
    lmt_price: str
    aux_price: str
    tif: str
    account: str
    order_ref: str
    oca_group: str = ""
    parent_id: int = 0
    status: str = "PreSubmitted"
    filled: float = 0.0
    avg_price: float = 0.0
    last_price: float = 0.0

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    @property
    def working(self) -> bool:
        return self.status in ("PreSubmitted", "Submitted")

    def contract_fields(self, with_exchange: bool = True) -> list:
        con_id, exch, local, tclass = CONTRACTS.get(
            (self.symbol, self.sec_type, self.currency),
            (0, self.exchange, self.symbol, self.symbol))
        return [con_id, self.symbol, self.sec_type, "", "0", "", "",
                exch, self.currency, local, tclass]


@dataclass
class FakeExecution:
    exec_id: str
    order: FakeOrder
    shares: float
    price: float
    time: datetime
    cum_qty: float
    avg_price: float
    commission: float
    order_id: int = 0  # the orderId at the time of the fill
    children_at_fill: list = field(default_factory=list)  # orderRefs of its children


@dataclass
class _Conn:
    writer: asyncio.StreamWriter
    client_id: int = -1
    version: int = 0
    muted: bool = False  # answers are lost (adversary)


class FakeTWS(TWSWire):
    def __init__(self, *, account: str = "DU1234567", server_version: int = 178,
                 fill_price: float = 1.3650, commission: float = 2.0) -> None:
        self.account = account
        self.server_version = server_version
        self.fill_price = fill_price
        self.commission = commission
        self.default_behaviour = "fill"
        self.behaviour: dict[str, str] = {}
        self.next_valid_id = 1
        self.next_valid_id_sent: list[int] = []  # nextValidId of each connection
        self._perm = 900000000
        self._exec_seq = 0
        self.orders: list[FakeOrder] = []
        self.executions: list[FakeExecution] = []
        self.received: list[list[str]] = []  # every request, for assertions
        self.unhandled: list[list[str]] = []
        self.conns: list[_Conn] = []
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self.accepting = True
        self.spread = 0.0002  # bid/ask = fill_price -/+ spread/2
        self.history: dict[str, list[tuple]] = {}  # barSizeSetting -> (time, o, h, l, c)
        self.history_requests: list[dict] = []
        self.quote_subs: list[tuple[_Conn, int]] = []  # streaming reqMktData
        self.bar_subs: list[tuple[_Conn, int]] = []  # reqRealTimeBars
        self.adversary = Adversary()
        self.untransmitted: list[tuple[FakeOrder, str]] = []  # transmit=False, held by TWS
        self.unanswered: list[list[str]] = []  # requests the adversary swallowed
        self.link_down = False  # between 1100 and 1101/1102: nothing pushed live

    # ------------------------------------------------------------ lifecycle
    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.accepting = True
        return self.port

    async def stop(self) -> None:
        await self._drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _drop(self) -> None:
        for conn in list(self.conns):
            conn.writer.close()
            # wait_closed can hang on aborted peers: don't wait long
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await asyncio.wait_for(conn.writer.wait_closed(), 1)
        self.conns.clear()

    async def drop_connections(self) -> None:
        """Close every client socket (clients may reconnect at once)."""
        await self._drop()

    async def outage(self) -> None:
        """Close every client socket and refuse new ones until :meth:`resume`."""
        self.accepting = False
        await self.stop()

    async def resume(self) -> None:
        await self.start(self.port)

    async def restart(self, *, roll_back_ids: bool = True) -> None:
        """A gateway restart: sockets closed; orders and the day's executions
        kept; ``nextValidId`` starts from 1 again."""
        await self.stop()
        if roll_back_ids:
            self.next_valid_id = 1
        await self.start(self.port)

    # ------------------------------------------------------------- framing
    def _send(self, conn: _Conn, *fields) -> None:
        if not conn.writer.is_closing() and not conn.muted:
            conn.writer.write(self._frame(fields))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        if not self.accepting:
            writer.close()
            return
        self.conns.append(conn)
        try:
            prefix = await reader.readexactly(4)
            if prefix != b"API\0":
                writer.close()
                return
            (size,) = struct.unpack(">I", await reader.readexactly(4))
            versions = (await reader.readexactly(size)).decode()
            low, high = versions.split()[0].lstrip("v").split("..")
            conn.version = min(int(high), self.server_version)
            if conn.version < int(low):
                writer.close()
                return
            now = datetime.now(UTC).astimezone(TWS_TZ).strftime("%Y%m%d %H:%M:%S EST")
            writer.write(self._frame([conn.version, now]))
            while True:
                (size,) = struct.unpack(">I", await reader.readexactly(4))
                fields = (await reader.readexactly(size)).decode().split("\0")[:-1]
                self.received.append(fields)
                delay = self.adversary.request_delay()
                if delay:
                    await asyncio.sleep(delay)
                if self.adversary.swallows(int(fields[0])):
                    self.unanswered.append(fields)
                    continue
                self._dispatch(conn, fields)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            if conn in self.conns:
                self.conns.remove(conn)
            self.quote_subs = [s for s in self.quote_subs if s[0] is not conn]
            self.bar_subs = [s for s in self.bar_subs if s[0] is not conn]
            writer.close()

    # ------------------------------------------------------------ requests
    def _dispatch(self, conn: _Conn, f: list[str]) -> None:
        msg = int(f[0])
        if msg == 71:  # startApi: version, clientId, optCapab
            if any(c is not conn and c.client_id == int(f[2]) for c in self.conns):
                self._send(conn, 4, 2, -1, 326, "Unable to connect as the client id is "
                           "already in use. Retry with a unique client id.", "")
                conn.writer.close()
                return
            conn.client_id = int(f[2])
            self._send(conn, 15, 1, self.account)
            self._send(conn, 9, 1, self.next_valid_id)
            self.next_valid_id_sent.append(self.next_valid_id)
        elif msg == 61:  # reqPositions
            for (qty, avg, order) in self._positions().values():
                self._send(conn, 61, 3, self.account, *order.contract_fields(), qty, avg)
            self._send(conn, 62, 1)
        elif msg in (5, 16):  # reqOpenOrders / reqAllOpenOrders
            for order in self.orders:
                if order.working and (msg == 16 or (order.client_id == conn.client_id and
                                                    order.order_ref not in self.adversary.unbound)):
                    self._send_open_order(conn, order)
                    self._send_status(conn, order)
            self._send(conn, 53, 1)
        elif msg == 99:  # reqCompletedOrders: apiOnly; the finished orders of the day
            for order in self.orders:
                if not order.working:
                    self._send_completed_order(conn, order)
            self._send(conn, 102)
        elif msg == 6:  # reqAccountUpdates: version, subscribe, account
            self._send(conn, 6, 2, "NetLiquidation", "100000.00", "USD", self.account)
            self._send(conn, 8, 1, datetime.now(UTC).strftime("%H:%M"))
            self._send(conn, 54, 1, self.account)
        elif msg == 76:  # reqAccountUpdatesMulti: version, reqId, account, model, ledger
            req_id = f[2]
            self._send(conn, 73, 1, req_id, self.account, "", "NetLiquidation",
                       "100000.00", "USD")
            self._send(conn, 74, 1, req_id)
        elif msg == 7:  # reqExecutions: version, reqId, filter...
            req_id = int(f[2])
            client_filter = int(f[3] or 0)
            for ex in self.executions:
                if client_filter and ex.order.client_id != client_filter:
                    continue
                self._send_exec(conn, req_id, ex)
                self._send_commission(conn, ex)
            self._send(conn, 55, 1, req_id)
        elif msg == 3:
            self._place_order(conn, f)
        elif msg == 4:  # cancelOrder: version, orderId[, manualCancelOrderTime]
            self._cancel(conn, int(f[2]))
        elif msg == 8:  # reqIds
            self._send(conn, 9, 1, self.next_valid_id)
        elif msg == 49:
            self._send(conn, 49, 1, int(datetime.now(UTC).timestamp()))
        elif msg == 9:  # reqContractDetails: 8, reqId, contract(12), ...
            self._contract_details(conn, int(f[2]), f[4], f[5], f[12])
        elif msg in (1, 2, 20, 25, 50, 51):
            self._market_data(conn, msg, f)
        else:
            self.unhandled.append(f)

    def _place_order(self, conn: _Conn, f: list[str]) -> None:
        order_id = int(f[1])
        (_con_id, symbol, sec_type, _ltd, _strike, _right, _mult, exchange, _pex,
         currency, _local, _tclass) = f[2:14]
        action, qty, order_type, lmt, aux, tif, oca, account, _oc, _origin, ref = f[16:27]
        transmit, parent_id = f[27] != "0", int(f[28] or 0)
        existing = next((o for o in self.orders if o.order_id == order_id
                         and o.client_id == conn.client_id and o.working), None)
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
        if any(o.order_id == order_id and o.client_id == conn.client_id and o.working
               for o in self.orders):
            self._send(conn, 4, 2, order_id, 103, "Duplicate order id", "")
            return
        self.next_valid_id = max(self.next_valid_id, order_id + 1)
        self._perm += 1
        order = FakeOrder(order_id, conn.client_id, self._perm, symbol, sec_type, exchange,
                          currency, action, float(qty), order_type, lmt, aux, tif,
                          account or self.account, ref, oca, parent_id)
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
            self._send(conn, 4, 2, order_id, 201,
                       "Order rejected - reason:Insufficient margin", "")
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

    def _transmit_group(self, conn: _Conn, last: FakeOrder, behaviour: str) -> None:
        """The last child of a bracket arrives with transmit=True: the parent
        and every child are placed together, the children held, then the
        parent works."""
        group = [(o, b) for o, b in self.untransmitted
                 if last.parent_id in (o.order_id, o.parent_id)] + [(last, behaviour)]
        self.untransmitted = [g for g in self.untransmitted if g not in group]
        parent, parent_behaviour = group[0]
        for order, _b in group:
            order.status = "PreSubmitted"
            self.orders.append(order)
            self._send_order(conn, order)
        self.orders.remove(parent)
        self._new_order(conn, parent, parent_behaviour)

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
        order = next((o for o in self.orders if o.order_id == order_id
                      and o.client_id == conn.client_id and o.working), None)
        if order is None:
            self._send(conn, 4, 2, order_id, 10147,
                       f"OrderId {order_id} that needs to be cancelled is not found.", "")
            return
        order.status = "Cancelled"
        self._send(conn, 4, 2, order_id, 202, "Order Canceled - reason:", "")
        self._send_status(conn, order)
        for child in self._children(order):  # TWS cancels a cancelled parent's children
            if child.working:
                child.status = "Cancelled"
                self._broadcast(child, status=True)

    # --------------------------------------------------------- market data
    def _market_data(self, conn: _Conn, msg: int, f: list[str]) -> None:
        if msg == 1:  # reqMktData: 11, reqId, contract(12), dnc, ticks, snapshot, ...
            req_id, snapshot = int(f[2]), f[17] == "1"
            self._send_quote(conn, req_id)
            if snapshot:
                self._send(conn, 57, 1, req_id)  # tickSnapshotEnd
            else:
                self.quote_subs.append((conn, req_id))
        elif msg == 2:  # cancelMktData: 2, reqId
            self.quote_subs = [s for s in self.quote_subs if s != (conn, int(f[2]))]
        elif msg == 20:  # reqHistoricalData: reqId, contract(12), includeExpired,
            # endDateTime, barSize, duration, useRTH, whatToShow, formatDate, keepUpToDate
            self._historical(conn, int(f[1]), end=f[15], bar_size=f[16], duration=f[17],
                             use_rth=f[18], what=f[19], date_format=f[20])
        elif msg == 50:  # reqRealTimeBars: 3, reqId, contract(12), 5, whatToShow, ...
            if self.adversary.bar_error is not None:
                self._send(conn, 4, 2, int(f[2]), *self.adversary.bar_error, "")
                return
            self.bar_subs.append((conn, int(f[2])))
        elif msg == 51:  # cancelRealTimeBars: 1, reqId
            self.bar_subs = [s for s in self.bar_subs if s != (conn, int(f[2]))]
        # 25 cancelHistoricalData: nothing is streaming

    def _contract_details(self, conn: _Conn, req_id: int, symbol: str, sec_type: str,
                          currency: str) -> None:
        known = CONTRACTS.get((symbol, sec_type, currency))
        if known is not None:
            con_id, exch, local, tclass = known
            # contractDetails (server version >= 164): reqId symbol secType lastTimes
            # strike right exchange currency localSymbol marketName tradingClass conId
            # minTick multiplier orderTypes validExchanges priceMagnifier underConId
            # longName primaryExchange contractMonth industry category subcategory
            # timeZoneId tradingHours liquidHours evRule evMultiplier numSecIds aggGroup
            # underSymbol underSecType marketRuleIds realExpirationDate stockType
            # minSize sizeIncrement suggestedSizeIncrement
            self._send(conn, 10, req_id, symbol, sec_type, "", 0, "", exch, currency, local,
                       tclass, tclass, con_id, 0.00005, "", "LMT,MKT,STP", exch, 1, 0,
                       f"{symbol}.{currency}", "", "", "", "", "", "US/Eastern", "", "", "",
                       0, 0, 4, symbol, "", "239", "", "", 1, 1, 1)
        self._send(conn, 52, 1, req_id)  # contractDetailsEnd

    def _send_quote(self, conn: _Conn, req_id: int) -> None:
        half = self.spread / 2
        # tickPrice: version, reqId, tickType (1 bid, 2 ask), price, size, attrMask
        self._send(conn, 1, 6, req_id, 1, round(self.fill_price - half, 6), 1_000_000, 0)
        self._send(conn, 1, 6, req_id, 2, round(self.fill_price + half, 6), 1_000_000, 0)

    def _push_quotes(self) -> None:
        for conn, req_id in self.quote_subs:
            if conn in self.conns:
                self._send_quote(conn, req_id)

    def _historical(self, conn: _Conn, req_id: int, *, end: str, bar_size: str,
                    duration: str, use_rth: str, what: str, date_format: str) -> None:
        self.history_requests.append({"end": end, "bar_size": bar_size, "duration": duration,
                                      "use_rth": use_rth, "what": what,
                                      "format_date": date_format})
        if self.adversary.history_refusals:
            code, message = self.adversary.history_refusals.pop(0)
            self._send(conn, 4, 2, req_id, code, message, "")
            return
        end_at = (datetime.strptime(end, "%Y%m%d %H:%M:%S UTC").replace(tzinfo=UTC)
                  if end else datetime.now(UTC))
        count, unit = duration.split()
        seconds = int(count) * {"S": 1, "D": 86400, "W": 7 * 86400}[unit]
        start_at = end_at - timedelta(seconds=seconds)
        rows = [r for r in self.history.get(bar_size, []) if start_at <= r[0] < end_at]
        fields: list = [17, req_id, start_at.strftime("%Y%m%d %H:%M:%S"),
                        end_at.strftime("%Y%m%d %H:%M:%S"), len(rows)]
        for time, o, h, low, c in rows:
            stamp = (time.strftime("%Y%m%d") if bar_size == "1 day"
                     else str(int(time.timestamp())))  # formatDate=2: epoch seconds
            fields += [stamp, o, h, low, c, -1, -1, -1]  # volume wap count: none for FX
        self._send(conn, *fields)

    def realtime_bar(self, time: datetime, o: float, h: float, low: float, c: float) -> None:
        """Push a 5-second bar (open ``time``) to every reqRealTimeBars subscriber."""
        for conn, req_id in self.bar_subs:
            if conn in self.conns:
                # realtimeBar: version, reqId, time, open, high, low, close, volume, wap, count
                self._send(conn, 50, 3, req_id, int(time.timestamp()), o, h, low, c, -1, -1, -1)

    # ------------------------------------------------- brackets and OCA
    def _parent(self, order: FakeOrder) -> FakeOrder | None:
        if not order.parent_id:
            return None
        return next((o for o in reversed(self.orders) if o.order_id == order.parent_id
                     and o.client_id == order.client_id and o is not order), None)

    def _children(self, parent: FakeOrder) -> list[FakeOrder]:
        return [o for o in self.orders if o.parent_id == parent.order_id
                and o.client_id == parent.client_id and self._parent(o) is parent]

    def held(self, order: FakeOrder) -> bool:
        """A child (parentId set) works only once its parent has filled."""
        parent = self._parent(order)
        return parent is not None and parent.status != "Filled"

    def _broadcast(self, order: FakeOrder, *, status: bool = True,
                   open_order: bool = False) -> None:
        for conn in self.conns:
            if conn.client_id == order.client_id:
                if open_order:
                    self._send_open_order(conn, order)
                if status:
                    self._send_status(conn, order)

    def _after_fill(self, order: FakeOrder) -> None:
        if order.oca_group:  # ocaType 1: a fill cancels the rest of the group
            for other in self.orders:
                if other is not order and other.working and other.oca_group == order.oca_group \
                        and other.account == order.account:
                    other.status = "Cancelled"
                    self._broadcast(other)
        if order.status == "Filled":
            for child in self._children(order):
                if child.working and child.status == "PreSubmitted":
                    child.status = "Submitted"
                    self._broadcast(child, open_order=True)

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
    def fill(self, order_ref: str, quantity: float | None = None,
             price: float | None = None) -> FakeExecution:
        """Execute (part of) the working order ``order_ref``; reported live to
        the client that owns it when connected, else only via reqExecutions."""
        order = next(o for o in self.orders if o.order_ref == order_ref and o.working)
        qty = order.remaining if quantity is None else quantity
        price = self.fill_price if price is None else price
        order.avg_price = (order.avg_price * order.filled + price * qty) / (order.filled + qty)
        order.filled += qty
        order.last_price = price
        if order.remaining <= 1e-9:
            order.status = "Filled"
        self._exec_seq += 1
        ex = FakeExecution(
            exec_id=f"0000e0d5.6578{self._exec_seq:04x}.01.01", order=order, shares=qty,
            price=price, time=datetime.now(UTC).replace(microsecond=0), cum_qty=order.filled,
            avg_price=order.avg_price, commission=self.commission, order_id=order.order_id,
            children_at_fill=[c.order_ref for c in self._children(order)])
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

    def _late_commission(self, conn: _Conn, ex: FakeExecution) -> None:
        if conn in self.conns:
            self._send_commission(conn, ex)

    def link_lost(self) -> None:
        """IB 1100: TWS lost its link to IB's servers; the socket stays up and
        nothing is pushed (fills made meanwhile come only via reqExecutions)."""
        self.link_down = True
        for conn in self.conns:
            self._send(conn, 4, 2, -1, 1100, "Connectivity between IB and Trader "
                       "Workstation has been lost.", "")

    def link_restored(self, code: int = 1102) -> None:
        """IB 1101 (data lost) or 1102 (data maintained)."""
        self.link_down = False
        text = "data lost" if code == 1101 else "data maintained"
        for conn in self.conns:
            self._send(conn, 4, 2, -1, code, "Connectivity between IB and Trader "
                       f"Workstation has been restored - {text}.", "")

    def cancel_at_venue(self, order_ref: str, reason: str = "") -> None:
        """IB cancels the working order ``order_ref`` on its own (end of a
        DAY order, margin); reported to its client when connected."""
        order = next(o for o in self.orders if o.order_ref == order_ref and o.working)
        order.status = "Cancelled"
        if not self.link_down:
            for conn in self.conns:
                if conn.client_id == order.client_id:
                    self._send(conn, 4, 2, order.order_id, 202, f"Order Canceled - reason:{reason}",
                               "")
            self._broadcast(order)

    def _positions(self) -> dict:
        out: dict = {}
        for ex in self.executions:
            o = ex.order
            key = (o.symbol, o.sec_type, o.currency)
            qty, cost, _ = out.get(key, (0.0, 0.0, o))
            signed = ex.shares if o.action == "BUY" else -ex.shares
            out[key] = (qty + signed, cost + signed * ex.price, o)
        return {k: (q, (c / q if q else 0.0), o) for k, (q, c, o) in out.items()}

def _crossed(order: FakeOrder, price: float) -> bool:
    buy = order.action == "BUY"
    if order.order_type == "MKT":
        return True
    if order.order_type == "LMT":
        limit = float(order.lmt_price)
        return price <= limit if buy else price >= limit
    if order.order_type == "STP":
        stop = float(order.aux_price)
        return price >= stop if buy else price <= stop
    return False
