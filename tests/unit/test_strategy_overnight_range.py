"""OvernightRangeStrategy on real USD-CAD hourly bars vs an independent pandas computation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from live_trading.domain.values import Bar, OrderType, PositionSide
from live_trading.strategies import (
    STRATEGIES,
    OvernightRangeParams,
    OvernightRangeStrategy,
    Signal,
    create_strategy,
    validate_params,
)

DATA = Path(__file__).resolve().parents[2] / "live_trading" / "sample_data" / "USDCAD_1h.csv"
NAME = "OvernightRangeStrategy"

Event = tuple[str, str | None, str, float | None]  # time, target, entry type, entry price


from tests.unit.helpers import iso, load_bars, run_signals  # noqa: E402


@pytest.fixture(scope="module")
def bars() -> list[Bar]:
    return load_bars()


def _events(bars: list[Bar], signals: list[tuple[int, Signal]]) -> list[Event]:
    return [
        (iso(bars[i].time), s.target.value if s.target else None, s.entry_type.value, s.entry_price)
        for i, s in signals
    ]


def _frame(p: OvernightRangeParams) -> pd.DataFrame:
    """Hourly bars with their window day (NaT outside the window) and session day."""
    df = pd.read_csv(DATA)
    t = pd.to_datetime(df["time"], utc=True)
    hour, midnight = t.dt.hour, t.dt.floor("D")
    start, end = p.range_start_hour, p.range_end_hour
    if start < end:
        window, day = hour.between(start, end - 1), midnight
    else:
        window = (hour >= start) | (hour < end)
        day = midnight + pd.to_timedelta((hour >= start).astype(int), unit="D")
    df["t"], df["window_day"] = t, day.where(window)
    df["session_day"] = midnight.where(hour.between(end, p.exit_hour - 1))
    return df


def _pandas_signals(p: OvernightRangeParams) -> list[Event]:
    """Per day: range = max/min of its window bars, kept only when the first one
    opens at start hour; entry in the day's session; exit at the first later bar
    not in that session."""
    df = _frame(p)
    wrap = timedelta(days=1 if p.range_start_hour > p.range_end_hour else 0)
    ranges = df.groupby("window_day").agg(
        high=("high", "max"), low=("low", "min"), first=("t", "min")
    )
    events: list[Event] = []
    for day, r in ranges.iterrows():
        if r["first"] != day + timedelta(hours=p.range_start_hour) - wrap:
            continue
        session = df[df["session_day"] == day]
        if p.entry == "STOP" and len(session):
            k = session.index[0]
            c = session["close"].iloc[0]
            long = (c - r["low"]) - (r["high"] - c) > 1e-10 * c
            side, price = ("LONG", r["high"]) if long else ("SHORT", r["low"])
        else:
            up, down = session["close"] > r["high"], session["close"] < r["low"]
            hits = session[up | down]
            if hits.empty:
                continue
            k, price = hits.index[0], None
            side = "LONG" if up[k] else "SHORT"
        events.append((df["time"][k], side, p.entry, price))
        later = df.loc[k + 1 :]
        out = later[later["session_day"] != day]
        if len(out):
            events.append((df["time"][out.index[0]], None, "MARKET", None))
    return events


PARAM_SETS = [
    {},
    {"entry": "STOP"},
    {"range_start_hour": 22, "range_end_hour": 6, "exit_hour": 18},
    {"range_start_hour": 21, "range_end_hour": 3, "exit_hour": 21, "entry": "STOP"},
    {"range_start_hour": 7, "range_end_hour": 12, "exit_hour": 16},
]


@pytest.mark.parametrize("params", PARAM_SETS)
def test_signals_match_pandas(bars: list[Bar], params: dict) -> None:
    got = _events(bars, run_signals(create_strategy(NAME, params), bars))
    expected = _pandas_signals(OvernightRangeParams(**params))
    assert len(expected) > 100
    assert got == expected


def test_default_signal_counts(bars: list[Bar]) -> None:
    market = run_signals(create_strategy(NAME, {}), bars)
    stop = run_signals(create_strategy(NAME, {"entry": "STOP"}), bars)
    assert len(market) == 396 and len(stop) == 428
    targets = [s.target for _, s in market]
    assert (targets.count(PositionSide.LONG), targets.count(PositionSide.SHORT)) == (113, 85)


def test_first_known_trade(bars: list[Bar]) -> None:
    """Worked out by hand from the CSV, default parameters (window 00-07 UTC):

    2025-01-15: the file starts at 04:00, the window is incomplete: no trade
    (with the partial range 04-06, high 1.4364 / low 1.4350, the 07:00 close
    1.4343 would have been a SHORT).
    2025-01-16: window bars 00:00..06:00: high max(1.4337, 1.4343, 1.4353, 1.4355,
    1.4357, 1.4367, 1.4367) = 1.4367, low 1.4323 (00:00). 07:00 closes 1.4356
    (inside); 08:00 closes 1.4373 > 1.4367: LONG. Flat at the close of the
    20:00 bar (close 1.4398).
    """
    signals = run_signals(create_strategy(NAME, {}), bars)
    (i, entry), (j, exit_) = signals[0], signals[1]
    assert (iso(bars[i].time), entry.target) == ("2025-01-16T08:00:00Z", PositionSide.LONG)
    assert (iso(bars[j].time), exit_.target) == ("2025-01-16T20:00:00Z", None)
    df = pd.read_csv(DATA)
    window = df[df["time"].between("2025-01-16T00", "2025-01-16T06:59")]
    assert len(window) == 7
    assert entry.indicators == {"close": 1.4373, "range_high": 1.4367, "range_low": 1.4323}
    assert (window["high"].max(), window["low"].min()) == (1.4367, 1.4323)
    assert df["close"][i] == 1.4373 and df["close"][i - 1] == 1.4356
    assert exit_.indicators["close"] == df["close"][j] == 1.4398
    assert entry.entry_type is OrderType.MARKET and entry.entry_price is None


def test_first_known_stop_entry(bars: list[Bar]) -> None:
    """2025-01-16T07:00Z, the first bar after the window: close 1.4356 is
    1.4356 - 1.4323 = 0.0033 above the low and 1.4367 - 1.4356 = 0.0011 below
    the high, nearer the high: buy stop at 1.4367."""
    signals = run_signals(create_strategy(NAME, {"entry": "STOP"}), bars)
    i, entry = signals[0]
    assert (iso(bars[i].time), entry.target) == ("2025-01-16T07:00:00Z", PositionSide.LONG)
    assert (entry.entry_type, entry.entry_price) == (OrderType.STOP, 1.4367)
    assert iso(bars[signals[1][0]].time) == "2025-01-16T20:00:00Z"
    assert signals[1][1].target is None


@pytest.mark.parametrize("params", PARAM_SETS)
def test_day_rules(bars: list[Bar], params: dict) -> None:
    """Entries alternate with exits, at most one per day, inside the session;
    every exit is at the first bar outside the entry day's session."""
    p = OvernightRangeParams(**params)
    signals = run_signals(create_strategy(NAME, params), bars)
    assert signals[0][0] >= create_strategy(NAME, params).warmup_bars
    entry_days = []
    for n, (i, sig) in enumerate(signals):
        t = bars[i].time
        if n % 2 == 0:
            assert sig.target is not None
            assert p.range_end_hour <= t.hour < p.exit_hour
            entry_days.append(t.date())
        else:
            assert sig.target is None
            start = bars[signals[n - 1][0]].time
            assert t.date() > start.date() or t.hour >= p.exit_hour
            assert all(
                b.time.date() == start.date() and b.time.hour < p.exit_hour
                for b in bars[signals[n - 1][0] : i]
            )
    assert len(entry_days) == len(set(entry_days))


