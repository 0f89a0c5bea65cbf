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
  late and a bar is never delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from live_trading.data.aggregator import BarAggregator
from live_trading.data.ticks import ticks_from_bar
from live_trading.domain.values import Bar, BarSize
from live_trading.engine.ports import BarListener, Quote

from .parsing import asset_to_contract

log = logging.getLogger(__name__)

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
    bars: object = None  # the ib_async RealTimeBarList
    handler: object = None


class MarketDataFeed:
    """Mixin of IBKRBroker (uses its ``_ib``, ``config``, ``_bar_subs``)."""

    async def get_market_quote(self, asset: str) -> Quote:
        """Best bid/ask now (a snapshot).

        Raises:
            ConnectionError: not connected. LookupError: IB gave no bid/ask.
        """
        self._require_connected()
        contract = await self._qualified(asset)
        try:
            [ticker] = await asyncio.wait_for(self._ib.reqTickersAsync(contract),
                                              self.config.connect_timeout_s)
        except TimeoutError as error:
            raise LookupError(f"no quote for {asset} from IB in time") from error
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
            qualified = await asyncio.wait_for(self._ib.qualifyContractsAsync(contract),
                                               self.config.connect_timeout_s)
            if not qualified or not qualified[0] or not contract.conId:
                raise LookupError(f"IB does not know the contract of {asset}")
            self._qualified_contracts[asset] = contract
        return contract

    async def get_historical_data(self, asset: str, bar_size: BarSize, start: datetime,
                                  end: datetime) -> list[Bar]:
        """Closed MIDPOINT bars with open time in ``[start, end)``, oldest first."""
        self._require_connected()
        bar_size = BarSize(bar_size)
        now = datetime.now(UTC)
        end_at = min(end, now)  # IB refuses an end in the future
        if start >= end_at:
            return []
        contract = asset_to_contract(asset, self.config.contracts)
        rows = await self._ib.reqHistoricalDataAsync(
            contract, endDateTime=end_at, durationStr=duration_str(start, end_at),
            barSizeSetting=bar_size.value, whatToShow="MIDPOINT", useRTH=False,
            formatDate=2, timeout=self.config.connect_timeout_s * 6)
        out = []
        for row in rows or []:
            time = bar_time(row.date)
            if start <= time < end and time + bar_size.duration <= now:
                out.append(Bar(time, float(row.open), float(row.high), float(row.low),
                               float(row.close), _volume(row.volume)))
        return sorted(out, key=lambda b: b.time)

    async def subscribe_bars(self, asset: str, bar_size: BarSize,
                             listener: BarListener) -> None:
        self._require_connected()
        bar_size = BarSize(bar_size)
        key = (asset, bar_size)
        if key in self._bar_subs:
            await self.unsubscribe_bars(asset, bar_size)
        asset_to_contract(asset, self.config.contracts)  # fail early on unknown assets
        sub = _BarSubscription(asset, bar_size, listener, BarAggregator([bar_size]))
        sub.consumer = asyncio.create_task(self._deliver_bars(sub),
                                           name=f"ibkr-bars-{asset}-{bar_size.code}")
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
        five = Bar(bar_time(rt.time), float(rt.open_), float(rt.high), float(rt.low),
                   float(rt.close), _volume(rt.volume))
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
