"""TrendFollowingStrategy on real USD-CAD hourly bars with the daily trend from the
investing.com daily export, vs an independent pandas computation."""

from __future__ import annotations

import csv
import dataclasses
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from live_trading.data.alignment import TimeframeAligner, close_time
from live_trading.data.bars_csv import read_bars_csv
from live_trading.domain.values import Bar, BarSize, OrderType, PositionSide
from live_trading.strategies import (
    STRATEGIES,
    Signal,
    TrendFollowingParams,
    TrendFollowingStrategy,
    create_strategy,
    validate_params,
)

SAMPLES = Path(__file__).resolve().parents[2] / "live_trading" / "sample_data"
HOURLY, DAILY = SAMPLES / "USDCAD_1h.csv", SAMPLES / "USDCAD_1d.csv"
NAME = "TrendFollowingStrategy"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.fixture(scope="module")
def hourly() -> list[Bar]:
    with open(HOURLY, newline="") as fh:
        return [
            Bar(
                datetime.fromisoformat(r["time"]),
                float(r["open"]),
                float(r["high"]),
                float(r["low"]),
                float(r["close"]),
            )
            for r in csv.DictReader(fh)
        ]


@pytest.fixture(scope="module")
def daily() -> list[Bar]:
    return read_bars_csv(DAILY).bars


def _run(
    strategy: TrendFollowingStrategy, hourly: list[Bar], daily: list[Bar]
) -> list[tuple[int, Signal]]:
    """Daily bars via the project's aligner: each once closed, before the first
    hourly bar closing at or after its close."""
    state = strategy.new_state()
    aligner = TimeframeAligner({BarSize.DAY_1: daily})
    out = []
    for i, bar in enumerate(hourly):
        for size, closed in aligner.due(close_time(bar, BarSize.HOUR_1)):
            strategy.on_higher_bar(state, size.value, closed)
        if (signal := strategy.on_bar(state, bar)) is not None:
            out.append((i, signal))
    return out


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _daily_frame() -> pd.DataFrame:
    """The daily export read independently: BOM, M/D/YYYY, Price = close; dirty
    rows (open or close outside [low, high]) dropped; oldest first."""
    raw = pd.read_csv(DAILY, encoding="utf-8-sig")
    raw["date"] = pd.to_datetime(raw["Date"], format="%m/%d/%Y", utc=True)
    clean = raw["Price"].between(raw["Low"], raw["High"]) & raw["Open"].between(
        raw["Low"], raw["High"]
    )
    return raw[clean].sort_values("date").reset_index(drop=True)


def _pandas_signals(entry: int, exit_: int, trend_n: int) -> list[tuple[str, str | None]]:
    """Trend per daily bar (close vs rolling mean, 1e-10 relative tie), attached to
    each hourly bar by close time (merge_asof, backward, exact matches allowed);
    Donchian channels of the bars before (rolling max/min shifted by one)."""
    d = _daily_frame()
    sma = d["Price"].rolling(trend_n).mean()
    diff = d["Price"] - sma
    tie = diff.abs() <= 1e-10 * pd.concat([d["Price"], sma], axis=1).abs().max(axis=1)
    trend = (diff.gt(0).astype(int) - diff.lt(0).astype(int)).mask(tie, 0).where(sma.notna())
    daily = pd.DataFrame({"closes_at": d["date"] + DAY, "trend": trend.fillna(0)})
    h = pd.read_csv(HOURLY)
    h["closes_at"] = pd.to_datetime(h["time"], utc=True) + HOUR
    h = pd.merge_asof(h, daily, on="closes_at", direction="backward")
    h["trend"] = h["trend"].fillna(0)
    hi_in, lo_in = h["high"].rolling(entry).max().shift(), h["low"].rolling(entry).min().shift()
    hi_out, lo_out = h["high"].rolling(exit_).max().shift(), h["low"].rolling(exit_).min().shift()
    events: list[tuple[str, str | None]] = []
    pos: str | None = None
    for t, c, tr, hi, lo, xh, xl in zip(
        h["time"], h["close"], h["trend"], hi_in, lo_in, hi_out, lo_out, strict=True
    ):
        if math.isnan(hi):
            continue
        want = pos
        if (pos == "LONG" and c < xl) or (pos == "SHORT" and c > xh):
            want = None
        if want is None:
            want = "LONG" if tr > 0 and c > hi else "SHORT" if tr < 0 and c < lo else None
        if want != pos:
            events.append((t, want))
            pos = want
    return events


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"entry_period": 55, "exit_period": 20},
        {"entry_period": 10, "exit_period": 5, "trend_period": 50},
    ],
)
def test_signals_match_pandas(hourly: list[Bar], daily: list[Bar], params: dict) -> None:
    p = TrendFollowingParams(**params)
    got = [
        (_iso(hourly[i].time), s.target.value if s.target else None)
        for i, s in _run(create_strategy(NAME, params), hourly, daily)
    ]
    expected = _pandas_signals(p.entry_period, p.exit_period, p.trend_period)
    assert len(expected) > 20
    assert got == expected


