"""Helpers shared by the unit tests."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from live_trading.domain.values import Bar
from live_trading.strategies import Signal, Strategy

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "live_trading" / "sample_data"


class SleepRecorder:
    """Stands in for asyncio.sleep: records the delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def load_bars(name: str = "USDCAD_1h.csv") -> list[Bar]:
    """The bars of a clean sample file, read with the stdlib csv module
    (independently of the project's importer)."""
    with open(SAMPLE_DATA / name, newline="") as fh:
        return [
            Bar(
                datetime.fromisoformat(r["time"]),
                float(r["open"]),
                float(r["high"]),
                float(r["low"]),
                float(r["close"]),
                float(r["volume"]),
            )
            for r in csv.DictReader(fh)
        ]


def run_signals(strategy: Strategy, bars: list[Bar]) -> list[tuple[int, Signal]]:
    """(bar index, signal) of every signal ``strategy`` gives over ``bars``."""
    state = strategy.new_state()
    return [(i, s) for i, b in enumerate(bars) if (s := strategy.on_bar(state, b)) is not None]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
