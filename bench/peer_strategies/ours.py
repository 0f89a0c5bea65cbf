"""This engine on the bench's bars: backtest mode, and the durable journal.

Both run the real engine (runner, order manager, journal service and
projection, paper broker fill model, ``MomentumStrategy``) with the
operation defaults (10,000 units, SL 1.5 x ATR(14), TP 2R), fed the bars
already in memory as the peers are. They differ only in where the journal,
the stored bars and the paper broker's book are kept:

* :func:`run_backtest` -- in memory (:mod:`live_trading.backtest`);
* :class:`Durable` -- in the embedded store, exactly as ``live-trading run``
  keeps them (SecantusDB with an fsync per commit, the paper broker's book
  in its own database, the trade log files), through ``open_services``.

A run's trades come back as the rows :mod:`.compare` reads: bar indexes in
this engine's convention (a fill is labelled with the open time of the bar
it happened in), side, net P/L (quote currency of the asset) and exit reason.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Self

from bson import ObjectId
from pymongo import monitoring

from live_trading.backtest import memory_source_factory, open_backtest_services
from live_trading.bootstrap import open_services
from live_trading.config import Settings
from live_trading.domain.values import Asset, Bar, BarSize
from live_trading.engine.specs import OperationCreate

from .common import PeerResult


def body(asset: Asset) -> OperationCreate:
    """The operation every run creates: ``MomentumStrategy`` on ``asset`` with
    the defaults (quantity in base units, P/L in the quote currency)."""
    return OperationCreate(asset=asset.name, strategy_name="MomentumStrategy", bar_sizes=["1 hour"])


def _settings(**extra: Any) -> Settings:
    scratch = Path(tempfile.mkdtemp(prefix="lt-peers-"))
    return Settings(
        mongodb_url=None,
        data_dir=scratch / "store",
        trade_log_dir=scratch / "trade-log",
        trading_worker_enabled=False,
        **extra,
    )


def trade_rows(
    trades: list[dict[str, Any]], positions: dict[str, dict[str, Any]], index: dict
) -> list[dict[str, Any]]:
    """Rows for :mod:`.compare` from trade documents (and their positions,
    for the stop-loss and take-profit levels)."""
    rows = []
    for t in sorted(trades, key=lambda t: (t["exit_time"], str(t["_id"]))):
        position = positions.get(str(t["position_id"]), {})
        rows.append(
            {
                "entry_bar": index[t["entry_time"]],
                "exit_bar": index[t["exit_time"]],
                "side": 1 if t["position_type"] == "LONG" else -1,
                "pnl": t["pnl"],
                "exit": t.get("exit_reason"),
                "stop_loss": position.get("stop_loss"),
                "take_profit": position.get("take_profit"),
            }
        )
    return rows


async def _backtest(bars: list[Bar], index: dict, asset: Asset) -> tuple[PeerResult, list[dict]]:
    services = open_backtest_services(_settings(), bars={BarSize.HOUR_1: bars})
    await services.start()
    started = time.perf_counter()
    operation_id = await services.run(body(asset), source="bench")
    seconds = time.perf_counter() - started
    store = services.journal_store
    positions = {p["_id"]: p for p in store.documents("positions", operation_id=operation_id)}
    rows = trade_rows(services.trades(operation_id), positions, index)
    await services.close()
    return PeerResult(
        "live_trading backtest", len(bars), seconds, len(rows), sum(r["pnl"] for r in rows)
    ), rows


def run_backtest(bars: list[Bar], index: dict, asset: Asset) -> tuple[PeerResult, list[dict]]:
    """Backtest mode over ``bars`` of ``asset``; the timed part is creating
    the operation and replaying every bar (until the runner is idle)."""
    return asyncio.run(_backtest(bars, index, asset))


class StoreCommands(monitoring.CommandListener):
    """Counts the store commands (round trips) and the time spent in them."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_name: Counter[str] = Counter()
        self.seconds = 0.0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Nothing: a command is counted once it answered."""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.by_name[event.command_name] += 1
        self.seconds += event.duration_micros / 1e6

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.succeeded(event)  # type: ignore[arg-type]


class Durable:
    """The engine with its journal in a fresh embedded store, kept open across
    runs (each run is a new operation); use as a context manager.

    ``store`` says, for the last run, how many commands the store answered
    (each one a round trip), per bar, and the seconds spent waiting for them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.services: Any = None
        self.commands = StoreCommands()
        monitoring.register(self.commands)  # before the client exists
        self.store: dict[str, Any] = {}

    def __enter__(self) -> Self:
        self.services = self.loop.run_until_complete(self._open())
        return self

    async def _open(self) -> Any:
        services = await open_services(_settings(), sync_on_commit=True)
        services.engine.uses_replay = False  # bars come from memory, not replay files
        await services.start()
        return services

    def __exit__(self, *exc: object) -> None:
        self.loop.run_until_complete(self.services.close())
        self.loop.close()

    def run(self, bars: list[Bar], index: dict, asset: Asset) -> tuple[PeerResult, list[dict]]:
        """One operation over ``bars`` of ``asset``; timed as :func:`run_backtest`."""
        return self.loop.run_until_complete(self._run(bars, index, asset))

    async def _run(
        self, bars: list[Bar], index: dict, asset: Asset
    ) -> tuple[PeerResult, list[dict]]:
        engine = self.services.engine
        engine.deps.source_factory = memory_source_factory({BarSize.HOUR_1: bars})
        self.commands.reset()
        started = time.perf_counter()
        operation_id = await engine.create_operation(body(asset), source="bench")
        await engine.wait_idle()
        seconds = time.perf_counter() - started
        total = sum(self.commands.by_name.values())
        self.store = {
            "commands": total,
            "per_bar": round(total / len(bars), 2),
            "seconds_in_store": round(self.commands.seconds, 2),
            "ms_per_command": round(1000 * self.commands.seconds / max(total, 1), 2),
            "by_name": dict(self.commands.by_name.most_common()),
        }
        db, query = self.services.store.db, {"operation_id": ObjectId(operation_id)}
        trades = await db["trades"].find(query).to_list(None)
        positions = {str(p["_id"]): p async for p in db["positions"].find(query)}
        rows = trade_rows(trades, positions, index)
        return PeerResult(
            "live_trading durable", len(bars), seconds, len(rows), sum(r["pnl"] for r in rows)
        ), rows
