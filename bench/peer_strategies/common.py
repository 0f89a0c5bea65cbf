"""What every engine in ``bench/peers.py`` shares: the bars, the rule, the costs.

The strategy is the engine's ``MomentumStrategy`` with the operation defaults:
SMA(10) / SMA(30) crossover on closes, long and short, 10,000 units, a
stop-loss 1.5 x ATR(14) (Wilder) and a take-profit 2 R from the signal
bar's close. Costs are those of the paper broker's defaults: market orders
pay half a spread of 0.5 bp of price, every fill a commission of 0.2 bp of
its notional (quote currency: USD for EUR-USD).

Units: prices in quote currency per unit of base asset, quantities in units
of the base asset, times aware UTC (a bar's time is its open time).
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from live_trading.data.bars_csv import BarFile, read_bars_csv
from live_trading.domain.values import Asset, Bar

FAST, SLOW, ATR_PERIOD = 10, 30, 14
STOP_ATR, TAKE_R = 1.5, 2.0
QUANTITY = 10_000.0
INITIAL_CAPITAL = 100_000.0
HALF_SPREAD = 0.5e-4  # fraction of price (0.5 bp), market orders only
COMMISSION = 0.2e-4  # fraction of a fill's notional (0.2 bp)
TIE_TOLERANCE = 1e-10  # as live_trading.strategies.base.compare
SAMPLE = Path(__file__).resolve().parents[2] / "live_trading" / "sample_data" / "USDCAD_1h.csv"
_PAIR_NAME = re.compile(r"^([A-Z]{3})([A-Z]{3})(?:_|$)")  # EURUSD_1h, EURUSD


@dataclass(frozen=True)
class PeerResult:
    """One engine's run: ``seconds`` of wall time for the run alone (data
    already loaded), closed ``trades`` and their net P/L in the quote currency
    of the asset (USD for EUR-USD)."""

    engine: str
    bars: int
    seconds: float
    trades: int
    net_pnl: float
    note: str = ""

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.seconds if self.seconds > 0 else float("inf")


def read_bars(path: Path = SAMPLE) -> BarFile:
    """The bars of a CSV file (prices in quote currency) and the rows it
    rejected, with their line numbers: rejected rows are dropped, as the
    engine drops them. The reader's per-row warnings are silenced: the
    caller reports the rejected rows once.

    Raises:
        FileNotFoundError: no such file.
        ValueError: no usable header, or not text (see ``read_bars_csv``).
    """
    logger = logging.getLogger("live_trading.data")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return read_bars_csv(path)
    finally:
        logger.setLevel(level)


def asset_from_name(path: Path) -> Asset | None:
    """The pair a file name spells (``EURUSD_1h.csv`` -> ``EUR-USD``: six
    capital letters, then ``_`` or the end of the stem), or None."""
    match = _PAIR_NAME.match(path.stem)
    return Asset.parse(f"{match.group(1)}-{match.group(2)}") if match else None


def tile(bars: list[Bar], count: int) -> list[Bar]:
    """``count`` bars made of copies of ``bars`` laid end to end: each copy's
    times are shifted so it starts one bar (:func:`bar_step`) after the
    previous copy ended; prices are unchanged.

    Raises:
        ValueError: fewer than two bars, or ``count`` < 1.
    """
    if len(bars) < 2 or count < 1:
        raise ValueError("tiling needs at least two bars and a positive count")
    span = bars[-1].time - bars[0].time + bar_step(bars)
    out: list[Bar] = []
    copy = 0
    while len(out) < count:
        shift = span * copy
        out.extend(
            Bar(b.time + shift, b.open, b.high, b.low, b.close, b.volume)
            for b in bars[: count - len(out)]
        )
        copy += 1
    return out


def write_csv(bars: list[Bar], path: Path) -> Path:
    """Write ``bars`` as a replay file (``time,open,high,low,close,volume``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["time", "open", "high", "low", "close", "volume"])
        for b in bars:
            out.writerow(
                [
                    _iso(b.time),
                    repr(b.open),
                    repr(b.high),
                    repr(b.low),
                    repr(b.close),
                    repr(b.volume),
                ]
            )
    return path


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def compare(a: float, b: float) -> int:
    """-1, 0 or 1 as ``a`` is below, equal to (within TIE_TOLERANCE) or above ``b``."""
    diff = a - b
    if abs(diff) <= TIE_TOLERANCE * max(abs(a), abs(b)):
        return 0
    return 1 if diff > 0 else -1


class CrossoverRule:
    """The crossover decision of ``MomentumStrategy``, fed each bar's SMAs.

    :meth:`update` returns +1 (go long), -1 (go short) or 0 (nothing): a
    cross is ``prev <= 0 < now`` (up) or ``prev >= 0 > now`` (down), and a
    signal is given only when the wanted side changes.
    """

    def __init__(self) -> None:
        self.prev: int | None = None
        self.target = 0

    def update(self, fast: float, slow: float) -> int:
        order, prev = compare(fast, slow), self.prev
        self.prev = order
        if prev is None:
            return 0
        wanted = 1 if prev <= 0 < order else -1 if prev >= 0 > order else 0
        if wanted == 0 or wanted == self.target:
            return 0
        self.target = wanted
        return wanted


def levels(side: int, reference: float, atr: float) -> tuple[float, float]:
    """(stop-loss, take-profit) for a position of ``side`` (+1 long, -1
    short) entered at ``reference`` with ``atr`` (price units)."""
    distance = STOP_ATR * atr
    return reference - side * distance, reference + side * TAKE_R * distance


def bar_step(bars: list[Bar]) -> timedelta:
    """The bar size: the smallest gap between consecutive bars (so a file
    starting just before a weekend gap still gives one hour for hourly bars).

    Raises:
        ValueError: fewer than two bars.
    """
    if len(bars) < 2:
        raise ValueError("the bar size needs at least two bars")
    return min(b.time - a.time for a, b in pairwise(bars))
