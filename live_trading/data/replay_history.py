"""Historical bars from the replay files: the paper broker's market data."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from live_trading.domain.values import Asset, Bar, BarSize

from .bars_csv import read_bars_csv
from .replay import replay_file_path


class ReplayHistory:
    """``get_historical_data`` over ``<SYMBOL>_<code>.csv`` files in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def get_historical_data(
        self, asset: str, bar_size: BarSize, start: datetime, end: datetime
    ) -> list[Bar]:
        """Bars with open time in [start, end), oldest first.

        Raises:
            FileNotFoundError: no replay file for that asset and bar size.
        """
        path = replay_file_path(self.directory, Asset.parse(asset), bar_size)
        data = await asyncio.to_thread(read_bars_csv, path)
        return [b for b in data.bars if start <= b.time < end]
