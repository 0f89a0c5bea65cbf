"""MeanReversionStrategy on real USD-CAD hourly bars vs an independent pandas computation."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from live_trading.domain.values import Bar, OrderType, PositionSide
from live_trading.strategies import (
    STRATEGIES,
    MeanReversionParams,
    MeanReversionStrategy,
    create_strategy,
    validate_params,
)

DATA = Path(__file__).resolve().parents[2] / "live_trading" / "sample_data" / "USDCAD_1h.csv"
NAME = "MeanReversionStrategy"
TOL = 1e-10  # the strategy's relative tie tolerance for close vs band


from tests.unit.helpers import iso, load_bars, run_signals  # noqa: E402


@pytest.fixture(scope="module")
def bars() -> list[Bar]:
    return load_bars()


def _wilder_rsi(close: pd.Series, n: int) -> pd.Series:
    """Wilder's RSI: averages seeded with the mean of the first n gains/losses,
    then smoothed with alpha 1/n (pandas ewm, adjust=False)."""
    delta = close.diff()

    def smooth(x: pd.Series) -> pd.Series:
        seeded = pd.Series(np.nan, index=x.index)
        seeded.iloc[n] = x.iloc[1 : n + 1].mean()
        seeded.iloc[n + 1 :] = x.iloc[n + 1 :]
        return seeded.ewm(alpha=1 / n, adjust=False).mean()

    gain, loss = smooth(delta.clip(lower=0)), smooth((-delta).clip(lower=0))
    total = gain + loss
    return (100 * gain / total).where(total != 0, 50.0).where(gain.notna())


def _sign(a: float, b: float) -> int:
    d = a - b
    return 0 if abs(d) <= TOL * max(abs(a), abs(b)) else (1 if d > 0 else -1)


def _pandas_signals(
    period: int, k: float, rsi_n: int, lo: float, hi: float
) -> list[tuple[str, str | None]]:
    """Bulk indicators with pandas (rolling mean, population std, Wilder RSI),
    then the position rules walked row by row."""
    df = pd.read_csv(DATA)
    mid = df["close"].rolling(period).mean()
    sd = df["close"].rolling(period).std(ddof=0)
    rsi = _wilder_rsi(df["close"], rsi_n)
    events: list[tuple[str, str | None]] = []
    pos: str | None = None
    for t, c, m, s, r in zip(df["time"], df["close"], mid, sd, rsi, strict=True):
        if math.isnan(m) or math.isnan(r):
            continue
        if _sign(c, m + k * s) > 0 and r > hi:
            want = "SHORT"
        elif _sign(c, m - k * s) < 0 and r < lo:
            want = "LONG"
        elif (pos == "LONG" and _sign(c, m) >= 0) or (pos == "SHORT" and _sign(c, m) <= 0):
            want = None
        else:
            want = pos
        if want != pos:
            events.append((t, want))
            pos = want
    return events


PARAM_SETS = [
    {},
    {"bb_period": 10, "bb_std": 1.5, "rsi_period": 7, "rsi_oversold": 25, "rsi_overbought": 75},
    {"bb_period": 50, "bb_std": 2.5, "rsi_period": 21, "rsi_oversold": 40, "rsi_overbought": 60},
]


@pytest.mark.parametrize("params", PARAM_SETS)
def test_signals_match_pandas(bars: list[Bar], params: dict) -> None:
    p = MeanReversionParams(**params)
    strategy = create_strategy(NAME, params)
    got = [
        (iso(bars[i].time), s.target.value if s.target else None)
        for i, s in run_signals(strategy, bars)
    ]
    expected = _pandas_signals(
        p.bb_period, p.bb_std, p.rsi_period, p.rsi_oversold, p.rsi_overbought
    )
    assert len(expected) > 20
    assert got == expected


def test_default_signal_count(bars: list[Bar]) -> None:
    signals = run_signals(create_strategy(NAME, {}), bars)
    targets = [s.target for _, s in signals]
    assert len(signals) == 136
    assert (targets.count(PositionSide.LONG), targets.count(PositionSide.SHORT)) == (24, 44)


def test_first_known_trade(bars: list[Bar]) -> None:
    """Worked out by hand from the CSV, the first trade of the default parameters:

    2025-01-17T09:00Z close 1.4414; the 20 closes 2025-01-16T14:00..2025-01-17T09:00
    have mean 1.439735 and population std 0.00080080, so the upper band is
    1.439735 + 2 * 0.00080080 = 1.4413366 < 1.4414, and RSI(14) is 71.92 > 70
    (at 08:00 close 1.4408 was above the band 1.44119 but RSI only 68.61): SHORT.
    Exit: 2025-01-17T15:00Z close 1.4401 <= middle band 1.440615: flat.
    """
    signals = run_signals(create_strategy(NAME, {}), bars)
    (i, entry), (j, exit_) = signals[0], signals[1]
    assert (iso(bars[i].time), entry.target) == ("2025-01-17T09:00:00Z", PositionSide.SHORT)
    assert (iso(bars[j].time), exit_.target) == ("2025-01-17T15:00:00Z", None)
    assert entry.entry_type is OrderType.MARKET and entry.entry_price is None

    df = pd.read_csv(DATA)
    window = df["close"].iloc[i - 19 : i + 1]
    mean, std = window.mean(), window.std(ddof=0)
    rsi = _wilder_rsi(df["close"], 14)
    ind = entry.indicators
    assert ind["close"] == 1.4414 == df["close"].iloc[i]
    assert ind["bb_middle"] == pytest.approx(mean, abs=1e-12) == pytest.approx(1.439735)
    assert std == pytest.approx(0.00080080, abs=1e-8)
    assert ind["bb_upper"] == pytest.approx(mean + 2 * std, abs=1e-12)
    assert ind["bb_upper"] == pytest.approx(1.4413366, abs=1e-7)
    assert ind["bb_lower"] == pytest.approx(mean - 2 * std, abs=1e-12)
    assert ind["rsi"] == pytest.approx(rsi.iloc[i], abs=1e-9) == pytest.approx(71.9202, abs=1e-4)
    assert rsi.iloc[i - 1] == pytest.approx(68.6069, abs=1e-4)  # why not at 08:00
    mid_exit = df["close"].iloc[j - 19 : j + 1].mean()
    assert exit_.indicators["bb_middle"] == pytest.approx(mid_exit, abs=1e-12)
    assert exit_.indicators["bb_middle"] == pytest.approx(1.440615, abs=1e-9)
    assert exit_.indicators["close"] == 1.4401


def test_alternation_and_flat_rules(bars: list[Bar]) -> None:
    strategy = create_strategy(NAME, {})
    signals = run_signals(strategy, bars)
    previous: PositionSide | None = None
    for _i, sig in signals:
        ind = sig.indicators
        assert sig.target is not previous  # only changes are signalled
        if sig.target is PositionSide.LONG:
            assert ind["close"] < ind["bb_lower"] and ind["rsi"] < 30
        elif sig.target is PositionSide.SHORT:
            assert ind["close"] > ind["bb_upper"] and ind["rsi"] > 70
        else:  # flat only out of a position, back at the middle band
            assert previous is not None
            side = 1 if previous is PositionSide.LONG else -1
            assert side * (ind["close"] - ind["bb_middle"]) >= -TOL
        assert ind["bb_lower"] < ind["bb_middle"] < ind["bb_upper"]
        previous = sig.target
    assert signals[0][1].target is not None
    assert signals[0][0] >= strategy.warmup_bars


def test_no_signal_before_warmup(bars: list[Bar]) -> None:
    strategy = create_strategy(NAME, {})
    assert strategy.warmup_bars == 19  # bands need 20 closes, RSI(14) 15
    t = bars[0].time
    # a crash at bar 19 (0-based 18) cannot signal: the bands are not ready yet
    closes = [1.30, 1.31] * 9 + [1.25, 1.20, 1.20]
    state = strategy.new_state()
    got = [strategy.on_bar(state, Bar(t, c, c, c, c)) for c in closes]
    assert got[:19] == [None] * 19
    assert got[19] is not None and got[19].target is PositionSide.LONG
    assert got[19].indicators["rsi"] < 30 and 1.20 < got[19].indicators["bb_lower"]
    assert got[20] is None  # still wanted LONG: no repeat


def test_entry_reverses_a_position_directly() -> None:
    """A LONG whose close jumps above the upper band with an overbought RSI goes
    SHORT at once (the entry rules come before the exit to flat)."""
    strategy = create_strategy(NAME, {"bb_period": 5, "bb_std": 1.5, "rsi_period": 2})
    state = strategy.new_state()
    t = datetime(2025, 1, 1, tzinfo=UTC)
    closes = [1.30, 1.31, 1.30, 1.31, 1.30, 1.20, 1.50]
    got = [strategy.on_bar(state, Bar(t, c, c, c, c)) for c in closes]
    assert [g.target if g else "-" for g in got] == [
        "-",
        "-",
        "-",
        "-",
        "-",
        PositionSide.LONG,
        PositionSide.SHORT,
    ]


def test_params_defaults_and_validation() -> None:
    assert validate_params(NAME, {}) == {
        "bb_period": 20,
        "bb_std": 2.0,
        "rsi_period": 14,
        "rsi_oversold": 30.0,
        "rsi_overbought": 70.0,
    }
    cases = [
        ({"rsi_oversold": 70, "rsi_overbought": 70}, "rsi_oversold"),
        ({"rsi_oversold": 80}, "rsi_oversold"),
        ({"rsi_overbought": 100}, "rsi_overbought"),
        ({"rsi_oversold": 0}, "rsi_oversold"),
        ({"bb_period": 1}, "bb_period"),
        ({"rsi_period": 1}, "rsi_period"),
        ({"bb_std": 0}, "bb_std"),
        ({"bb_std": float("nan")}, "bb_std"),
        ({"bb_period": "x"}, "bb_period"),
        ({"period": 5}, "period"),
    ]
    for params, field in cases:
        with pytest.raises(ValidationError) as err:
            create_strategy(NAME, params)
        assert err.value.errors()[0]["loc"] == (field,), params
    with pytest.raises(ValidationError) as err:
        validate_params(NAME, {"rsi_oversold": 75})
    assert "rsi_overbought" in err.value.errors()[0]["msg"]


def test_registry_and_schema() -> None:
    assert STRATEGIES[NAME] is MeanReversionStrategy
    schema = MeanReversionStrategy.params_schema()
    props = schema["properties"]
    assert set(props) == {"bb_period", "bb_std", "rsi_period", "rsi_oversold", "rsi_overbought"}
    assert all(prop.get("description") for prop in props.values())
    assert props["bb_period"]["default"] == 20 and props["bb_period"]["minimum"] == 2
    assert schema["additionalProperties"] is False
