"""Incremental SMA / ATR against pandas computed in bulk on real USD-CAD data."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from live_trading.data.indicators import ATR, SMA
from live_trading.domain.values import Bar

DATA = "/work/shared/data/USDCAD_1h.csv"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    df = pd.read_csv(DATA)
    assert len(df) == 5116
    return df


def _bars(df: pd.DataFrame) -> list[Bar]:
    return [
        Bar(datetime.fromisoformat(t), o, h, lo, c, v)
        for t, o, h, lo, c, v in df[["time", "open", "high", "low", "close", "volume"]]
        .itertuples(index=False, name=None)
    ]


def _assert_series_equal(ours: list[float | None], ref: pd.Series, warm: int) -> None:
    assert len(ours) == len(ref)
    assert all(v is None for v in ours[: warm - 1])
    for i in range(warm - 1, len(ours)):
        assert ours[i] is not None, i
        assert math.isclose(ours[i], ref.iloc[i], rel_tol=1e-12, abs_tol=0.0), i


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
@pytest.mark.parametrize("cls", [SMA, ATR])
def test_bad_period_raises(cls: type, bad: object) -> None:
    with pytest.raises(ValueError):
        cls(bad)


def test_atr_default_period() -> None:
    assert ATR().period == 14
