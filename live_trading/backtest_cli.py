"""``live-trading backtest``: backtest mode on bar CSV files, no database.

The command reads the primary bar file (and any higher bar size files) with
:func:`~live_trading.data.bars_csv.read_bars_csv`, skipping dirty rows (each
reported with its line number), builds the operation's
:class:`~live_trading.engine.specs.OperationCreate` from the options, runs it
with :func:`~live_trading.backtest.open_backtest_services` (journal, bars and
paper broker book in memory) and reports the closed trades (:mod:`live_trading.backtest_output`).

Conventions: prices and P/L in the quote currency of the asset (USD-CAD:
CAD), quantities in base units (USD), times UTC. Input errors raise
:class:`BacktestInputError`, which the CLI prints and turns into exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from live_trading.backtest_output import (  # re-exported: the CLI's names
    MAX_REJECTED_SHOWN,
    PIPED_WIDTH,
    BacktestInput,
    BacktestRun,
    print_report,
    report,
    spacing_warning,
)
from live_trading.config import BrokerType, Settings
from live_trading.data.bars_csv import BarFile, read_bars_csv
from live_trading.domain.values import BarSize
from live_trading.engine.specs import InvalidSpecError, OperationCreate

__all__ = [
    "DEFAULT_BAR_SIZE",
    "DEFAULT_STRATEGY",
    "MAX_REJECTED_SHOWN",
    "PIPED_WIDTH",
    "BacktestInput",
    "BacktestInputError",
    "BacktestRequest",
    "BacktestRun",
    "backtest_settings",
    "build_body",
    "execute",
    "format_validation_error",
    "infer_from_name",
    "parse_higher",
    "parse_params",
    "prepare",
    "print_report",
    "read_bar_file",
    "report",
    "spacing_warning",
]

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
        raise BacktestInputError(
            f"{path}: no valid bar ({len(found.rejected)} rows rejected{detail})"
        )
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
        raise BacktestInputError(
            f"--higher {text!r}: expected CSV:BAR_SIZE, e.g. USDCAD_1d.csv:'1 day'"
        )
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
        raise BacktestInputError(
            "--spec: expected a JSON object, e.g. "
            '\'{"stop_loss_type": "PERCENTAGE", "stop_loss_value": 0.01}\''
        )
    for key in _SET_BY_FILES:
        if key in spec:
            raise BacktestInputError(
                f"--spec: {key} is set by the CSV files (--bar-size, --higher), not by --spec"
            )
    return spec


def format_validation_error(error: ValidationError) -> str:
    """One ``field: reason`` line per error of ``error``."""
    lines = []
    for found in error.errors():
        where = ".".join(str(part) for part in found["loc"]) or "body"
        lines.append(f"{where}: {found['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def build_body(
    request: BacktestRequest, primary: BarSize, higher: list[BarSize], inferred_asset: str | None
) -> OperationCreate:
    """The operation's body: ``--spec`` first, then the other options over it.

    Raises:
        BacktestInputError: bad ``--spec``/``--param``, no asset, or a field
            that :class:`OperationCreate` rejects (each named with the reason).
    """
    body = _parse_spec(request.spec)
    asset = request.asset or body.get("asset") or inferred_asset
    if asset is None:
        raise BacktestInputError(
            f"--asset is required: {request.csv.name} does not name one "
            "(a file named like USDCAD_1h.csv does)"
        )
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
            raise BacktestInputError(
                f"--higher {text!r}: bar size {size.value!r} already given by {paths[size]}"
            )
        paths[size] = path
    files = {size: read_bar_file(path) for size, path in paths.items()}
    return BacktestInput(files, build_body(request, primary, list(paths)[1:], inferred_asset))


def backtest_settings(scratch: Path) -> Settings:
    """Settings of a backtest: the environment and ``config/config.yaml``
    (risk defaults, paper broker fill model), with the paper broker, no
    trading worker and any file path under ``scratch`` (nothing is written).

    Raises:
        BacktestInputError: a setting is invalid (pydantic names it) or
            the configuration file cannot be read.
    """
    try:
        return Settings(
            broker_type=BrokerType.PAPER,
            trading_worker_enabled=False,
            replay_speed=0.0,
            data_dir=scratch / "store",
            trade_log_dir=scratch / "trade-log",
        )
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
            hint = (
                " (give their bars with --higher CSV:BAR_SIZE)"
                if error.field == "bar_sizes"
                else ""
            )
            raise BacktestInputError(f"{error.field}: {error.message}{hint}") from None
        seconds = time.perf_counter() - started
        state = await services.journal.state(operation_id)
        position = dict(state.position.doc) if state.position is not None else None
        return BacktestRun(
            operation_id,
            dict(state.operation or {}),
            services.trades(operation_id),
            position,
            seconds,
        )
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
