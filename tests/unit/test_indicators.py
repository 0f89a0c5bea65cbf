"""Incremental indicators against pandas/numpy computed in bulk on real USD-CAD data."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import live_trading
from live_trading.data import indicators, indicators_extra
from live_trading.data.indicators import (
    ATR,
    EMA,
    RSI,
    SMA,
    Bands,
    BollingerBands,
    Channel,
    DonchianChannel,
)
from live_trading.domain.values import Bar

DATA = Path(live_trading.__file__).parent / "sample_data" / "USDCAD_1h.csv"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    df = pd.read_csv(DATA)
    assert len(df) == 5116
    return df


def _bars(df: pd.DataFrame) -> list[Bar]:
    return [
        Bar(datetime.fromisoformat(t), o, h, lo, c, v)
        for t, o, h, lo, c, v in df[["time", "open", "high", "low", "close", "volume"]].itertuples(
            index=False, name=None
        )
    ]


def _assert_series_equal(
    ours: list[float | None], ref: pd.Series, warm: int, rel_tol: float = 1e-12
) -> None:
    """``ours`` is None for the first ``warm - 1`` items, then matches ``ref``."""
    assert len(ours) == len(ref)
    assert all(v is None for v in ours[: warm - 1])
    for i in range(warm - 1, len(ours)):
        assert ours[i] is not None, i
        assert math.isclose(ours[i], ref.iloc[i], rel_tol=rel_tol, abs_tol=0.0), i


@pytest.mark.parametrize("period", [1, 2, 10, 30, 200])
def test_sma_matches_pandas_rolling_mean(frame: pd.DataFrame, period: int) -> None:
    sma = SMA(period)
    ours = [sma.update(c) for c in frame["close"]]
    _assert_series_equal(ours, frame["close"].rolling(period).mean(), period)
    assert sma.ready and sma.value == ours[-1]


def _wilder_atr_pandas(df: pd.DataFrame, n: int) -> pd.Series:
    """Independent bulk Wilder ATR: TR series, seed = mean of the first n TRs,
    then ewm(alpha=1/n, adjust=False) from the seed."""
    prev_close = df["close"].shift(1)
    tr = pd.concat(
        [df["high"] - df["low"], (df["high"] - prev_close).abs(), (df["low"] - prev_close).abs()],
        axis=1,
    ).max(axis=1)  # NaN parts skipped, so the first TR is high - low
    seeded = tr.copy()
    seeded.iloc[: n - 1] = float("nan")
    seeded.iloc[n - 1] = tr.iloc[:n].mean()
    return seeded.ewm(alpha=1 / n, adjust=False, ignore_na=True).mean()


@pytest.mark.parametrize("period", [1, 2, 14, 50])
def test_atr_matches_pandas_wilder(frame: pd.DataFrame, period: int) -> None:
    atr = ATR(period)
    ours = [atr.update(b) for b in _bars(frame)]
    _assert_series_equal(ours, _wilder_atr_pandas(frame, period), period)
    assert atr.ready and atr.value == ours[-1]


def test_atr_hand_computed() -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    atr = ATR(2)
    assert atr.update(Bar(t, 1.0, 1.2, 0.9, 1.1)) is None  # TR = 0.3
    assert not atr.ready and atr.value is None
    # TR = max(0.1, |1.4-1.1|, |1.3-1.1|) = 0.3 (gap up)
    assert atr.update(Bar(t, 1.3, 1.4, 1.3, 1.35)) == pytest.approx(0.3)
    # TR = max(0.05, |1.30-1.35|, |1.25-1.35|) = 0.1; ATR = (0.3 + 0.1) / 2
    assert atr.update(Bar(t, 1.3, 1.30, 1.25, 1.26)) == pytest.approx(0.2)


def test_sma_warmup_and_window() -> None:
    sma = SMA(3)
    assert [sma.update(x) for x in (1, 2)] == [None, None]
    assert not sma.ready
    assert sma.update(3) == pytest.approx(2.0)
    assert sma.update(10) == pytest.approx(5.0)
    assert sma.ready and sma.period == 3


def test_sma_drift_is_bounded() -> None:
    sma = SMA(3)
    values = [1e8, 1.0, 1e-8] * 5000 + [0.1, 0.2, 0.3]
    for v in values:
        sma.update(v)
    assert sma.value == pytest.approx(math.fsum([0.1, 0.2, 0.3]) / 3, rel=1e-12)


@pytest.mark.parametrize("bad", [0, -1, 2.0, "3", None, True])
@pytest.mark.parametrize("cls", [SMA, ATR, EMA, RSI, BollingerBands, DonchianChannel])
def test_bad_period_raises(cls: type, bad: object) -> None:
    with pytest.raises(ValueError):
        cls(bad)


def test_atr_default_period() -> None:
    assert ATR().period == 14


# --- EMA ---------------------------------------------------------------------


def _seeded_ema_pandas(close: pd.Series, n: int) -> pd.Series:
    """Bulk EMA: NaN before bar n-1, the SMA of the first n closes at n-1, then
    pandas ewm(span=n, adjust=False) from that seed."""
    seeded = close.copy()
    seeded.iloc[: n - 1] = float("nan")
    seeded.iloc[n - 1] = close.iloc[:n].mean()
    return seeded.ewm(span=n, adjust=False, ignore_na=True).mean()


@pytest.mark.parametrize("period", [1, 2, 12, 26, 200])
def test_ema_matches_pandas_ewm_seeded_with_sma(frame: pd.DataFrame, period: int) -> None:
    ema = EMA(period)
    ours = [ema.update(c) for c in frame["close"]]
    _assert_series_equal(ours, _seeded_ema_pandas(frame["close"], period), period, 1e-9)
    assert ema.ready and ema.value == ours[-1]
    assert ema.alpha == 2 / (period + 1)


def test_ema_hand_computed() -> None:
    ema = EMA(3)  # alpha = 0.5
    assert [ema.update(x) for x in (1, 2)] == [None, None]
    assert not ema.ready
    assert ema.update(6) == pytest.approx(3.0)  # seed = (1 + 2 + 6) / 3
    assert ema.update(5) == pytest.approx(4.0)  # 3 + 0.5 * (5 - 3)


# --- RSI ---------------------------------------------------------------------


def _wilder_rsi_pandas(close: pd.Series, n: int) -> pd.Series:
    """Independent bulk Wilder RSI: gains/losses of close.diff(); averages
    seeded with the mean of the first n changes (at bar n), then
    ewm(alpha=1/n, adjust=False); RSI = 100 - 100 / (1 + RS) with RS =
    avg_gain / avg_loss, 100 where avg_loss == 0 and 50 where both are 0."""
    change = close.diff()

    def wilder(x: pd.Series) -> pd.Series:
        seeded = x.copy()
        seeded.iloc[:n] = float("nan")
        seeded.iloc[n] = x.iloc[1 : n + 1].mean()
        return seeded.ewm(alpha=1 / n, adjust=False, ignore_na=True).mean()

    gain, loss = wilder(change.clip(lower=0.0)), wilder((-change).clip(lower=0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        classic = 100.0 - 100.0 / (1.0 + gain / loss)
    rsi = np.where(loss == 0.0, np.where(gain == 0.0, 50.0, 100.0), classic)
    return pd.Series(np.where(gain.isna(), np.nan, rsi), index=close.index)


@pytest.mark.parametrize("period", [1, 2, 14, 50])
def test_rsi_matches_pandas_wilder(frame: pd.DataFrame, period: int) -> None:
    rsi = RSI(period)
    ours = [rsi.update(c) for c in frame["close"]]
    # first value after period + 1 closes, i.e. at index ``period``
    _assert_series_equal(ours, _wilder_rsi_pandas(frame["close"], period), period + 1, 1e-9)
    assert all(0.0 <= v <= 100.0 for v in ours[period:])
    assert rsi.ready and rsi.value == ours[-1]


def test_rsi_period_1_hits_all_special_cases(frame: pd.DataFrame) -> None:
    """With period 1 the averages are the last change: up -> 100, down -> 0,
    unchanged -> 50 (both averages 0); the real file has all three."""
    rsi = RSI(1)
    ours = [rsi.update(c) for c in frame["close"]]
    diffs = frame["close"].diff().tolist()
    expected = [None] + [100.0 if d > 0 else 0.0 if d < 0 else 50.0 for d in diffs[1:]]
    assert ours == expected
    assert {100.0, 0.0, 50.0} <= set(ours[1:])


def test_rsi_hand_computed() -> None:
    rsi = RSI(2)
    assert [rsi.update(x) for x in (10, 11)] == [None, None]
    # changes +1, -2: avg_gain 0.5, avg_loss 1 -> 100 - 100 / 1.5
    assert rsi.update(9) == pytest.approx(100 / 3)
    # change +3: avg_gain (0.5 + 3) / 2 = 1.75, avg_loss (1 + 0) / 2 = 0.5
    assert rsi.update(12) == pytest.approx(100 - 100 / (1 + 3.5))
    flat = RSI(3)
    assert [flat.update(1.5) for _ in range(5)] == [None, None, None, 50.0, 50.0]
    up = RSI(3)
    assert [up.update(x) for x in (1, 2, 3, 4)][-1] == 100.0
    assert RSI().period == 14


# --- Bollinger Bands ---------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "num_std"), [(1, 2.0), (5, 2.0), (20, 2.0), (20, 1.5), (50, 3.0), (200, 2.0)]
)
def test_bollinger_matches_pandas_rolling(frame: pd.DataFrame, period: int, num_std: float) -> None:
    """Bands against pandas rolling mean/std. Periods 2 and 3 are left to the
    two-pass test below: the file has flat 2- and 3-bar windows, where pandas'
    rolling std returns the square root of rounding noise (~2e-9 instead of 0,
    1e-8 relative in the band)."""
    bb = BollingerBands(period, num_std)
    ours = [bb.update(c) for c in frame["close"]]
    mean = frame["close"].rolling(period).mean()
    std = frame["close"].rolling(period).std(ddof=0)
    lower, middle, upper = (
        [None if b is None else getattr(b, f) for b in ours] for f in ("lower", "middle", "upper")
    )
    _assert_series_equal(middle, mean, period, 1e-9)
    _assert_series_equal(upper, mean + num_std * std, period, 1e-9)
    _assert_series_equal(lower, mean - num_std * std, period, 1e-9)
    assert all(b.lower <= b.middle <= b.upper for b in ours[period - 1 :])
    assert bb.ready and bb.value == ours[-1] and bb.num_std == num_std


@pytest.mark.parametrize("period", [2, 3, 14, 20, 50])
def test_bollinger_std_matches_two_pass_reference(frame: pd.DataFrame, period: int) -> None:
    """sigma itself, to 1e-9 relative, against numpy's two-pass std of each
    window (exactly 0 for a flat window). pandas' rolling std is an online
    add/remove algorithm and not accurate enough for this on the real file:
    up to ~3e-9 relative off (period 14), and nonzero for flat windows."""
    close = frame["close"].to_numpy()
    windows = np.lib.stride_tricks.sliding_window_view(close, period)
    ref = np.where(windows.max(axis=1) == windows.min(axis=1), 0.0, windows.std(axis=1))
    bb = BollingerBands(period)
    sigmas = []
    for c in close:
        bb.update(c)
        sigmas.append(bb.std)
    _assert_series_equal(sigmas, pd.Series(np.r_[[np.nan] * (period - 1), ref]), period, 1e-9)
    sma = SMA(period)
    assert [sma.update(c) for c in close][-1] == bb.value.middle  # middle is the SMA


def test_bollinger_hand_computed() -> None:
    bb = BollingerBands(3, 2.0)
    assert [bb.update(x) for x in (1, 2)] == [None, None]
    assert not bb.ready and bb.std is None
    b = bb.update(3)  # mean 2, population variance 2/3
    assert isinstance(b, Bands)
    assert b.middle == pytest.approx(2.0)
    assert b.upper == pytest.approx(2 + 2 * math.sqrt(2 / 3))
    assert b.lower == pytest.approx(2 - 2 * math.sqrt(2 / 3))
    flat = BollingerBands(3)
    for _ in range(3):
        b = flat.update(1.4341)
    assert b == Bands(1.4341, 1.4341, 1.4341) and flat.std == 0.0
    with pytest.raises(AttributeError):
        b.upper = 2.0  # type: ignore[misc]  # frozen
    assert BollingerBands().period == 20 and BollingerBands().num_std == 2.0


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "2", None, True])
def test_bollinger_bad_num_std_raises(bad: object) -> None:
    with pytest.raises(ValueError):
        BollingerBands(20, bad)  # type: ignore[arg-type]


# --- Donchian channel --------------------------------------------------------


@pytest.mark.parametrize("period", [1, 2, 20, 55, 200])
def test_donchian_matches_pandas_rolling(frame: pd.DataFrame, period: int) -> None:
    dc = DonchianChannel(period)
    ours, previous = [], []
    for bar in _bars(frame):
        ours.append(dc.update(bar))
        previous.append(dc.previous)
    upper = frame["high"].rolling(period).max()
    lower = frame["low"].rolling(period).min()
    _assert_series_equal([None if c is None else c.upper for c in ours], upper, period, 1e-9)
    _assert_series_equal([None if c is None else c.lower for c in ours], lower, period, 1e-9)
    # the channel of the ``period`` bars before the current one: pandas shifted by 1
    _assert_series_equal(
        [None if c is None else c.upper for c in previous], upper.shift(1), period + 1, 1e-9
    )
    _assert_series_equal(
        [None if c is None else c.lower for c in previous], lower.shift(1), period + 1, 1e-9
    )
    # max/min select input values: the match is in fact exact
    assert [c.upper for c in ours[period - 1 :]] == upper.iloc[period - 1 :].tolist()
    assert [c.lower for c in ours[period - 1 :]] == lower.iloc[period - 1 :].tolist()
    assert all(p == c for p, c in zip(previous[1:], ours[:-1], strict=True))
    assert dc.ready and dc.value == ours[-1]


def test_donchian_hand_computed_breakout() -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    dc = DonchianChannel(2)
    assert dc.update(Bar(t, 1.0, 1.2, 0.9, 1.1)) is None
    assert dc.previous is None and not dc.ready
    assert dc.update(Bar(t, 1.1, 1.3, 1.0, 1.2)) == Channel(0.9, 1.3)
    assert dc.previous is None  # needs period + 1 bars
    breakout = Bar(t, 1.2, 1.5, 1.15, 1.45)
    assert dc.update(breakout) == Channel(1.0, 1.5)  # includes the current bar
    assert dc.previous == Channel(0.9, 1.3)  # the prior two bars only
    assert breakout.close > dc.previous.upper
    assert DonchianChannel().period == 20


# --- module layout -----------------------------------------------------------


def test_extra_indicators_are_reexported() -> None:
    for name in ("Bands", "BollingerBands", "Channel", "DonchianChannel"):
        assert getattr(indicators, name) is getattr(indicators_extra, name)
        assert name in indicators.__all__
    with pytest.raises(AttributeError):
        indicators.NoSuchIndicator  # noqa: B018


@pytest.mark.parametrize("first", ["indicators", "indicators_extra"])
def test_import_order_does_not_matter(first: str) -> None:
    """No circular-import failure whichever module a fresh interpreter loads first."""
    code = (
        f"import live_trading.data.{first}\n"
        "from live_trading.data.indicators import BollingerBands, DonchianChannel, EMA\n"
        "from live_trading.data.indicators_extra import Bands, Channel\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
