"""``live-trading backtest``: backtest mode on bar CSV files, no database.

The command reads the primary bar file (and any higher bar size files) with
:func:`~live_trading.data.bars_csv.read_bars_csv`, skipping dirty rows (each
reported with its line number), builds the operation's
:class:`~live_trading.engine.specs.OperationCreate` from the options, runs it
with :func:`~live_trading.backtest.open_backtest_services` (journal, bars and
paper broker book in memory) and reports the closed trades.

Conventions: prices and P/L in the quote currency of the asset (USD-CAD:
CAD), quantities in base units (USD), times UTC. Input errors raise
:class:`BacktestInputError`, which the CLI prints and turns into exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from live_trading.config import BrokerType, Settings
from live_trading.data.bars_csv import BarFile, read_bars_csv
from live_trading.domain.stats import trade_stats
from live_trading.domain.values import Asset, Bar, BarSize
from live_trading.engine.specs import InvalidSpecError, OperationCreate

DEFAULT_STRATEGY = "MomentumStrategy"
DEFAULT_BAR_SIZE = BarSize.HOUR_1
# Replay file names (USDCAD_1h.csv) give the asset and the bar size.
_FILE_NAME = re.compile(r"^([A-Za-z]{3})([A-Za-z]{3})_(\d+[mhd])$")
_SET_BY_FILES = ("bar_sizes", "primary_bar_size")


class BacktestInputError(ValueError):
    """Bad input to the backtest command (file, option or operation field);
    the message says which and why."""


@dataclass(frozen=True)
class BacktestRequest:
    """What the command line asked for (strings as typed; see :func:`prepare`)."""

    csv: Path
    asset: str | None = None
    strategy: str | None = None
    bar_size: str | None = None
    higher: list[str] = field(default_factory=list)  # "CSV:BAR_SIZE"
    params: list[str] = field(default_factory=list)  # "key=value"
    quantity: float | None = None  # base units
    spec: str | None = None  # JSON object of further OperationCreate fields


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


def infer_from_name(path: Path) -> tuple[str | None, BarSize | None]:
    """Asset and bar size from a replay file name (``USDCAD_1h.csv`` gives
    ``("USD-CAD", BarSize.HOUR_1)``); ``(None, None)`` for other names."""
    match = _FILE_NAME.match(path.stem)
    if not match:
        return None, None
    try:
        size = BarSize.parse(match.group(3))
    except ValueError:
        return None, None
    return f"{match.group(1)}-{match.group(2)}".upper(), size


def read_bar_file(path: Path) -> BarFile:
    """The bars of ``path`` (oldest first; dirty rows in ``rejected``).

    Raises:
        BacktestInputError: the file is missing or unreadable, its header
            lacks a required column, or it holds no valid bar.
    """
    try:
        found = read_bars_csv(path)
    except FileNotFoundError:
        raise BacktestInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BacktestInputError(f"{path}: is a directory, not a CSV file") from None
    except OSError as error:
        raise BacktestInputError(f"{path}: cannot read: {error.strerror or error}") from None
    except ValueError as error:  # the header, the encoding: the message names the file
        raise BacktestInputError(str(error)) from None
    if not found.bars:
        first = found.rejected[0] if found.rejected else None
        detail = f"; first: line {first.line}: {first.reason}" if first else ""
        raise BacktestInputError(f"{path}: no valid bar ({len(found.rejected)} rows "
                                 f"rejected{detail})")
    return found


def _bar_size(text: str, where: str) -> BarSize:
    try:
        return BarSize.parse(text)
    except ValueError as error:
        raise BacktestInputError(f"{where}: {error}") from None


def parse_higher(text: str) -> tuple[Path, BarSize]:
    """``"daily.csv:1 day"`` -> the file and its bar size (the last ``:`` splits).

    Raises:
        BacktestInputError: no ``:`` or an unknown bar size.
    """
    path, sep, size = text.rpartition(":")
    if not sep or not path:
        raise BacktestInputError(f"--higher {text!r}: expected CSV:BAR_SIZE, "
                                 "e.g. USDCAD_1d.csv:'1 day'")
    return Path(path), _bar_size(size, f"--higher {text!r}")


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["fast_period=10", "mode=x"]`` -> ``{"fast_period": 10, "mode": "x"}``:
    a value is read as JSON when it parses, else kept as a string.

    Raises:
        BacktestInputError: an item without ``=`` or with an empty key.
    """
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BacktestInputError(f"--param {item!r}: expected key=value")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def _parse_spec(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        spec = json.loads(text)
    except ValueError as error:
        raise BacktestInputError(f"--spec: not valid JSON ({error})") from None
    if not isinstance(spec, dict):
        raise BacktestInputError("--spec: expected a JSON object, e.g. "
                                 '\'{"stop_loss_type": "PERCENTAGE", "stop_loss_value": 0.01}\'')
    for key in _SET_BY_FILES:
        if key in spec:
            raise BacktestInputError(f"--spec: {key} is set by the CSV files "
                                     "(--bar-size, --higher), not by --spec")
    return spec


def format_validation_error(error: ValidationError) -> str:
    """One ``field: reason`` line per error of ``error``."""
    lines = []
    for found in error.errors():
        where = ".".join(str(part) for part in found["loc"]) or "body"
        lines.append(f"{where}: {found['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def build_body(request: BacktestRequest, primary: BarSize, higher: list[BarSize],
               inferred_asset: str | None) -> OperationCreate:
    """The operation's body: ``--spec`` first, then the other options over it.

    Raises:
        BacktestInputError: bad ``--spec``/``--param``, no asset, or a field
            that :class:`OperationCreate` rejects (each named with the reason).
    """
    body = _parse_spec(request.spec)
    asset = request.asset or body.get("asset") or inferred_asset
    if asset is None:
        raise BacktestInputError(f"--asset is required: {request.csv.name} does not name one "
                                 "(a file named like USDCAD_1h.csv does)")
    body["asset"] = asset
    body["strategy_name"] = request.strategy or body.get("strategy_name") or DEFAULT_STRATEGY
    body["bar_sizes"] = [primary.value, *(s.value for s in higher)]
    params = parse_params(request.params)
    if params:
        base = body.get("strategy_config")
        body["strategy_config"] = {**(base if isinstance(base, dict) else {}), **params}
    if request.quantity is not None:
        body["quantity"] = request.quantity
    try:
        return OperationCreate(**body)
    except ValidationError as error:
        raise BacktestInputError(format_validation_error(error)) from None


def prepare(request: BacktestRequest) -> BacktestInput:
    """Read every bar file and build the operation's body.

    Raises:
        BacktestInputError: see :func:`read_bar_file` and :func:`build_body`;
            also a bar size given twice.
    """
    inferred_asset, inferred_size = infer_from_name(request.csv)
    if request.bar_size is not None:
        primary = _bar_size(request.bar_size, "--bar-size")
    else:
        primary = inferred_size or DEFAULT_BAR_SIZE
    paths = {primary: request.csv}
    for text in request.higher:
        path, size = parse_higher(text)
        if size in paths:
            raise BacktestInputError(f"--higher {text!r}: bar size {size.value!r} "
                                     f"already given by {paths[size]}")
        paths[size] = path
    files = {size: read_bar_file(path) for size, path in paths.items()}
    return BacktestInput(files, build_body(request, primary, list(paths)[1:], inferred_asset))


def spacing_warning(bars: list[Bar], size: BarSize) -> str | None:
    """A warning when the most common gap between bars is not ``size``."""
    gaps = Counter(b.time - a.time for a, b in pairwise(bars[:500]))
    if not gaps:
        return None
    gap = gaps.most_common(1)[0][0]
    if gap == size.duration:
        return None
    return (f"the bars are mostly {gap} apart, not {size.value!r}: "
            "check --bar-size")


def backtest_settings(scratch: Path) -> Settings:
    """Settings of a backtest: the environment and ``config/config.yaml``
    (risk defaults, paper broker fill model), with the paper broker, no
    trading worker and any file path under ``scratch`` (nothing is written).

    Raises:
        BacktestInputError: a setting is invalid (pydantic names it) or
            the configuration file cannot be read.
    """
    try:
        return Settings(broker_type=BrokerType.PAPER, trading_worker_enabled=False,
                        replay_speed=0.0, data_dir=scratch / "store",
                        trade_log_dir=scratch / "trade-log")
    except ValidationError as error:
        raise BacktestInputError(f"invalid settings:\n{format_validation_error(error)}") from None
    except Exception as error:  # noqa: BLE001 - e.g. config.yaml is not valid YAML
        raise BacktestInputError(f"invalid settings: {error}") from None


async def _run(settings: Settings, prepared: BacktestInput) -> BacktestRun:
    from live_trading.backtest import open_backtest_services

    bars = {size: found.bars for size, found in prepared.files.items()}
    services = open_backtest_services(settings, bars=bars)
    await services.start()
    try:
        started = time.perf_counter()
        try:
            operation_id = await services.run(prepared.body)
        except InvalidSpecError as error:
            hint = " (give their bars with --higher CSV:BAR_SIZE)" \
                if error.field == "bar_sizes" else ""
            raise BacktestInputError(f"{error.field}: {error.message}{hint}") from None
        seconds = time.perf_counter() - started
        state = await services.journal.state(operation_id)
        position = dict(state.position.doc) if state.position is not None else None
        return BacktestRun(operation_id, dict(state.operation or {}),
                           services.trades(operation_id), position, seconds)
    finally:
        await services.close()


def _configure_logging(settings: Settings) -> None:
    """Warnings and errors only (the CLI reports rejected rows itself)."""
    from live_trading.observability.logs import configure_logging

    configured = logging.getLevelName(settings.logging.level.upper())
    level = max(logging.WARNING, configured) if isinstance(configured, int) else logging.WARNING
    configure_logging(logging.getLevelName(level), settings.log_format)
    logging.getLogger("live_trading.data").setLevel(logging.ERROR)


def execute(request: BacktestRequest) -> tuple[BacktestInput, BacktestRun]:
    """Read the files, then run the operation over their bars in backtest
    mode (in memory; any settings path points to a temporary directory).

    Raises:
        BacktestInputError: invalid settings, a bad file or option, or a
            field of the operation that is invalid (named, with the reason).
    """
    with tempfile.TemporaryDirectory(prefix="lt-backtest-") as scratch:
        settings = backtest_settings(Path(scratch))
        _configure_logging(settings)
        prepared = prepare(request)
        return prepared, asyncio.run(_run(settings, prepared))


def _file_report(size: BarSize, found: BarFile) -> dict[str, Any]:
    return {"path": str(found.source), "bar_size": size.value, "bars_read": len(found.bars),
            "first_bar": found.bars[0].time.isoformat(),
            "last_bar": found.bars[-1].time.isoformat(),
            "rejected": [{"line": row.line, "reason": row.reason} for row in found.rejected],
            "warning": spacing_warning(found.bars, size)}


def _trade_report(trade: dict[str, Any]) -> dict[str, Any]:
    return {"side": trade["position_type"], "entry_time": trade["entry_time"].isoformat(),
            "exit_time": trade["exit_time"].isoformat(), "entry_price": trade["entry_price"],
            "exit_price": trade["exit_price"], "quantity": trade["quantity"],
            "pnl": trade["pnl"], "commission": trade["total_commission"],
            "exit_reason": trade.get("exit_reason")}


def _position_report(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    return {"side": doc["position_type"], "quantity": abs(doc["quantity"]),
            "entry_price": doc["entry_price"], "opened_at": doc["opened_at"].isoformat()}


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
        "operation_id": run.operation_id, "asset": body.asset,
        "quote_currency": Asset.parse(body.asset).quote, "strategy_name": body.strategy_name,
        "strategy_config": run.operation.get("strategy_config"), "bar_sizes": body.bar_sizes,
        "status": run.operation.get("status"), "status_reason": run.operation.get("status_reason"),
        "files": files, "bars_read": bars,
        "bars_rejected": sum(len(f["rejected"]) for f in files),
        **stats, "net_pnl": math.fsum(pnls), "total_commission": math.fsum(commissions),
        "open_position": _position_report(run.position), "seconds": run.seconds,
        "bars_per_second": bars / run.seconds if run.seconds > 0 else None,
    }
    if with_trades:
        result["trades"] = [_trade_report(t) for t in run.trades]
    return result


MAX_REJECTED_SHOWN = 20  # rows listed in the table output (--json lists all)
PIPED_WIDTH = 120  # columns of the table output when stdout is not a terminal


def _summary_table(result: dict[str, Any]) -> Table:
    ccy = result["quote_currency"]
    table = Table(show_header=False, title=escape(
        f"backtest {result['asset']} {' + '.join(result['bar_sizes'])} "
        f"{result['strategy_name']}"))
    for f in result["files"]:
        table.add_row(f"file ({f['bar_size']})", escape(f["path"]))
        table.add_row(f"bars ({f['bar_size']})",
                      f"{f['bars_read']} read, {len(f['rejected'])} rejected; "
                      f"{_minutes(f['first_bar'])} .. {_minutes(f['last_bar'])} UTC")
    rate = f", win rate {result['win_rate']:.0%}" if result["trade_count"] else ""
    table.add_row("trades", f"{result['trade_count']} ({result['winning_trades']} won, "
                            f"{result['losing_trades']} lost{rate})")
    table.add_row(f"net P/L ({ccy})", f"{result['net_pnl']:,.2f}")
    table.add_row(f"commission ({ccy})", f"{result['total_commission']:,.2f}")
    table.add_row(f"max drawdown ({ccy})", f"{result['max_drawdown']:,.2f}")
    factor = result["profit_factor"]
    table.add_row("profit factor", "n/a (no losing trade)" if factor is None else f"{factor:.2f}")
    position = result["open_position"]
    table.add_row("position at the end", "flat" if position is None else
                  f"{position['side']} {position['quantity']:,.0f} @ {position['entry_price']:.5f}"
                  " (not in the P/L)")
    reason = result["status_reason"]
    table.add_row("final status", escape(result["status"] + (f": {reason}" if reason else "")))
    speed = result["bars_per_second"]
    table.add_row("run time", f"{result['seconds']:.3f} s"
                  + (f", {speed:,.0f} bars/s" if speed is not None else ""))
    return table


def _rejected_table(result: dict[str, Any]) -> Table | None:
    rows = [(f["path"], r) for f in result["files"] for r in f["rejected"]]
    if not rows:
        return None
    more = len(rows) - MAX_REJECTED_SHOWN
    table = Table("file", "line", "reason", title="rejected rows (skipped)",
                  caption=f"... and {more} more (--json lists all)" if more > 0 else None)
    for path, row in rows[:MAX_REJECTED_SHOWN]:
        table.add_row(escape(Path(path).name), str(row["line"]), escape(row["reason"]))
    return table


def _minutes(iso: str) -> str:
    """``2025-01-20T15:00:00+00:00`` -> ``2025-01-20 15:00`` (seconds kept if any)."""
    text = iso.replace("T", " ").removesuffix("+00:00")
    return text.removesuffix(":00") if len(text) == 19 else text


def _trades_table(result: dict[str, Any]) -> Table:
    ccy = result["quote_currency"]
    table = Table("side", title="trades", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, collapse_padding=True)
    for name in ("entry (UTC)", "exit (UTC)"):
        table.add_column(name, no_wrap=True, min_width=16)
    for name in ("entry price", "exit price", "quantity", f"P/L ({ccy})"):
        table.add_column(name, justify="right")
    table.add_column("exit reason")
    for t in result["trades"]:
        table.add_row(t["side"], _minutes(t["entry_time"]), _minutes(t["exit_time"]),
                      f"{t['entry_price']:.5f}",
                      f"{t['exit_price']:.5f}", f"{t['quantity']:,.0f}", f"{t['pnl']:,.2f}",
                      escape(str(t["exit_reason"])))
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
            err.print(f"[yellow]warning:[/yellow] {escape(Path(f['path']).name)}: "
                      f"{escape(f['warning'])}")
