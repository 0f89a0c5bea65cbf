"""MomentumStrategy on real USD-CAD hourly bars vs an independent pandas computation."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from live_trading.domain.values import Bar, PositionSide
from live_trading.strategies import (
    STRATEGIES,
    MomentumParams,
    MomentumStrategy,
    UnknownStrategyError,
    create_strategy,
    strategy_names,
    validate_params,
)
from tests.unit.helpers import SAMPLE_DATA, load_bars, run_signals

DATA = SAMPLE_DATA / "USDCAD_1h.csv"


@pytest.fixture(scope="module")
def bars() -> list[Bar]:
    return load_bars()


def _pandas_crossovers(fast: int, slow: int) -> list[tuple[str, str]]:
    """Independent bulk computation: rolling means, the sign of their difference
    (|diff| <= 1e-10 x the larger mean counts as a tie), crossings of that sign,
    repeated same-direction crossings (touch-and-go) dropped."""
    df = pd.read_csv(DATA)
    f = df["close"].rolling(fast).mean()
    s = df["close"].rolling(slow).mean()
    diff = f - s
    tie = diff.abs() <= 1e-10 * pd.concat([f.abs(), s.abs()], axis=1).max(axis=1)
    sign = diff.gt(0).astype(int) - diff.lt(0).astype(int)
    sign = sign.mask(tie, 0).where(diff.notna())
    prev = sign.shift(1)
    up = prev.le(0) & sign.gt(0)
    down = prev.ge(0) & sign.lt(0)
    events = []
    for t, u, d in zip(df["time"], up, down, strict=True):
        direction = "LONG" if u else "SHORT" if d else None
        if direction and (not events or events[-1][1] != direction):
            events.append((t, direction))
    return events


@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (5, 20), (1, 2), (20, 100)])
def test_signals_match_pandas(bars: list[Bar], fast: int, slow: int) -> None:
    strategy = create_strategy("MomentumStrategy", {"fast_period": fast, "slow_period": slow})
    got = [
        (bars[i].time.strftime("%Y-%m-%dT%H:%M:%SZ"), sig.target.value)
        for i, sig in run_signals(strategy, bars)
    ]
    expected = _pandas_crossovers(fast, slow)
    assert len(expected) > 10
    assert got == expected


def test_default_strategy_on_real_file(bars: list[Bar]) -> None:
    strategy = MomentumStrategy(MomentumParams())
    signals = run_signals(strategy, bars)
    targets = [s.target for _, s in signals]
    assert all(a != b for a, b in zip(targets, targets[1:], strict=False))  # alternates
    assert set(targets) == {PositionSide.LONG, PositionSide.SHORT}
    first_index = signals[0][0]
    assert first_index >= 30  # bar number 31 at the earliest (0-based index 30)
    assert strategy.warmup_bars == 30
    for i, sig in signals:
        assert set(sig.indicators) == {"sma_fast", "sma_slow", "close"}
        assert sig.indicators["close"] == bars[i].close
        closes = [b.close for b in bars[i - 29 : i + 1]]
        assert sig.indicators["sma_slow"] == pytest.approx(sum(closes) / 30, rel=1e-12)
        assert sig.indicators["sma_fast"] == pytest.approx(sum(closes[-10:]) / 10, rel=1e-12)
        if sig.target is PositionSide.LONG:
            assert sig.indicators["sma_fast"] > sig.indicators["sma_slow"]
            assert sig.reason == "SMA(10) crossed above SMA(30)"
        else:
            assert sig.indicators["sma_fast"] < sig.indicators["sma_slow"]
            assert sig.reason == "SMA(10) crossed below SMA(30)"


def test_state_rebuilt_by_replaying_warmup_bars(bars: list[Bar]) -> None:
    """A fresh state fed the last warmup_bars bars yields the same next signals."""
    strategy = create_strategy("MomentumStrategy", {})
    full = run_signals(strategy, bars)
    cut = 2000
    state = strategy.new_state()
    for bar in bars[cut - strategy.warmup_bars : cut]:
        strategy.on_bar(state, bar)
    state.target = next(s.target for i, s in reversed(full) if i < cut)
    resumed = []
    for i in range(cut, len(bars)):
        sig = strategy.on_bar(state, bars[i])
        if sig is not None:
            resumed.append((i, sig.target))
    assert resumed == [(i, s.target) for i, s in full if i >= cut]


def test_exact_ties_from_flat_prices_are_ties(bars: list[Bar]) -> None:
    """Equal averages (flat closes) must not produce crossings from rounding noise."""
    strategy = create_strategy("MomentumStrategy", {"fast_period": 3, "slow_period": 7})
    state = strategy.new_state()
    t = bars[0].time
    closes = [1.3000, 1.3100, 1.2900] * 40 + [1.3017] * 200
    signals = [strategy.on_bar(state, Bar(t, c, c, c, c)) for c in closes]
    assert all(s is None for s in signals[120 + 7 :])


def test_rounding_noise_is_not_a_crossing(bars: list[Bar]) -> None:
    """At bar 3, SMA(1) = 0.2 and SMA(3) = (0.3 + 0.1 + 0.2) / 3 = 0.2 exactly, but
    in floating point the mean comes out a few 1e-17 off: that is a tie, not a LONG."""
    strategy = create_strategy("MomentumStrategy", {"fast_period": 1, "slow_period": 3})
    state = strategy.new_state()
    t = bars[0].time
    closes = [0.2, 0.3, 0.1, 0.2, 0.1, 1.3]
    got = [strategy.on_bar(state, Bar(t, c, c, c, c)) for c in closes]
    assert [g.target if g else None for g in got] == [
        None,
        None,
        None,
        None,
        PositionSide.SHORT,
        PositionSide.LONG,
    ]


def test_no_signal_before_warmup(bars: list[Bar]) -> None:
    # a strong rise right after a fall: crossover possible only once SMA(slow) is ready
    strategy = create_strategy("MomentumStrategy", {"fast_period": 2, "slow_period": 5})
    state = strategy.new_state()
    closes = [5.0, 4.0, 3.0, 2.0, 1.0, 9.0, 9.0]
    t = bars[0].time
    results = [strategy.on_bar(state, Bar(t, c, c, c, c)) for c in closes]
    assert results[:5] == [None] * 5
    assert results[5] is not None and results[5].target is PositionSide.LONG
    assert results[6] is None  # no change of wanted position


def test_params_defaults_and_validation() -> None:
    assert validate_params("MomentumStrategy", {}) == {"fast_period": 10, "slow_period": 30}
    assert validate_params("MomentumStrategy", {"fast_period": "3", "slow_period": 7}) == {
        "fast_period": 3,
        "slow_period": 7,
    }
    with pytest.raises(ValidationError) as err:
        validate_params("MomentumStrategy", {"fast_period": 30, "slow_period": 30})
    assert err.value.errors()[0]["loc"] == ("fast_period",)
    assert "slow_period" in err.value.errors()[0]["msg"]
    with pytest.raises(ValidationError) as err:
        create_strategy("MomentumStrategy", {"fast_period": 40})
    assert err.value.errors()[0]["loc"] == ("fast_period",)
    with pytest.raises(ValidationError) as err:
        create_strategy("MomentumStrategy", {"period": 5})
    assert err.value.errors()[0]["type"] == "extra_forbidden"
    assert err.value.errors()[0]["loc"] == ("period",)
    for bad in ({"fast_period": 0}, {"slow_period": 1}, {"fast_period": "x"}):
        with pytest.raises(ValidationError):
            create_strategy("MomentumStrategy", bad)


def test_registry() -> None:
    assert "MomentumStrategy" in strategy_names()
    assert STRATEGIES["MomentumStrategy"] is MomentumStrategy
    s = create_strategy("MomentumStrategy", {"fast_period": 3, "slow_period": 8})
    assert isinstance(s, MomentumStrategy)
    assert s.params.fast_period == 3 and s.warmup_bars == 8
    with pytest.raises(UnknownStrategyError, match="MomentumStrategy") as err:
        create_strategy("NoSuch", {})
    assert "NoSuch" in str(err.value)
    assert isinstance(err.value, ValueError)
    with pytest.raises(UnknownStrategyError):
        validate_params("momentum", {})


def test_strategy_requires_its_params_model() -> None:
    with pytest.raises(TypeError):
        MomentumStrategy({"fast_period": 3})  # type: ignore[arg-type]
