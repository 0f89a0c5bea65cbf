"""Tick, ticks_from_bar (path rule, times, volume) and TickReplayFeed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from live_trading.data.ticks import Tick, TickReplayFeed, ticks_from_bar
from live_trading.domain.values import Bar, BarSize
from tests.unit.helpers import SleepRecorder

START = datetime(2025, 3, 3, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _write_hours(tmp_path: Path, count: int, *, bad_line: bool = False) -> Path:
    rows = ["time,open,high,low,close,volume"]
    for hour in range(count):
        moment = (START + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{moment},1.{hour + 10:02d},1.9,1.0,1.5,{hour * 4}")
    if bad_line:
        rows.append("2025-03-04T00:00:00Z,2.0,1.9,1.0,1.5,0")  # open above high
    path = tmp_path / "TSTUSD_1h.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


async def _collect(feed: TickReplayFeed) -> list[Tick]:
    return [tick async for tick in feed.ticks()]


def test_up_bar_goes_open_low_high_close() -> None:
    bar = Bar(START, 1.2, 1.5, 1.0, 1.4, 8.0)
    assert [t.price for t in ticks_from_bar(bar, HOUR)] == [1.2, 1.0, 1.5, 1.4]


def test_flat_bar_counts_as_up() -> None:
    bar = Bar(START, 1.2, 1.5, 1.0, 1.2)
    assert [t.price for t in ticks_from_bar(bar, HOUR)] == [1.2, 1.0, 1.5, 1.2]


def test_down_bar_goes_open_high_low_close() -> None:
    bar = Bar(START, 1.4, 1.5, 1.0, 1.2)
    assert [t.price for t in ticks_from_bar(bar, HOUR)] == [1.4, 1.5, 1.0, 1.2]


@pytest.mark.parametrize("size", list(BarSize))
def test_tick_times_are_quarters_strictly_inside_the_period(size: BarSize) -> None:
    bar = Bar(START, 1.0, 1.0, 1.0, 1.0)
    times = [t.time for t in ticks_from_bar(bar, size.duration)]
    quarter = size.duration / 4
    assert times == [START, START + quarter, START + 2 * quarter, START + 3 * quarter]
    assert all(START <= moment < START + size.duration for moment in times)
    assert all(moment.tzinfo is not None for moment in times)


@pytest.mark.parametrize("volume", [0.0, 1.0, 7.0, 0.3, 1234567.891, 1 + 2**-52])
def test_volume_is_split_evenly_and_conserved(volume: float) -> None:
    ticks = ticks_from_bar(Bar(START, 1.0, 1.0, 1.0, 1.0, volume), HOUR)
    assert [t.size for t in ticks] == [volume / 4] * 4
    assert ticks[0].size + ticks[1].size + ticks[2].size + ticks[3].size == volume


def test_non_positive_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ticks_from_bar(Bar(START, 1.0, 1.0, 1.0, 1.0), timedelta(0))


def test_naive_tick_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Tick(datetime(2025, 1, 1), 1.0)


async def test_feed_yields_four_ticks_per_bar_in_order(tmp_path: Path) -> None:
    feed = TickReplayFeed(_write_hours(tmp_path, 3), bar_size=BarSize.HOUR_1, sleep=SleepRecorder())

    ticks = await _collect(feed)

    assert len(ticks) == 12
    assert [t.time for t in ticks] == [
        START + h * HOUR + q * HOUR / 4 for h in range(3) for q in range(4)
    ]
    # bar 1: open 1.11 < close 1.5, so open -> low -> high -> close; volume 4 / 4
    assert [t.price for t in ticks[4:8]] == [1.11, 1.0, 1.9, 1.5]
    assert [t.size for t in ticks[4:8]] == [1.0] * 4


async def test_feed_honours_after(tmp_path: Path) -> None:
    feed = TickReplayFeed(
        _write_hours(tmp_path, 4),
        bar_size=BarSize.HOUR_1,
        after=START + HOUR,
        sleep=SleepRecorder(),
    )

    ticks = await _collect(feed)

    assert [t.time for t in ticks[::4]] == [START + 2 * HOUR, START + 3 * HOUR]


async def test_feed_paces_in_bars_per_second(tmp_path: Path) -> None:
    sleep = SleepRecorder()
    feed = TickReplayFeed(
        _write_hours(tmp_path, 3), bar_size=BarSize.HOUR_1, speed=2.0, sleep=sleep
    )
    seen: list[int] = []

    async for _ in feed.ticks():
        seen.append(len(sleep.delays))

    assert seen == list(range(12))  # one wait between consecutive ticks
    assert sleep.delays == [0.125] * 11  # 4 ticks per bar, 2 bars per second
    assert sum(sleep.delays[:4]) == 0.5


async def test_feed_speed_zero_still_hands_over_the_loop(tmp_path: Path) -> None:
    sleep = SleepRecorder()
    await _collect(TickReplayFeed(_write_hours(tmp_path, 2), bar_size=BarSize.HOUR_1, sleep=sleep))
    assert sleep.delays == [0.0] * 7


async def test_feed_reports_rejected_rows(tmp_path: Path) -> None:
    path = _write_hours(tmp_path, 2, bad_line=True)
    feed = TickReplayFeed(path, bar_size=BarSize.HOUR_1, sleep=SleepRecorder())
    assert feed.rejected == []

    ticks = await _collect(feed)

    assert len(ticks) == 8
    assert [row.line for row in feed.rejected] == [4]
    assert feed.path == path and feed.bar_size is BarSize.HOUR_1


@pytest.mark.parametrize("speed", [-1.0, float("nan")])
def test_feed_refuses_bad_speed(tmp_path: Path, speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        TickReplayFeed(tmp_path / "x.csv", bar_size=BarSize.HOUR_1, speed=speed)


def test_feed_refuses_naive_after(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="naive"):
        TickReplayFeed(tmp_path / "x.csv", bar_size=BarSize.HOUR_1, after=datetime(2025, 1, 1))