def test_no_signal_before_warmup() -> None:
    strategy = create_strategy(NAME, {})
    assert strategy.warmup_bars == 7
    state = strategy.new_state()
    t0 = datetime(2025, 3, 3, tzinfo=UTC)
    closes = [1.40] * 7 + [1.50, 1.60]  # window 00..06 flat, breakout at 07:00
    got = [
        strategy.on_bar(state, Bar(t0 + timedelta(hours=h), c, c, c, c))
        for h, c in enumerate(closes)
    ]
    assert got[:7] == [None] * 7
    assert got[7] is not None and got[7].target is PositionSide.LONG
    assert got[8] is None


def test_params_defaults_and_validation() -> None:
    assert validate_params(NAME, {}) == {
        "range_start_hour": 0,
        "range_end_hour": 7,
        "exit_hour": 20,
        "entry": "MARKET",
    }
    assert (
        validate_params(NAME, {"range_start_hour": 22, "range_end_hour": 5, "exit_hour": 22})[
            "exit_hour"
        ]
        == 22
    )
    cases = [
        ({"range_start_hour": 7}, "range_end_hour"),
        ({"range_start_hour": 24}, "range_start_hour"),
        ({"range_end_hour": -1}, "range_end_hour"),
        ({"exit_hour": 7}, "exit_hour"),
        ({"exit_hour": 3}, "exit_hour"),
        ({"range_start_hour": 22, "range_end_hour": 6, "exit_hour": 23}, "exit_hour"),
        ({"entry": "LIMIT"}, "entry"),
        ({"hour": 3}, "hour"),
    ]
    for params, field in cases:
        with pytest.raises(ValidationError) as err:
            create_strategy(NAME, params)
        assert err.value.errors()[0]["loc"] == (field,), params


def test_registry_and_schema() -> None:
    assert STRATEGIES[NAME] is OvernightRangeStrategy
    props = OvernightRangeStrategy.params_schema()["properties"]
    assert set(props) == {"range_start_hour", "range_end_hour", "exit_hour", "entry"}
    assert all(prop.get("description") for prop in props.values())
    assert props["entry"]["enum"] == ["MARKET", "STOP"]
    assert (props["exit_hour"]["minimum"], props["exit_hour"]["maximum"]) == (0, 23)
