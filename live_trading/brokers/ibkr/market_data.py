"""Market data of :class:`~.client.IBKRBroker` (the ``MarketData`` port).

* ``get_market_quote``: a ``reqMktData`` snapshot (bid/ask ticks until
  ``tickSnapshotEnd``).
* ``get_historical_data``: ``reqHistoricalData`` of MIDPOINT bars, ``useRTH=0``,
  ``formatDate=2`` (epoch seconds, UTC), ending at ``end`` and lasting
  ``end - start`` (``"<n> S"`` up to a day, whole days ``"<n> D"`` beyond);
  only bars opened in ``[start, end)`` and already closed are returned.
  Daily bars come dated ``YYYYMMDD`` and are placed at UTC midnight.
* ``subscribe_bars``: ``reqRealTimeBars`` (5-second MIDPOINT bars), each
  turned into the four ticks of :func:`~live_trading.data.ticks.ticks_from_bar`
  and aggregated by :class:`~live_trading.data.aggregator.BarAggregator`; a
  bar is delivered when the first 5-second bar of the next period arrives
  (so about 5 s after its close). Listeners are awaited one bar at a time,
  in order, per subscription. Subscriptions are renewed after a reconnect
  and after IB error 1101 (connectivity restored, data lost);
  the aggregator is kept, so 5-second bars already seen are rejected as
  late and a bar is never delivered twice. An error IB reports on a
  subscription (no permissions, pacing 420, contract unknown...) is logged,
  kept in ``bar_errors`` and passed to ``on_bar_error(asset, bar_size,
  reason)`` when set; the engine also notices the missing bars.
* Pacing: a history request refused for pacing (162 "pacing violation",
  420, 366) is retried ``pacing_retries`` times ``pacing_wait_s`` apart
  (IB: at most 60 requests per 10 minutes, no identical one within 15 s),
  then raised as :class:`HistoryUnavailable`; any other refusal
  (permissions 354 / 10089 / 162 "no permissions", unknown contract 200)
  is raised at once. Only IB's "query returned no data" is an empty list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ib_async import RealTimeBarList, RequestError

from live_trading.data.aggregator import BarAggregator
from live_trading.data.ticks import ticks_from_bar
from live_trading.domain.values import Bar, BarSize
from live_trading.engine.ports import BarListener, Quote

from .deadlines import within
from .parsing import asset_to_contract
from .state import IBKRState

log = logging.getLogger(__name__)

PACING_CODES = frozenset({162, 366, 420})
NO_DATA = "query returned no data"
NOTICE_CODES = range(2100, 2200)  # farm connection notices: not subscription errors


class HistoryUnavailable(RuntimeError):
    """IB refused a historical-data request (pacing after retries,
    permissions, unknown contract); ``code`` is IB's error code."""

    def __init__(self, asset: str, code: int, message: str) -> None:
        super().__init__(f"IB refused history of {asset}: {code} {message}")
        self.code = code


def is_pacing(error: RequestError) -> bool:
    return error.code in (366, 420) or (error.code == 162 and "pacing" in error.message.lower())


REALTIME_BAR = timedelta(seconds=5)
DAY_S = 86_400


def duration_str(start: datetime, end: datetime) -> str:
    """IB's ``durationStr`` covering ``[start, end)``."""
    seconds = math.ceil((end - start).total_seconds())
    if seconds <= 0:
        raise ValueError(f"empty interval: start {start} >= end {end}")
    if seconds <= DAY_S:
        return f"{seconds} S"
    return f"{math.ceil(seconds / DAY_S)} D"


