"""Output of ``live-trading backtest``: the run as a JSON-ready report and
as rich tables.

:func:`report` turns a finished run (:class:`BacktestRun` of a
:class:`BacktestInput`) into a dict: files read,
rejected rows with their line numbers, trade statistics, open position, status
and speed. :func:`print_report` prints that dict as tables. P/L and prices in
the quote currency of the asset, quantities in base units, times UTC.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from live_trading.data.bars_csv import BarFile
from live_trading.domain.stats import trade_stats
from live_trading.domain.values import Asset, Bar, BarSize
from live_trading.engine.specs import OperationCreate


@dataclass
class BacktestInput:
    """A validated request: the bar files by bar size and the operation body."""

    files: dict[BarSize, BarFile]
    body: OperationCreate


@dataclass
class BacktestRun:
    """The outcome of one run: the operation (read model), its closed trades
    by exit time, the open position at the end (None: flat) and the wall
    time in seconds of creating the operation and replaying every bar."""

    operation_id: str
    operation: dict[str, Any]
    trades: list[dict[str, Any]]
    position: dict[str, Any] | None
    seconds: float


def spacing_warning(bars: list[Bar], size: BarSize) -> str | None:
    """A warning when the most common gap between bars is not ``size``."""
    gaps = Counter(b.time - a.time for a, b in pairwise(bars[:500]))
    if not gaps:
        return None
    gap = gaps.most_common(1)[0][0]
    if gap == size.duration:
        return None
    return f"the bars are mostly {gap} apart, not {size.value!r}: check --bar-size"


def _file_report(size: BarSize, found: BarFile) -> dict[str, Any]:
    return {
        "path": str(found.source),
        "bar_size": size.value,
        "bars_read": len(found.bars),
        "first_bar": found.bars[0].time.isoformat(),
        "last_bar": found.bars[-1].time.isoformat(),
        "rejected": [{"line": row.line, "reason": row.reason} for row in found.rejected],
        "warning": spacing_warning(found.bars, size),
    }


def _trade_report(trade: dict[str, Any]) -> dict[str, Any]:
    return {
        "side": trade["position_type"],
        "entry_time": trade["entry_time"].isoformat(),
        "exit_time": trade["exit_time"].isoformat(),
        "entry_price": trade["entry_price"],
        "exit_price": trade["exit_price"],
        "quantity": trade["quantity"],
        "pnl": trade["pnl"],
        "commission": trade["total_commission"],
        "exit_reason": trade.get("exit_reason"),
    }


def _position_report(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    return {
        "side": doc["position_type"],
        "quantity": abs(doc["quantity"]),
        "entry_price": doc["entry_price"],
        "opened_at": doc["opened_at"].isoformat(),
    }


def report(prepared: BacktestInput, run: BacktestRun, *, with_trades: bool) -> dict[str, Any]:
    """The run as a JSON-ready dict: the files read (bars, rejected rows with
    their line numbers), trade statistics (:func:`trade_stats`; ``net_pnl``
    and ``total_commission`` summed with :func:`math.fsum`, quote currency),
    the open position at the end, the final status and the speed (primary
    bars per second of wall time of the run). ``trades`` only if asked."""
    body = prepared.body
    primary = BarSize(body.bar_sizes[0])
    pnls = [t["pnl"] for t in run.trades]
    commissions = [t["total_commission"] for t in run.trades]
    stats = trade_stats(pnls, commissions).as_dict()
    del stats["total_pnl"]
    files = [_file_report(size, found) for size, found in prepared.files.items()]
    bars = len(prepared.files[primary].bars)
    result: dict[str, Any] = {
        "operation_id": run.operation_id,
        "asset": body.asset,
        "quote_currency": Asset.parse(body.asset).quote,
        "strategy_name": body.strategy_name,
        "strategy_config": run.operation.get("strategy_config"),
        "bar_sizes": body.bar_sizes,
        "status": run.operation.get("status"),
        "status_reason": run.operation.get("status_reason"),
        "files": files,
        "bars_read": bars,
        "bars_rejected": sum(len(f["rejected"]) for f in files),
        **stats,
        "net_pnl": math.fsum(pnls),
        "total_commission": math.fsum(commissions),
        "open_position": _position_report(run.position),
        "seconds": run.seconds,
        "bars_per_second": bars / run.seconds if run.seconds > 0 else None,
    }
    if with_trades:
        result["trades"] = [_trade_report(t) for t in run.trades]
    return result


MAX_REJECTED_SHOWN = 20  # rows listed in the table output (--json lists all)
PIPED_WIDTH = 120  # columns of the table output when stdout is not a terminal


def _summary_table(result: dict[str, Any]) -> Table:
    ccy = result["quote_currency"]
    table = Table(
        show_header=False,
        title=escape(
            f"backtest {result['asset']} {' + '.join(result['bar_sizes'])} "
            f"{result['strategy_name']}"
        ),
    )
    for f in result["files"]:
        table.add_row(f"file ({f['bar_size']})", escape(f["path"]))
        table.add_row(
            f"bars ({f['bar_size']})",
            f"{f['bars_read']} read, {len(f['rejected'])} rejected; "
            f"{_minutes(f['first_bar'])} .. {_minutes(f['last_bar'])} UTC",
        )
    rate = f", win rate {result['win_rate']:.0%}" if result["trade_count"] else ""
    table.add_row(
        "trades",
        f"{result['trade_count']} ({result['winning_trades']} won, "
        f"{result['losing_trades']} lost{rate})",
    )
    table.add_row(f"net P/L ({ccy})", f"{result['net_pnl']:,.2f}")
    table.add_row(f"commission ({ccy})", f"{result['total_commission']:,.2f}")
    table.add_row(f"max drawdown ({ccy})", f"{result['max_drawdown']:,.2f}")
    factor = result["profit_factor"]
    table.add_row("profit factor", "n/a (no losing trade)" if factor is None else f"{factor:.2f}")
    position = result["open_position"]
    table.add_row(
        "position at the end",
        "flat"
        if position is None
        else f"{position['side']} {position['quantity']:,.0f} @ {position['entry_price']:.5f}"
        " (not in the P/L)",
    )
    reason = result["status_reason"]
    table.add_row("final status", escape(result["status"] + (f": {reason}" if reason else "")))
    speed = result["bars_per_second"]
    table.add_row(
        "run time",
        f"{result['seconds']:.3f} s" + (f", {speed:,.0f} bars/s" if speed is not None else ""),
    )
    return table


def _rejected_table(result: dict[str, Any]) -> Table | None:
    rows = [(f["path"], r) for f in result["files"] for r in f["rejected"]]
    if not rows:
        return None
    more = len(rows) - MAX_REJECTED_SHOWN
    table = Table(
        "file",
        "line",
        "reason",
        title="rejected rows (skipped)",
        caption=f"... and {more} more (--json lists all)" if more > 0 else None,
    )
    for path, row in rows[:MAX_REJECTED_SHOWN]:
        table.add_row(escape(Path(path).name), str(row["line"]), escape(row["reason"]))
    return table


def _minutes(iso: str) -> str:
    """``2025-01-20T15:00:00+00:00`` -> ``2025-01-20 15:00`` (seconds kept if any)."""
    text = iso.replace("T", " ").removesuffix("+00:00")
    return text.removesuffix(":00") if len(text) == 19 else text


def _trades_table(result: dict[str, Any]) -> Table:
    ccy = result["quote_currency"]
    table = Table(
        "side",
        title="trades",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("entry (UTC)", "exit (UTC)"):
        table.add_column(name, no_wrap=True, min_width=16)
    for name in ("entry price", "exit price", "quantity", f"P/L ({ccy})"):
        table.add_column(name, justify="right")
    table.add_column("exit reason")
    for t in result["trades"]:
        table.add_row(
            t["side"],
            _minutes(t["entry_time"]),
            _minutes(t["exit_time"]),
            f"{t['entry_price']:.5f}",
            f"{t['exit_price']:.5f}",
            f"{t['quantity']:,.0f}",
            f"{t['pnl']:,.2f}",
            escape(str(t["exit_reason"])),
        )
    return table


def print_report(console: Console, err: Console, result: dict[str, Any]) -> None:
    """Print ``result`` (see :func:`report`) as tables; warnings to ``err``.
    Piped output is not cut to 80 columns (at least :data:`PIPED_WIDTH`)."""
    if not console.is_terminal and console.width < PIPED_WIDTH:
        console = Console(file=console.file, width=PIPED_WIDTH)
    console.print(_summary_table(result))
    rejected = _rejected_table(result)
    if rejected is not None:
        console.print(rejected)
    if "trades" in result:
        console.print(_trades_table(result))
    for f in result["files"]:
        if f["warning"]:
            err.print(
                f"[yellow]warning:[/yellow] {escape(Path(f['path']).name)}: {escape(f['warning'])}"
            )