def test_default_signal_count(hourly: list[Bar], daily: list[Bar]) -> None:
    signals = _run(create_strategy(NAME, {}), hourly, daily)
    targets = [s.target for _, s in signals]
    assert len(signals) == 140
    assert (targets.count(PositionSide.LONG), targets.count(PositionSide.SHORT)) == (44, 26)


def test_first_known_trade(hourly: list[Bar], daily: list[Bar]) -> None:
    """Worked out by hand from the two CSV files, default parameters:

    At 2025-01-17T09:00Z (closes 10:00Z) the last closed daily bar is 2025-01-16
    (closed 2025-01-17T00:00Z): close 1.4393 > SMA(20) of the daily closes
    2024-12-20..2025-01-16 = 28.7582 / 20 = 1.43791: trend up. The hourly close
    1.4414 > 1.4413, the highest high of the 20 bars 2025-01-16T13:00..
    2025-01-17T08:00 (at 07:00Z): LONG. (08:00Z closed at 1.4408, below.)
    Exit: 2025-01-20T13:00Z close 1.4312 < 1.4443, the lowest low of the 10
    hourly bars before it: flat.
    """
    signals = _run(create_strategy(NAME, {}), hourly, daily)
    (i, entry), (j, exit_) = signals[0], signals[1]
    assert (_iso(hourly[i].time), entry.target) == ("2025-01-17T09:00:00Z", PositionSide.LONG)
    assert (_iso(hourly[j].time), exit_.target) == ("2025-01-20T13:00:00Z", None)
    assert entry.entry_type is OrderType.MARKET

    h = pd.read_csv(HOURLY)
    d = _daily_frame()
    k = d.index[d["date"] == pd.Timestamp("2025-01-16", tz="UTC")][0]
    assert str(d["date"].iloc[k - 19].date()) == "2024-12-20"
    sma = d["Price"].iloc[k - 19 : k + 1].mean()
    ind = entry.indicators
    assert ind["trend_close"] == d["Price"].iloc[k] == 1.4393
    assert ind["trend_sma"] == pytest.approx(sma, abs=1e-12) == pytest.approx(1.43791, abs=1e-12)
    assert ind["trend"] == 1.0
    assert ind["close"] == h["close"].iloc[i] == 1.4414
    assert ind["entry_upper"] == h["high"].iloc[i - 20 : i].max() == 1.4413
    assert ind["entry_lower"] == h["low"].iloc[i - 20 : i].min() == 1.4368
    assert h["close"].iloc[i - 1] == 1.4408  # the bar before did not break out
    assert exit_.indicators["close"] == h["close"].iloc[j] == 1.4312
    assert exit_.indicators["exit_lower"] == h["low"].iloc[j - 10 : j].min() == 1.4443


def test_no_look_ahead_of_daily_bars(hourly: list[Bar], daily: list[Bar]) -> None:
    """The daily bar of 2025-01-22 (close 1.4375, below its SMA(20): trend down,
    which gives the SHORT of 2025-01-23T16:00Z) closes at 2025-01-23T00:00Z. With
    its close raised by 0.05 the trend turns up; decisions at hourly bars that
    close before 2025-01-23T00:00Z must not change, later ones do."""
    k = next(n for n, b in enumerate(daily) if _iso(b.time) == "2025-01-22T00:00:00Z")
    altered = list(daily)
    bar = daily[k]
    altered[k] = dataclasses.replace(bar, high=bar.high + 0.05, close=bar.close + 0.05)
    closes_at = bar.time + DAY

    def before(signals: list[tuple[int, Signal]]) -> list[tuple[int, PositionSide | None]]:
        return [(i, s.target) for i, s in signals if hourly[i].time + HOUR < closes_at]

    strategy = create_strategy(NAME, {})
    honest, changed = _run(strategy, hourly, daily), _run(strategy, hourly, altered)
    assert before(honest) == before(changed)
    assert [(i, s.target) for i, s in honest] != [(i, s.target) for i, s in changed]
    # The alteration matters from the hourly bar closing at the daily close on:
    first_diff = next(
        a
        for a, b in zip(changed, honest, strict=False)
        if (a[0], a[1].target) != (b[0], b[1].target)
    )
    assert _iso(hourly[first_diff[0]].time) == "2025-01-22T23:00:00Z"
    assert first_diff[1].target is PositionSide.LONG
    # The check has teeth: delivering daily bars one day early (at their open)
    # would let the altered close change decisions before it.
    early = [dataclasses.replace(b, time=b.time - DAY) for b in altered]
    leaky = _run(strategy, hourly, early)
    honest_early = _run(
        strategy, hourly, [dataclasses.replace(b, time=b.time - DAY) for b in daily]
    )
    assert before(leaky) != before(honest_early)