def bar_time(value) -> datetime:
    """An ib_async bar date (datetime, or date for daily bars) as aware UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ValueError(f"unexpected bar date {value!r}")


def _volume(value: float) -> float:
    return float(value) if value and value > 0 else 0.0  # -1: none (FX)


@dataclass
class _BarSubscription:
    asset: str
    bar_size: BarSize
    listener: BarListener
    aggregator: BarAggregator
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    consumer: asyncio.Task | None = None
    bars: RealTimeBarList | None = None
    handler: Callable[[RealTimeBarList, bool], None] | None = None


class MarketDataFeed(IBKRState):
    """Mixin of IBKRBroker (uses its ``_ib``, ``config``, ``_bar_subs``)."""

    on_bar_error = None
    """Optional ``(asset, bar_size, reason) -> None``, called when IB reports
    an error on a real-time bar subscription."""
    bar_errors: dict

    async def get_market_quote(self, asset: str) -> Quote:
        """Best bid/ask now (a snapshot).

        Raises:
            ConnectionError: not connected. LookupError: IB gave no bid/ask.
        """
        self._require_connected()
        contract = await self._qualified(asset)
        [ticker] = await within(
            "get_market_quote", self._ib.reqTickersAsync(contract), self.config.request_timeout_s
        )
        bid, ask = ticker.bid, ticker.ask
        if not (bid and ask) or math.isnan(bid) or math.isnan(ask) or bid <= 0 or ask <= 0:
            raise LookupError(f"IB has no bid/ask for {asset} (bid={bid}, ask={ask})")
        moment = ticker.time or datetime.now(UTC)
        return Quote(asset, float(bid), float(ask), bar_time(moment))

    async def _qualified(self, asset: str):
        """The contract of ``asset`` with IB's conId (asked once, then cached);
        ib_async keys tickers by conId."""
        contract = self._qualified_contracts.get(asset)
        if contract is None:
            contract = asset_to_contract(asset, self.config.contracts)
            try:
                qualified = await within(
                    "qualify_contract",
                    self._ib.qualifyContractsAsync(contract),
                    self.config.request_timeout_s,
                )
            except RequestError as error:
                raise LookupError(f"IB does not know the contract of {asset}: {error}") from error
            if not qualified or not qualified[0] or not contract.conId:
                raise LookupError(f"IB does not know the contract of {asset}")
            self._qualified_contracts[asset] = contract
        return contract

    async def get_historical_data(
        self, asset: str, bar_size: BarSize, start: datetime, end: datetime
    ) -> list[Bar]:
        """Closed MIDPOINT bars with open time in ``[start, end)``, oldest first.

        Raises:
            HistoryUnavailable: IB refused (see the module doc).
            BrokerTimeout: no answer within ``history_timeout_s``.
            ConnectionError: not connected.
        """
        self._require_connected()
        bar_size = BarSize(bar_size)
        now = datetime.now(UTC)
        end_at = min(end, now)  # IB refuses an end in the future
        if start >= end_at:
            return []
        rows = await self._history_rows(asset, bar_size, start, end_at)
        out = []
        for row in rows or []:
            time = bar_time(row.date)
            if start <= time < end and time + bar_size.duration <= now:
                out.append(
                    Bar(
                        time,
                        float(row.open),
                        float(row.high),
                        float(row.low),
                        float(row.close),
                        _volume(row.volume),
                    )
                )
        return sorted(out, key=lambda b: b.time)

    async def _history_rows(
        self, asset: str, bar_size: BarSize, start: datetime, end_at: datetime
    ) -> list:
        contract = asset_to_contract(asset, self.config.contracts)
        for attempt in range(self.config.pacing_retries + 1):
            try:
                return await within(
                    "get_historical_data",
                    self._ib.reqHistoricalDataAsync(
                        contract,
                        endDateTime=end_at,
                        durationStr=duration_str(start, end_at),
                        barSizeSetting=bar_size.value,
                        whatToShow="MIDPOINT",
                        useRTH=False,
                        formatDate=2,
                        timeout=0,
                    ),
                    self.config.history_timeout_s,
                )
            except RequestError as error:
                if error.code == 162 and NO_DATA in error.message.lower():
                    return []
                if not is_pacing(error) or attempt == self.config.pacing_retries:
                    raise HistoryUnavailable(asset, error.code, error.message) from error
                log.warning(
                    "IB pacing (%s) on history of %s; retry %d in %g s",
                    error.code,
                    asset,
                    attempt + 1,
                    self.config.pacing_wait_s,
                )
                await asyncio.sleep(self.config.pacing_wait_s)
        raise AssertionError("unreachable")  # pragma: no cover

    def _on_request_error(self, req_id: int, code: int, message: str) -> None:
        """An IB error not about the connection: a bar subscription's?"""
        if code in NOTICE_CODES:
            return
        for sub in self._bar_subs.values():
            if sub.bars is not None and getattr(sub.bars, "reqId", None) == req_id:
                reason = f"IB {code}: {message}"
                log.error("real-time bars of %s %s: %s", sub.asset, sub.bar_size, reason)
                self.bar_errors[(sub.asset, sub.bar_size)] = reason
                if self.on_bar_error is not None:
                    self.on_bar_error(sub.asset, sub.bar_size, reason)

    async def subscribe_bars(self, asset: str, bar_size: BarSize, listener: BarListener) -> None:
        self._require_connected()
        bar_size = BarSize(bar_size)
        key = (asset, bar_size)
        if key in self._bar_subs:
            await self.unsubscribe_bars(asset, bar_size)
        asset_to_contract(asset, self.config.contracts)  # fail early on unknown assets
        sub = _BarSubscription(asset, bar_size, listener, BarAggregator([bar_size]))
        sub.consumer = asyncio.create_task(
            self._deliver_bars(sub), name=f"ibkr-bars-{asset}-{bar_size.code}"
        )
        self._bar_subs[key] = sub
        self._request_bars(sub)

    async def unsubscribe_bars(self, asset: str, bar_size: BarSize) -> None:
        sub = self._bar_subs.pop((asset, BarSize(bar_size)), None)
        if sub is not None:
            await self._drop_subscription(sub)

    async def _drop_subscription(self, sub: _BarSubscription) -> None:
        self._release_bars(sub)
        if sub.consumer is not None:
            sub.consumer.cancel()
            with contextlib.suppress(BaseException):
                await sub.consumer

    def _request_bars(self, sub: _BarSubscription) -> None:
        contract = asset_to_contract(sub.asset, self.config.contracts)
        sub.bars = self._ib.reqRealTimeBars(contract, 5, "MIDPOINT", False)

        def on_update(bars, has_new_bar: bool) -> None:
            if has_new_bar and bars:
                self._on_realtime_bar(sub, bars[-1])

        sub.handler = on_update
        sub.bars.updateEvent += on_update

    def _release_bars(self, sub: _BarSubscription) -> None:
        if sub.bars is None:
            return
        sub.bars.updateEvent -= sub.handler
        if self._ib.isConnected():
            with contextlib.suppress(Exception):
                self._ib.cancelRealTimeBars(sub.bars)
        sub.bars = None

    def _resubscribe_bars(self) -> None:
        """After a reconnect: IB forgot the subscriptions, ask again."""
        for sub in self._bar_subs.values():
            if sub.bars is not None:
                sub.bars.updateEvent -= sub.handler
                sub.bars = None
            self._request_bars(sub)

    def _on_realtime_bar(self, sub: _BarSubscription, rt) -> None:
        five = Bar(
            bar_time(rt.time),
            float(rt.open_),
            float(rt.high),
            float(rt.low),
            float(rt.close),
            _volume(rt.volume),
        )
        for tick in ticks_from_bar(five, REALTIME_BAR):
            for _size, closed in sub.aggregator.add(tick):
                sub.queue.put_nowait(closed)

    async def _deliver_bars(self, sub: _BarSubscription) -> None:
        while True:
            bar = await sub.queue.get()
            try:
                await sub.listener(sub.asset, sub.bar_size, bar)
            except Exception:
                log.exception("bar listener failed on %s %s %r", sub.asset, sub.bar_size, bar)

    async def _close_bar_subscriptions(self) -> None:
        for sub in list(self._bar_subs.values()):
            await self._drop_subscription(sub)
        self._bar_subs.clear()
