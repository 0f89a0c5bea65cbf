"""The ``MarketData`` port of :class:`~.client.OANDABroker`: candles,
quotes, the price stream and bar subscriptions (candles polled)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx

from live_trading.domain.values import Bar, BarSize
from live_trading.engine.ports import BarListener, Quote

from . import parsing as p
from .rest import json_or_none
from .state import OANDAState

log = logging.getLogger(__name__)

MAX_CANDLES = 5000


class MarketDataFeed(OANDAState):
    """Mixin of OANDABroker (uses its REST calls and ``config``)."""

    async def get_historical_data(
        self, asset: str, bar_size: BarSize, start: datetime, end: datetime
    ) -> list[Bar]:
        """Complete mid candles with open time in [start, end), oldest first
        (requests of at most 5000 candles each). ``to`` is never asked past
        now minus ``config.clock_skew_s``: OANDA refuses a ``to`` in the
        future (400 "Time is in the future"), and no closed bar is there.

        Raises:
            ConnectionError, BrokerTimeout: OANDA refused or did not answer.
        """
        instrument = p.to_instrument(asset)
        granularity = p.to_granularity(bar_size)
        step = bar_size.duration * MAX_CANDLES
        end = min(end, datetime.now(UTC) - timedelta(seconds=self.config.clock_skew_s))
        bars: dict[datetime, Bar] = {}
        cursor = start
        while cursor < end:
            chunk_end = min(end, cursor + step)
            _, body = await self._get_ok(
                f"/v3/instruments/{instrument}/candles",
                call="get_historical_data",
                params={
                    "granularity": granularity,
                    "price": "M",
                    "from": p.format_time(cursor),
                    "to": p.format_time(chunk_end),
                },
            )
            for candle in body.get("candles", []):
                if not candle.get("complete", True):
                    continue
                bar = p.candle_to_bar(candle)
                if start <= bar.time < end:
                    bars[bar.time] = bar
            cursor = chunk_end
        return [bars[t] for t in sorted(bars)]

    async def get_market_quote(self, asset: str) -> Quote:
        _, body = await self._get_ok(
            self._acct("/pricing"),
            call="get_market_quote",
            params={"instruments": p.to_instrument(asset)},
        )
        price = body["prices"][0]
        bid, ask = p.quote_prices(price)
        return Quote(
            asset=p.to_asset(price["instrument"]),
            bid=bid,
            ask=ask,
            time=p.parse_time(price["time"]),
        )

    async def stream_prices(self, assets: list[str]) -> AsyncIterator[Quote]:
        """Quotes from ``GET /pricing/stream`` as they come, forever.

        Heartbeats are not yielded; they keep the stream alive. A stream
        silent for ``heartbeat_timeout_s``, closed, or failing is reopened
        (delay ``reconnect_delay_s``, doubled per failure up to 30 s).

        Raises:
            ConnectionError: a 4xx answer: the token is refused (401/403) or
                an instrument is unknown (400); reconnecting would not help.
                429, 5xx answers and dropped connections are retried.
        """
        instruments = ",".join(p.to_instrument(a) for a in assets)
        url = f"{self.config.stream_base_url}{self._acct('/pricing/stream')}"
        delay = self.config.reconnect_delay_s
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self.config.timeout_s, read=self.config.heartbeat_timeout_s),
            headers={
                "Authorization": f"Bearer {self.config.api_key}",
                "Accept-Datetime-Format": "RFC3339",
            },
        ) as client:
            while True:
                try:
                    async with client.stream(
                        "GET", url, params={"instruments": instruments}
                    ) as response:
                        if response.status_code != 200:
                            body = json_or_none(await response.aread())
                            reason = p.error_reason(response.status_code, body)
                            if response.status_code >= 500 or response.status_code == 429:
                                raise httpx.RemoteProtocolError(reason)  # retried below
                            raise ConnectionError(
                                f"OANDA price stream refused (HTTP {response.status_code}): "
                                f"{reason}"
                            )
                        delay = self.config.reconnect_delay_s
                        async for line in _lines(response, self.config.heartbeat_timeout_s):
                            message = json_or_none(line)
                            if not isinstance(message, dict):
                                continue
                            if message.get("type") == "PRICE":
                                bid, ask = p.quote_prices(message)
                                yield Quote(
                                    asset=p.to_asset(message["instrument"]),
                                    bid=bid,
                                    ask=ask,
                                    time=p.parse_time(message["time"]),
                                )
                    log.warning("OANDA price stream ended; reconnecting")
                except (httpx.TransportError, TimeoutError) as error:
                    log.warning(
                        "OANDA price stream dropped (%s); reconnecting in %.1fs",
                        type(error).__name__,
                        delay,
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def subscribe_bars(self, asset: str, bar_size: BarSize, listener: BarListener) -> None:
        """Poll candles every ``bar_poll_interval_s`` and call ``listener``
        with each candle that completes after the subscription."""
        key = (asset, bar_size)
        if key in self._bar_tasks:
            return
        self._bar_tasks[key] = asyncio.create_task(self._bar_loop(asset, bar_size, listener))

    async def unsubscribe_bars(self, asset: str, bar_size: BarSize) -> None:
        task = self._bar_tasks.pop((asset, bar_size), None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _bar_loop(self, asset: str, bar_size: BarSize, listener: BarListener) -> None:
        last: datetime | None = None
        first = True
        while not self._closing:
            try:
                now = datetime.now(UTC)
                since = last + bar_size.duration if last else now - bar_size.duration * 3
                bars = await self.get_historical_data(asset, bar_size, since, now)
                for bar in bars:
                    if last is not None and bar.time <= last:
                        continue
                    last = bar.time
                    if not first:
                        await listener(asset, bar_size, bar)
                first = False
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep polling through outages
                log.warning("OANDA candles for %s %s failed: %s", asset, bar_size.value, error)
            await asyncio.sleep(self.bar_poll_interval_s)


async def _lines(response: httpx.Response, silence_s: float) -> AsyncIterator[str]:
    """The response's lines; TimeoutError when none arrives for ``silence_s``."""
    iterator = response.aiter_lines().__aiter__()
    while True:
        try:
            line = await asyncio.wait_for(iterator.__anext__(), silence_s)
        except StopAsyncIteration:
            return
        if line.strip():
            yield line
