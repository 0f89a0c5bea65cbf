"""Market data of the fake TWS (tests/fakes/tws_server.py): quotes,
contract details, historical bars, real-time bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes.tws_model import CONTRACTS, _Conn

MIN_TICK = 0.00005  # IDEALPRO forex: half a pip; executions are on it


class TWSMarketData:
    """Mixin of FakeTWS."""

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
            self._historical(
                conn,
                int(f[1]),
                end=f[15],
                bar_size=f[16],
                duration=f[17],
                use_rth=f[18],
                what=f[19],
                date_format=f[20],
            )
        elif msg == 50:  # reqRealTimeBars: 3, reqId, contract(12), 5, whatToShow, ...
            if self.adversary.bar_error is not None:
                self._send(conn, 4, 2, int(f[2]), *self.adversary.bar_error, "")
                return
            self.bar_subs.append((conn, int(f[2])))
        elif msg == 51:  # cancelRealTimeBars: 1, reqId
            self.bar_subs = [s for s in self.bar_subs if s != (conn, int(f[2]))]
        # 25 cancelHistoricalData: nothing is streaming

    def _contract_details(
        self, conn: _Conn, req_id: int, symbol: str, sec_type: str, currency: str
    ) -> None:
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
            self._send(
                conn,
                10,
                req_id,
                symbol,
                sec_type,
                "",
                0,
                "",
                exch,
                currency,
                local,
                tclass,
                tclass,
                con_id,
                MIN_TICK,
                "",
                "LMT,MKT,STP",
                exch,
                1,
                0,
                f"{symbol}.{currency}",
                "",
                "",
                "",
                "",
                "",
                "US/Eastern",
                "",
                "",
                "",
                0,
                0,
                4,
                symbol,
                "",
                "239",
                "",
                "",
                1,
                1,
                1,
            )
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

    def _historical(
        self,
        conn: _Conn,
        req_id: int,
        *,
        end: str,
        bar_size: str,
        duration: str,
        use_rth: str,
        what: str,
        date_format: str,
    ) -> None:
        self.history_requests.append(
            {
                "end": end,
                "bar_size": bar_size,
                "duration": duration,
                "use_rth": use_rth,
                "what": what,
                "format_date": date_format,
            }
        )
        if self.adversary.history_refusals:
            code, message = self.adversary.history_refusals.pop(0)
            self._send(conn, 4, 2, req_id, code, message, "")
            return
        end_at = (
            datetime.strptime(end, "%Y%m%d %H:%M:%S UTC").replace(tzinfo=UTC)
            if end
            else datetime.now(UTC)
        )
        count, unit = duration.split()
        seconds = int(count) * {"S": 1, "D": 86400, "W": 7 * 86400}[unit]
        start_at = end_at - timedelta(seconds=seconds)
        rows = [r for r in self.history.get(bar_size, []) if start_at <= r[0] < end_at]
        fields: list = [
            17,
            req_id,
            start_at.strftime("%Y%m%d %H:%M:%S"),
            end_at.strftime("%Y%m%d %H:%M:%S"),
            len(rows),
        ]
        for time, o, h, low, c in rows:
            stamp = (
                time.strftime("%Y%m%d") if bar_size == "1 day" else str(int(time.timestamp()))
            )  # formatDate=2: epoch seconds
            fields += [stamp, o, h, low, c, -1, -1, -1]  # volume wap count: none for FX
        self._send(conn, *fields)

    def realtime_bar(self, time: datetime, o: float, h: float, low: float, c: float) -> None:
        """Push a 5-second bar (open ``time``) to every reqRealTimeBars subscriber."""
        for conn, req_id in self.bar_subs:
            if conn in self.conns:
                # realtimeBar: version, reqId, time, open, high, low, close, volume, wap, count
                self._send(conn, 50, 3, req_id, int(time.timestamp()), o, h, low, c, -1, -1, -1)
