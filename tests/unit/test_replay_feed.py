"""ReplayFeed, replay file naming and the shipped sample directory."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from live_trading.data.bars_csv import read_bars_csv
from live_trading.data.replay import (
    FILE_NAME,
    ReplayFeed,
    default_replay_dir,
    replay_file_path,
)
from live_trading.domain.values import Asset, Bar, BarSize
from tests.unit.helpers import SleepRecorder

START = datetime(2025, 3, 3, tzinfo=UTC)


def _write_hours(tmp_path: Path, count: int, *, bad_line: bool = False) -> Path:
    rows = ["time,open,high,low,close,volume"]
    for hour in range(count):
        moment = (START + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{moment},1.{hour:02d},1.9,1.0,1.5,0")
    if bad_line:
        rows.append("2025-03-04T00:00:00Z,2.0,1.9,1.0,1.5,0")  # open above high
    path = tmp_path / "TSTUSD_1h.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


async def _collect(feed: ReplayFeed) -> list[Bar]:
    return [bar async for bar in feed.bars()]


async def test_speed_zero_yields_every_bar_oldest_first(tmp_path: Path) -> None:
    sleep = SleepRecorder()
    feed = ReplayFeed(_write_hours(tmp_path, 5), sleep=sleep)

    bars = await _collect(feed)

    assert [b.time for b in bars] == [START + timedelta(hours=h) for h in range(5)]
    assert bars[2].open == 1.02
    assert sleep.delays == [0.0] * 4  # still hands the loop over between bars


async def test_speed_paces_with_one_over_speed(tmp_path: Path) -> None:
    sleep = SleepRecorder()
    feed = ReplayFeed(_write_hours(tmp_path, 4), speed=4.0, sleep=sleep)

    bars = await _collect(feed)

    assert len(bars) == 4
    assert sleep.delays == [0.25, 0.25, 0.25]


async def test_pacing_happens_between_yields(tmp_path: Path) -> None:
    sleep = SleepRecorder()
    feed = ReplayFeed(_write_hours(tmp_path, 3), speed=2.0, sleep=sleep)
    seen: list[int] = []

    async for _ in feed.bars():
        seen.append(len(sleep.delays))

    assert seen == [0, 1, 2]


async def test_after_skips_bars_up_to_and_including_it(tmp_path: Path) -> None:
    path = _write_hours(tmp_path, 6)

    resumed = await _collect(
        ReplayFeed(path, after=START + timedelta(hours=2), sleep=SleepRecorder())
    )
    between = await _collect(
        ReplayFeed(path, after=START + timedelta(hours=2, minutes=30), sleep=SleepRecorder())
    )
    past_end = await _collect(
        ReplayFeed(path, after=START + timedelta(days=1), sleep=SleepRecorder())
    )

    assert [b.time.hour for b in resumed] == [3, 4, 5]
    assert [b.time.hour for b in between] == [3, 4, 5]
    assert past_end == []


async def test_after_in_another_timezone_is_compared_in_utc(tmp_path: Path) -> None:
    plus_two = datetime(2025, 3, 3, 5, 0, tzinfo=timezone(timedelta(hours=2)))  # 03:00 UTC
    bars = await _collect(ReplayFeed(_write_hours(tmp_path, 6), after=plus_two))

    assert [b.time.hour for b in bars] == [4, 5]


def test_naive_after_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="naive"):
        ReplayFeed(tmp_path / "x.csv", after=datetime(2025, 1, 1))


@pytest.mark.parametrize("speed", [-1.0, -0.001, float("nan")])
def test_negative_or_nan_speed_raises(tmp_path: Path, speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplayFeed(tmp_path / "x.csv", speed=speed)


async def test_rejected_rows_are_exposed_once_read(tmp_path: Path) -> None:
    feed = ReplayFeed(_write_hours(tmp_path, 3, bad_line=True), sleep=SleepRecorder())
    assert feed.rejected == []

    bars = await _collect(feed)

    assert len(bars) == 3
    assert [(r.line, r.reason.split()[0]) for r in feed.rejected] == [(5, "open")]


async def test_missing_file_raises_when_iterated(tmp_path: Path) -> None:
    feed = ReplayFeed(tmp_path / "USDCAD_1h.csv")

    with pytest.raises(FileNotFoundError):
        await _collect(feed)


async def test_speed_zero_lets_other_tasks_run(tmp_path: Path) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        seen_ticks = [ticks async for _ in ReplayFeed(_write_hours(tmp_path, 20)).bars()]
    finally:
        task.cancel()

    assert seen_ticks[-1] - seen_ticks[1] >= 18  # the ticker ran between bars


def test_replay_file_path_naming(tmp_path: Path) -> None:
    usdcad = Asset.parse("USD-CAD")

    assert replay_file_path(tmp_path, usdcad, BarSize.HOUR_1) == tmp_path / "USDCAD_1h.csv"
    assert (
        replay_file_path(tmp_path, Asset.parse("eur-usd"), BarSize.DAY_1)
        == tmp_path / "EURUSD_1d.csv"
    )
    names = [replay_file_path(tmp_path, usdcad, size).name for size in BarSize]
    assert names == [f"USDCAD_{code}.csv" for code in ("1m", "5m", "15m", "30m", "1h", "4h", "1d")]
    assert FILE_NAME.format(symbol="USDCAD", code="4h") == "USDCAD_4h.csv"


def test_default_replay_dir_holds_the_three_sample_files() -> None:
    directory = default_replay_dir()

    assert directory.is_dir()
    assert {p.name for p in directory.glob("*.csv")} >= {
        "USDCAD_1h.csv",
        "EURUSD_1h.csv",
        "USDCAD_1d.csv",
    }
    assert replay_file_path(directory, Asset.parse("USD-CAD"), BarSize.DAY_1).is_file()
    assert replay_file_path(directory, Asset.parse("EUR-USD"), BarSize.HOUR_1).is_file()


def test_sample_daily_file_is_the_unchanged_investing_export() -> None:
    raw = (default_replay_dir() / "USDCAD_1d.csv").read_bytes()

    assert raw.startswith(b"\xef\xbb\xbfDate,Price,Open,High,Low,Vol.,Change %")


async def test_replays_the_real_usdcad_sample_after_a_restart_point() -> None:
    path = replay_file_path(default_replay_dir(), Asset.parse("USD-CAD"), BarSize.HOUR_1)
    every = read_bars_csv(path).bars
    restart = every[99].time

    bars = await _collect(ReplayFeed(path, after=restart))

    assert bars == every[100:]
    assert len(bars) == 5116 - 100
