"""Helpers for crash-recovery tests: run, 'crash', and start again in-process.

A crash is simulated by abandoning the running services without any clean
shutdown of the engine (tasks cancelled, nothing flushed) and building new
services over the same databases, as a restarted process would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bson import ObjectId

from live_trading.bootstrap import Services, open_services
from live_trading.config import Settings
from live_trading.engine.specs import OperationCreate
from tests.conftest import SAMPLE_DATA, make_settings

BARS_WITH_OPEN_SHORT = 120  # the first 120 USD-CAD hours end with a SHORT open


def truncated_replay_dir(target: Path, bars: int = BARS_WITH_OPEN_SHORT) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[: bars + 1]
    (target / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    return target


@dataclass
class Crashable:
    settings: Settings
    services: Services | None = None

    async def boot(self, *, recover: bool = True, start_runners: bool = True) -> Services:
        self.services = await open_services(self.settings)
        if start_runners:
            await self.services.start(recover=recover)
        else:
            await self.services.engine.deps.broker.connect()
        return self.services

    async def crash(self) -> None:
        """Stop abruptly: cancel runner tasks, drop every in-memory object."""
        assert self.services is not None
        for task in self.services.engine.tasks.values():
            task.cancel()
        self.services.engine.tasks.clear()
        await self.services.store.client.close()
        self.services = None


def crashable(mongo_url: str, tmp_path: Path, bars: int = BARS_WITH_OPEN_SHORT) -> Crashable:
    return Crashable(
        make_settings(mongo_url, replay_data_dir=truncated_replay_dir(tmp_path / "replay", bars))
    )


async def run_operation(services: Services, **overrides) -> str:
    body = {
        "asset": "USD-CAD",
        "bar_sizes": ["1 hour"],
        "strategy_name": "MomentumStrategy",
        **overrides,
    }
    op = await services.engine.create_operation(OperationCreate(**body), source="test")
    await services.engine.wait_idle()
    return op


async def move_market(services: Services, operation_id: str, factor: float) -> float:
    """Store one more bar (the market while we were down) whose close is the
    open position's entry price times ``factor``; return that close."""
    state = await services.journal.state(operation_id)
    assert state.position is not None
    close = state.position.doc["entry_price"] * factor
    collection = services.store.db["market_data_1hour"]
    last = await collection.find_one(
        {"operation_id": ObjectId(operation_id)}, sort=[("timestamp", -1)]
    )
    bar = {k: v for k, v in last.items() if k != "_id"}
    bar.update(
        timestamp=last["timestamp"] + timedelta(hours=1),
        open=close,
        high=close,
        low=close,
        close=close,
    )
    await collection.insert_one(bar)
    return close


async def entries(services: Services, operation_id: str, after: int = 0):
    return await services.journal_store.read(operation_id, after)
