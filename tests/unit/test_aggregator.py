"""BarAggregator on the real USDCAD hourly file and on hand-made tick streams."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from live_trading.data.aggregator import BarAggregator, period_start
from live_trading.data.bars_csv import read_bars_csv
from live_trading.data.ticks import Tick, ticks_from_bar
from live_trading.domain.values import Bar, BarSize

USDCAD_1H = Path(__file__).resolve().parents[2] / "live_trading" / "sample_data" / "USDCAD_1h.csv"
HOUR = timedelta(hours=1)
FRI = datetime(2025, 3, 7, 20, tzinfo=UTC)  # a Friday, 20:00 UTC
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def _aggregate(bars: list[Bar], sizes: list[BarSize]) -> dict[BarSize, list[Bar]]:
    """Feed the ticks of hourly ``bars`` and flush; bars by size."""
    aggregator = BarAggregator(sizes)
    out: dict[BarSize, list[Bar]] = {size: [] for size in sizes}
    for bar in bars:
        for tick in ticks_from_bar(bar, HOUR):
            closed = aggregator.add(tick)
            durations = [size.duration for size, _ in closed]
            assert durations == sorted(durations)  # smaller size first
            for size, done in closed:
                out[size].append(done)
    for size, closed in aggregator.flush(FAR_FUTURE):
        out[size].append(closed)
    assert aggregator.late_ticks == 0
    return out


def _pandas_resample(rule: str) -> list[Bar]:
    frame = pd.read_csv(USDCAD_1H)
    # naive UTC index: pandas ignores origin= for day rules on tz-aware indexes
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(None)
    frame = frame.set_index("time")
    grouped = frame.resample(rule, origin="epoch", label="left", closed="left")
    result = grouped.agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    result = result[grouped["open"].count() > 0]  # drop empty periods
    return [
        Bar(
            moment.tz_localize(UTC).to_pydatetime(),
            row.open,
            row.high,
            row.low,
            row.close,
            row.volume,
        )
        for moment, row in result.iterrows()
    ]


def _tick(moment: datetime, price: float, size: float = 0.0) -> Tick:
    return Tick(moment, price, size)


def test_hourly_ticks_give_back_the_real_file_exactly() -> None:
    bars = read_bars_csv(USDCAD_1H).bars
    assert len(bars) == 5116
    assert any(b.time - a.time > HOUR for a, b in pairwise(bars))  # the file has gaps

    assert _aggregate(bars, [BarSize.HOUR_1])[BarSize.HOUR_1] == bars


@pytest.mark.parametrize(("size", "rule"), [(BarSize.HOUR_4, "4h"), (BarSize.DAY_1, "1D")])
def test_larger_bars_equal_a_pandas_epoch_resample(size: BarSize, rule: str) -> None:
    bars = read_bars_csv(USDCAD_1H).bars
    expected = _pandas_resample(rule)
    assert len(expected) > 100

    got = _aggregate(bars, [BarSize.DAY_1, BarSize.HOUR_1, size])

    assert got[size] == expected
    assert got[BarSize.HOUR_1] == bars


def test_volumes_add_back_up_exactly() -> None:
    """Non-zero volumes (the FX file has none): every bar size sums them exactly."""
    rng = random.Random(7)
    bars = [
        Bar(b.time, b.open, b.high, b.low, b.close, rng.random() * 10 ** rng.randint(0, 7))
        for b in read_bars_csv(USDCAD_1H).bars
    ]
    got = _aggregate(bars, [BarSize.HOUR_1, BarSize.HOUR_4, BarSize.DAY_1])

    assert got[BarSize.HOUR_1] == bars
    for size in (BarSize.HOUR_4, BarSize.DAY_1):
        by_period: dict[datetime, list[float]] = {}
        for bar in bars:
            by_period.setdefault(period_start(bar.time, size.duration), []).append(bar.volume)
        expected = [math.fsum(volumes) for volumes in by_period.values()]  # correctly rounded
        assert [bar.volume for bar in got[size]] == expected


def test_period_boundaries_are_epoch_aligned_utc() -> None:
    moment = datetime(2025, 3, 7, 23, 59, 59, 999000, tzinfo=UTC)
    assert period_start(moment, BarSize.DAY_1.duration) == datetime(2025, 3, 7, tzinfo=UTC)
    assert period_start(moment, BarSize.HOUR_4.duration) == datetime(2025, 3, 7, 20, tzinfo=UTC)
    assert period_start(moment, BarSize.MIN_15.duration) == datetime(2025, 3, 7, 23, 45, tzinfo=UTC)


def test_ohlcv_and_open_time_come_from_the_ticks() -> None:
    aggregator = BarAggregator([BarSize.HOUR_1])
    for minute, price, size in [(5, 1.3, 1.0), (10, 1.5, 2.0), (20, 1.1, 0.5), (59, 1.2, 0.5)]:
        assert aggregator.add(_tick(FRI + timedelta(minutes=minute), price, size)) == []
    assert aggregator.current(BarSize.HOUR_1) == Bar(FRI, 1.3, 1.5, 1.1, 1.2, 4.0)

    closed = aggregator.add(_tick(FRI + HOUR + timedelta(minutes=3), 1.25))

    assert closed == [(BarSize.HOUR_1, Bar(FRI, 1.3, 1.5, 1.1, 1.2, 4.0))]


def test_tick_exactly_on_a_boundary_opens_the_new_bar() -> None:
    aggregator = BarAggregator([BarSize.HOUR_1, BarSize.HOUR_4])
    aggregator.add(_tick(FRI + timedelta(minutes=30), 1.0))
    aggregator.add(_tick(FRI + timedelta(hours=3, minutes=59, seconds=59.999), 1.1))

    closed = aggregator.add(_tick(FRI + 4 * HOUR, 2.0))

    assert [(size, bar.time, bar.close) for size, bar in closed] == [
        (BarSize.HOUR_1, FRI + 3 * HOUR, 1.1),
        (BarSize.HOUR_4, FRI, 1.1),
    ]
    assert aggregator.current(BarSize.HOUR_1) == Bar(FRI + 4 * HOUR, 2.0, 2.0, 2.0, 2.0)
    assert aggregator.current(BarSize.HOUR_4) == Bar(FRI + 4 * HOUR, 2.0, 2.0, 2.0, 2.0)


def test_weekend_gap_produces_no_bars() -> None:
    aggregator = BarAggregator([BarSize.HOUR_1, BarSize.DAY_1])
    aggregator.add(_tick(FRI + timedelta(minutes=10), 1.0))
    aggregator.add(_tick(FRI + HOUR + timedelta(minutes=10), 1.1))
    sunday = datetime(2025, 3, 9, 22, 5, tzinfo=UTC)

    closed = aggregator.add(_tick(sunday, 1.2))

    assert [(size, bar.time) for size, bar in closed] == [
        (BarSize.HOUR_1, FRI + HOUR),
        (BarSize.DAY_1, datetime(2025, 3, 7, tzinfo=UTC)),
    ]
    assert aggregator.current(BarSize.HOUR_1).time == datetime(2025, 3, 9, 22, tzinfo=UTC)


def test_late_tick_is_rejected_counted_and_changes_nothing() -> None:
    aggregator = BarAggregator([BarSize.HOUR_1])
    aggregator.add(_tick(FRI + timedelta(minutes=10), 1.0, 1.0))
    aggregator.add(_tick(FRI + HOUR + timedelta(minutes=10), 1.1, 1.0))
    before = aggregator.current(BarSize.HOUR_1)

    assert aggregator.add(_tick(FRI + timedelta(minutes=50), 9.0, 5.0)) == []  # closed hour
    assert aggregator.add(_tick(FRI + HOUR + timedelta(minutes=5), 9.0, 5.0)) == []  # before last

    assert aggregator.late_ticks == 2
    assert aggregator.current(BarSize.HOUR_1) == before
    closed = aggregator.add(_tick(FRI + 2 * HOUR, 1.2))
    assert closed == [(BarSize.HOUR_1, Bar(FRI + HOUR, 1.1, 1.1, 1.1, 1.1, 1.0))]


def test_equal_tick_times_are_accepted() -> None:
    aggregator = BarAggregator([BarSize.MIN_1])
    aggregator.add(_tick(FRI, 1.0))
    aggregator.add(_tick(FRI, 1.1))
    assert aggregator.late_ticks == 0
    assert aggregator.current(BarSize.MIN_1) == Bar(FRI, 1.0, 1.1, 1.0, 1.1)


def test_flush_closes_only_periods_that_have_ended() -> None:
    aggregator = BarAggregator([BarSize.HOUR_1, BarSize.HOUR_4])
    aggregator.add(_tick(FRI + timedelta(minutes=10), 1.0))

    assert aggregator.flush(FRI + timedelta(minutes=59, seconds=59)) == []
    closed = aggregator.flush(FRI + HOUR)  # the hour ends exactly now
    assert closed == [(BarSize.HOUR_1, Bar(FRI, 1.0, 1.0, 1.0, 1.0))]
    assert aggregator.current(BarSize.HOUR_1) is None
    assert aggregator.current(BarSize.HOUR_4) == Bar(FRI, 1.0, 1.0, 1.0, 1.0)
    assert aggregator.flush(FRI + HOUR) == []  # nothing closes twice

    # a tick inside the flushed hour is late; the next tick opens a new hour
    assert aggregator.add(_tick(FRI + timedelta(minutes=30), 5.0)) == []
    assert aggregator.late_ticks == 1
    assert aggregator.add(_tick(FRI + 2 * HOUR, 1.5)) == []
    assert aggregator.flush(FAR_FUTURE) == [
        (BarSize.HOUR_1, Bar(FRI + 2 * HOUR, 1.5, 1.5, 1.5, 1.5)),
        (BarSize.HOUR_4, Bar(FRI, 1.0, 1.5, 1.0, 1.5)),
    ]


def test_flush_on_an_empty_aggregator_and_naive_now() -> None:
    aggregator = BarAggregator([BarSize.MIN_5])
    assert aggregator.flush(FRI) == []
    with pytest.raises(ValueError, match="naive"):
        aggregator.flush(datetime(2025, 1, 1))


def test_sizes_are_deduplicated_and_sorted() -> None:
    aggregator = BarAggregator([BarSize.DAY_1, BarSize.MIN_1, BarSize.DAY_1, BarSize.HOUR_4])
    assert aggregator.bar_sizes == [BarSize.MIN_1, BarSize.HOUR_4, BarSize.DAY_1]
    with pytest.raises(KeyError):
        aggregator.current(BarSize.HOUR_1)
    with pytest.raises(ValueError, match="at least one"):
        BarAggregator([])
