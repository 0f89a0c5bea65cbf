"""Encoders of the fake TWS (tests/fakes/tws_server.py): the messages TWS
sends, field by field, for the negotiated server version, in the field
order of ib_async's ``decoder.py``."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tests.fakes.tws_server import FakeExecution, FakeOrder, _Conn

UNSET_DOUBLE = "1.7976931348623157E308"
UNSET_INT = "2147483647"
TWS_TZ = ZoneInfo("America/New_York")


class TWSWire:
    """Mixin of FakeTWS: framing and the encoders of outgoing messages."""

    @staticmethod
    def _frame(fields) -> bytes:
        text = "".join(f"{_fmt(f)}\0" for f in fields).encode()
        return struct.pack(">I", len(text)) + text

    def _send_status(self, conn: _Conn, o: FakeOrder) -> None:
        # orderStatus: orderId, status, filled, remaining, avgFillPrice, permId,
        # parentId, lastFillPrice, clientId, whyHeld, mktCapPrice
        self._send(
            conn,
            3,
            o.order_id,
            o.status,
            o.filled,
            o.remaining,
            o.avg_price,
            o.perm_id,
            o.parent_id,
            o.last_price,
            o.client_id,
            "child" if self.held(o) else "",
            0,
        )

    def _send_exec(self, conn: _Conn, req_id: int, ex: FakeExecution) -> None:
        o = ex.order
        con_id, symbol, sec_type, ltd, strike, right, mult, exch, cur, local, tclass = (
            o.contract_fields()
        )
        tws_time = ex.time.astimezone(TWS_TZ).strftime("%Y%m%d %H:%M:%S") + " America/New_York"
        fields = [
            11,
            req_id,
            ex.order_id,
            con_id,
            symbol,
            sec_type,
            ltd,
            strike,
            right,
            mult,
            exch,
            cur,
            local,
            tclass,
            ex.exec_id,
            tws_time,
            o.account,
            exch,
            "BOT" if o.action == "BUY" else "SLD",
            ex.shares,
            ex.price,
            o.perm_id,
            o.client_id,
            0,
            ex.cum_qty,
            ex.avg_price,
            o.order_ref,
            "",
            "",
            "",
            2,
        ]
        if conn.version >= 178:
            fields.append(0)  # pendingPriceRevision
        self._send(conn, *fields)

    def _send_commission(self, conn: _Conn, ex: FakeExecution) -> None:
        self._send(conn, 59, 1, ex.exec_id, ex.commission, "USD", UNSET_DOUBLE, UNSET_DOUBLE, "")

    def _send_open_order(self, conn: _Conn, o: FakeOrder) -> None:
        v = conn.version
        f: list = [
            5,
            o.order_id,
            *o.contract_fields(),
            o.action,
            o.quantity,
            o.order_type,
            o.lmt_price or "0",
            o.aux_price or "0",
            o.tif,
            o.oca_group,
            o.account,
            "",
            0,
            o.order_ref,
            o.client_id,
            o.perm_id,
            0,
            0,
            "0",
            "",
            "",
            "",
            "",
            "",
        ]
        if v < 177:
            f.append("")  # faProfile
        f += [
            "",  # modelCode
            "",
            "",
            "",
            "",
            0,
            "",
            -1,
            "",  # goodTillDate rule80A percentOffset
            # settlingFirm shortSaleSlot designatedLocation exemptCode auctionStrategy
            "",
            "",
            "",
            "",
            "",  # startingPrice stockRefPrice delta rangeLower rangeUpper
            "",
            0,
            0,
            0,
            "",
            1 if o.oca_group else 0,  # displaySize blockOrder sweepToFill allOrNone minQty ocaType
            0,
            0,
            "",
            o.parent_id,
            0,  # eTradeOnly firmQuoteOnly nbboPriceCap parentId
            # triggerMethod
            "",
            0,
            "",
            "",  # volatility volatilityType dnOrderType dnAuxPrice
            0,
            0,
            "",
            "",
            "",
            "",
            "",  # continuousUpdate refPriceType trailStop trailPct
            # basisPoints basisPointsType comboLegsDescrip
            0,
            0,
            0,  # comboLegs, orderComboLegs, smartComboRoutingParams
            "",
            "",
            "",  # scaleInitLevelSize scaleSubsLevelSize scalePriceIncrement
            "",  # hedgeType
            0,
            "",
            "",
            0,
            0,  # optOutSmartRouting clearingAccount clearingIntent notHeld dnc
            "",  # algoStrategy
            0,
            0,
            o.status,  # solicited whatIf status
            *[UNSET_DOUBLE] * 9,  # margin before/change/after
            UNSET_DOUBLE,
            UNSET_DOUBLE,
            UNSET_DOUBLE,
            "",
            "",  # commission min max cur warn
            0,
            0,  # randomizeSize randomizePrice
            0,  # conditions
            "None",
            "",
            "",
            "",
            "",
            "",
            "",
            0,  # adjustedOrderType .. adjustableTrailingUnit
            "",
            "",
            "",
            "",
            0,
            0,
            "",
            0,
        ]  # softDollar name val display cashQty dontUseAuto
        # isOmsContainer discretionaryUpToLimitPrice usePriceMgmtAlgo
        if v >= 159:
            f.append("")  # duration
        if v >= 160:
            f.append("")  # postToAts
        if v >= 162:
            f.append(0)  # autoCancelParent
        if v >= 170:
            f += ["", "", "", "", ""]
        self._send(conn, *f)

    def _send_completed_order(self, conn: _Conn, o: FakeOrder) -> None:
        """completedOrder (101): a filled or cancelled order, as
        reqCompletedOrders lists it."""
        v = conn.version
        f: list = [
            101,
            *o.contract_fields(),
            o.action,
            o.quantity,
            o.order_type,
            o.lmt_price or "0",
            o.aux_price or "0",
            o.tif,
            o.oca_group,
            o.account,
            "",
            0,
            o.order_ref,
            o.perm_id,
            0,
            0,
            0,
            "",
            "",
            "",
            "",
        ]
        if v < 177:
            f.append("")  # faProfile
        f += [
            "",
            "",
            "",
            "",
            "",
            0,
            "",
            -1,
            "",
            "",
            "",
            "",
            "",  # modelCode .. rangeUpper
            "",
            0,
            0,
            "",
            1 if o.oca_group else 0,
            0,
            "",
            0,
            "",  # displaySize .. dnOrderType
            "",
            0,
            0,
            "",
            "",
            "",  # (as TWS 178 sends) continuousUpdate .. comboLegsDescrip
            0,
            0,
            0,  # comboLegs, orderComboLegs, smartComboRoutingParams
            "",
            "",
            "",
            "",  # scale init/subs/increment, hedgeType
            "",
            "",
            0,
            0,
            "",  # clearingAccount clearingIntent notHeld dnc algoStrategy
            0,
            o.status,
            0,
            0,
            0,  # solicited status randomizeSize randomizePrice conditions
            "",
            "",
            "",
            0,
            0,
            "",
            o.filled,
            0,
            0,
            "",
            0,
            0,
            0,  # .. parentPermId
            "",
            o.status,
        ]  # completedTime completedStatus
        if v >= 170:
            f += ["", "", "", "", ""]
        self._send(conn, *f)


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value) if value != int(value) or abs(value) >= 1e15 else str(value)
    return str(value)