def test_trend_reversal_alone_does_not_exit() -> None:
    strategy = create_strategy(NAME, {"entry_period": 3, "exit_period": 2, "trend_period": 2})
    state = strategy.new_state()
    t = datetime(2025, 1, 1, tzinfo=UTC)

    def day(close: float) -> None:
        strategy.on_higher_bar(state, "1 day", Bar(t, close, close, close, close))

    def hour(high: float, low: float, close: float) -> Signal | None:
        return strategy.on_bar(state, Bar(t, close, high, low, close))

    day(1.0), day(1.1)  # close 1.1 > SMA 1.05: up
    assert [hour(1.2, 1.1, 1.15) for _ in range(3)] == [None] * 3
    entry = hour(1.3, 1.2, 1.25)  # 1.25 > 3-bar high 1.2
    assert entry is not None and entry.target is PositionSide.LONG
    day(0.5)  # close 0.5 < SMA 0.8: down
    assert state.trend == -1
    assert [hour(1.3, 1.2, 1.21) for _ in range(5)] == [None] * 5  # still LONG
    assert [hour(1.3, 1.15, 1.2), hour(1.3, 1.2, 1.21), hour(1.3, 1.2, 1.21)] == [None] * 3
    exit_ = hour(1.21, 1.17, 1.18)  # 1.18 < 2-bar low 1.2, not < 3-bar low 1.15
    assert exit_ is not None and exit_.target is None
    short = hour(1.18, 1.09, 1.10)  # 1.10 < 3-bar low 1.17 in a down trend
    assert short is not None and short.target is PositionSide.SHORT


def test_no_entry_without_trend_and_before_warmup(hourly: list[Bar]) -> None:
    strategy = create_strategy(NAME, {})
    assert strategy.warmup_bars == 20
    state = strategy.new_state()
    assert all(strategy.on_bar(state, b) is None for b in hourly)  # no daily bars: no trend
    up = create_strategy(NAME, {"entry_period": 3, "exit_period": 2, "trend_period": 2})
    state = up.new_state()
    t = hourly[0].time
    for c in (1.0, 1.1):
        up.on_higher_bar(state, "1d", Bar(t, c, c, c, c))
    rising = [up.on_bar(state, Bar(t, c, c, c, c)) for c in (1.0, 1.1, 1.2, 1.3)]
    assert rising[:3] == [None] * 3 and rising[3].target is PositionSide.LONG


def test_params_defaults_and_validation() -> None:
    assert validate_params(NAME, {}) == {
        "entry_period": 20,
        "exit_period": 10,
        "trend_bar_size": "1 day",
        "trend_period": 20,
    }
    assert validate_params(NAME, {"trend_bar_size": "4h"})["trend_bar_size"] == "4 hours"
    assert validate_params(NAME, {"trend_bar_size": " 1 Day "})["trend_bar_size"] == "1 day"
    cases = [
        ({"trend_bar_size": "2 days"}, "trend_bar_size"),
        ({"trend_bar_size": 1}, "trend_bar_size"),
        ({"exit_period": 21}, "exit_period"),
        ({"entry_period": 0}, "entry_period"),
        ({"trend_period": 1}, "trend_period"),
        ({"period": 3}, "period"),
    ]
    for params, field in cases:
        with pytest.raises(ValidationError) as err:
            create_strategy(NAME, params)
        assert err.value.errors()[0]["loc"] == (field,), params
    with pytest.raises(ValidationError) as err:
        create_strategy(NAME, {"trend_bar_size": "2 days"})
    assert "'1 day'" in err.value.errors()[0]["msg"]


def test_higher_bar_sizes_registry_and_schema() -> None:
    strategy = create_strategy(NAME, {"trend_bar_size": "4h"})
    assert strategy.higher_bar_sizes() == ("4 hours",)
    with pytest.raises(ValueError, match="4 hours"):
        strategy.on_higher_bar(
            strategy.new_state(), "1 day", Bar(datetime(2025, 1, 1, tzinfo=UTC), 1, 1, 1, 1)
        )
    assert STRATEGIES[NAME] is TrendFollowingStrategy
    props = TrendFollowingStrategy.params_schema()["properties"]
    assert set(props) == {"entry_period", "exit_period", "trend_bar_size", "trend_period"}
    assert all(prop.get("description") for prop in props.values())
    assert props["trend_bar_size"]["enum"] == [s.value for s in BarSize]
    assert props["trend_bar_size"]["default"] == "1 day"
