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
from datetime import UTC, datetime

from tests.fakes.tws_adversary import Adversary
from tests.fakes.tws_brackets import TWSBrackets
from tests.fakes.tws_market import MIN_TICK, TWSMarketData  # noqa: F401
from tests.fakes.tws_model import (  # noqa: F401 - re-exported
    CONTRACTS,
    FakeExecution,
    FakeOrder,
    _Conn,
    _crossed,
)
from tests.fakes.tws_orders import TWSOrders, on_tick  # noqa: F401 - on_tick re-exported
from tests.fakes.tws_scenarios import TWSScenarios
from tests.fakes.tws_wire import TWS_TZ, UNSET_DOUBLE, UNSET_INT, TWSWire  # noqa: F401


class FakeTWS(TWSOrders, TWSBrackets, TWSScenarios, TWSMarketData, TWSWire):
    def __init__(
        self,
        *,
        account: str = "DU1234567",
        server_version: int = 178,
        fill_price: float = 1.3650,
        commission: float = 2.0,
    ) -> None:
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
        # every new order as placed: (orderRef, orderId, parentId, transmit)
        self.placements: list[tuple[str, int, int, bool]] = []
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
                self._send(
                    conn,
                    4,
                    2,
                    -1,
                    326,
                    "Unable to connect as the client id is "
                    "already in use. Retry with a unique client id.",
                    "",
                )
                conn.writer.close()
                return
            conn.client_id = int(f[2])
            self._send(conn, 15, 1, self.account)
            self._send(conn, 9, 1, self.next_valid_id)
            self.next_valid_id_sent.append(self.next_valid_id)
        elif msg == 61:  # reqPositions
            for qty, avg, order in self._positions().values():
                self._send(conn, 61, 3, self.account, *order.contract_fields(), qty, avg)
            self._send(conn, 62, 1)
        elif msg in (5, 16):  # reqOpenOrders / reqAllOpenOrders
            for order in self.orders:
                if order.working and (
                    msg == 16
                    or (
                        order.client_id == conn.client_id
                        and order.order_ref not in self.adversary.unbound
                    )
                ):
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
            self._send(conn, 73, 1, req_id, self.account, "", "NetLiquidation", "100000.00", "USD")
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
