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
from tests.fakes.tws_market import MIN_TICK, TWSMarketData
from tests.fakes.tws_model import (  # noqa: F401 - re-exported
    CONTRACTS,
    FakeExecution,
    FakeOrder,
    _Conn,
    _crossed,
)
from tests.fakes.tws_scenarios import TWSScenarios
from tests.fakes.tws_wire import TWS_TZ, UNSET_DOUBLE, UNSET_INT, TWSWire  # noqa: F401


def on_tick(price: float) -> float:
    """``price`` on the venue's tick: a real venue never executes off it."""
    return round(round(price / MIN_TICK) * MIN_TICK, 10)


class FakeTWS(TWSBrackets, TWSScenarios, TWSMarketData, TWSWire):
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

    def _place_order(self, conn: _Conn, f: list[str]) -> None:
        order_id = int(f[1])
        (
            _con_id,
            symbol,
            sec_type,
            _ltd,
            _strike,
            _right,
            _mult,
            exchange,
            _pex,
            currency,
            _local,
            _tclass,
        ) = f[2:14]
        action, qty, order_type, lmt, aux, tif, oca, account, _oc, _origin, ref = f[16:27]
        transmit, parent_id = f[27] != "0", int(f[28] or 0)
        existing = next(
            (
                o
                for o in self.orders
                if o.order_id == order_id and o.client_id == conn.client_id and o.working
            ),
            None,
        )
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
        if any(
            o.order_id == order_id and o.client_id == conn.client_id and o.working
            for o in self.orders
        ):
            self._send(conn, 4, 2, order_id, 103, "Duplicate order id", "")
            return
        self.next_valid_id = max(self.next_valid_id, order_id + 1)
        self.placements.append((ref, order_id, parent_id, transmit))
        self._perm += 1
        order = FakeOrder(
            order_id,
            conn.client_id,
            self._perm,
            symbol,
            sec_type,
            exchange,
            currency,
            action,
            float(qty),
            order_type,
            lmt,
            aux,
            tif,
            account or self.account,
            ref,
            oca,
            parent_id,
        )
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
            self._send(conn, 4, 2, order_id, 201, "Order rejected - reason:Insufficient margin", "")
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
        order = next(
            (
                o
                for o in self.orders
                if o.order_id == order_id and o.client_id == conn.client_id and o.working
            ),
            None,
        )
        if order is None:
            self._send(
                conn,
                4,
                2,
                order_id,
                10147,
                f"OrderId {order_id} that needs to be cancelled is not found.",
                "",
            )
            return
        order.status = "Cancelled"
        self._send(conn, 4, 2, order_id, 202, "Order Canceled - reason:", "")
        self._send_status(conn, order)
        for child in self._children(order):  # TWS cancels a cancelled parent's children
            if child.working:
                child.status = "Cancelled"
                self._broadcast(child, status=True)

    def _broadcast(
        self, order: FakeOrder, *, status: bool = True, open_order: bool = False
    ) -> None:
        for conn in self.conns:
            if conn.client_id == order.client_id:
                if open_order:
                    self._send_open_order(conn, order)
                if status:
                    self._send_status(conn, order)

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
    def fill(
        self, order_ref: str, quantity: float | None = None, price: float | None = None
    ) -> FakeExecution:
        """Execute (part of) the working order ``order_ref``; reported live to
        the client that owns it when connected, else only via reqExecutions."""
        order = next(o for o in self.orders if o.order_ref == order_ref and o.working)
        qty = order.remaining if quantity is None else quantity
        price = on_tick(self.fill_price if price is None else price)
        order.avg_price = (order.avg_price * order.filled + price * qty) / (order.filled + qty)
        order.filled += qty
        order.last_price = price
        if order.remaining <= 1e-9:
            order.status = "Filled"
        self._exec_seq += 1
        ex = FakeExecution(
            exec_id=f"0000e0d5.6578{self._exec_seq:04x}.01.01",
            order=order,
            shares=qty,
            price=price,
            time=datetime.now(UTC).replace(microsecond=0),
            cum_qty=order.filled,
            avg_price=order.avg_price,
            commission=self.commission,
            order_id=order.order_id,
            children_at_fill=[c.order_ref for c in self._children(order)],
        )
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

    def _positions(self) -> dict:
        out: dict = {}
        for ex in self.executions:
            o = ex.order
            key = (o.symbol, o.sec_type, o.currency)
            qty, cost, _ = out.get(key, (0.0, 0.0, o))
            signed = ex.shares if o.action == "BUY" else -ex.shares
            out[key] = (qty + signed, cost + signed * ex.price, o)
        return {k: (q, (c / q if q else 0.0), o) for k, (q, c, o) in out.items()}
