"""The ``live-trading`` command line.

``run`` serves the API and runs the engine; ``recover`` replays the journal
and rebuilds the projections; ``journal`` prints an operation's entries;
``projections rebuild`` rebuilds the read models; ``backtest`` runs an
operation over a bar CSV file in backtest mode (in memory, no database).
Errors print a message and exit non-zero.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from live_trading.bootstrap import Services, open_services
from live_trading.config import Settings

app = typer.Typer(help="live_trading: event-sourced live trading engine", no_args_is_help=True)
projections_app = typer.Typer(help="Read models projected from the journal", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
users_app = typer.Typer(help="Users of the API and their roles", no_args_is_help=True)
app.add_typer(users_app, name="users")
trade_log_app = typer.Typer(help="The trade log files (trading mode)", no_args_is_help=True)
app.add_typer(trade_log_app, name="trade-log")
console = Console()
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
# columns of stdout when it is not a terminal (piped, redirected): wide enough
# that no table column is squeezed (`ass…`) and no line is wrapped
PIPED_WIDTH = 100_000


@app.callback()
def _output_width() -> None:
    # before every command: a terminal's own width, or PIPED_WIDTH when piped
    # rich's setter is typed int, but None restores the terminal's own width
    console.width = None if console.is_terminal else PIPED_WIDTH  # type: ignore[assignment]


def _settings() -> Settings:
    try:
        settings = Settings()
    except Exception as error:  # noqa: BLE001 - pydantic explains which setting
        err.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(2) from None
    from live_trading.observability.logs import configure_logging

    configure_logging(settings.logging.level, settings.log_format)  # LOG_FORMAT json|text
    return settings


def _with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    async def main() -> T:
        services = await open_services(_settings())
        try:
            return await work(services)
        finally:
            await services.store.close()

    try:
        return asyncio.run(main())
    except typer.Exit:
        raise
    except Exception as error:  # noqa: BLE001 - a CLI reports, it does not trace
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


@app.command()
def run(
    host: str = typer.Option(None, help="bind address (API_HOST)"),
    port: int = typer.Option(None, help="port (API_PORT)"),
    demo: bool = typer.Option(
        False, help="create a USD-CAD 1 hour MomentumStrategy operation when none exists"
    ),
) -> None:
    """Serve the REST API and run the trading engine."""
    import uvicorn

    from live_trading.api.app import create_app

    settings = _settings()
    try:
        api = create_app(settings, demo=demo)
    except ValueError as error:  # a placeholder SECRET_KEY, a malformed RATE_LIMIT_*
        err.print(f"[red]refusing to start:[/red] {error}")
        raise typer.Exit(2) from None
    uvicorn.run(
        api,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.logging.level.lower(),
        log_config=None,  # keep _settings()' logging: access logs as JSON too
        # X-Forwarded-* are believed from TRUSTED_PROXIES only, by the app
        # (live_trading/api/proxy.py); client frames carry nothing: 64 KiB
        proxy_headers=False,
        ws_max_size=65_536,
    )


def _print_recovery(report: dict[str, Any]) -> None:
    title = "recovery plan (dry run: nothing done)" if report["dry_run"] else "recovery report"
    table = Table(
        "asset",
        "status",
        "mode",
        "in flight",
        "fills to adopt",
        "orders adopt/cancel",
        "positions",
        title=title,
    )
    table.add_column("operation", no_wrap=True)
    for op in report["operations"]:
        positions = (
            "; ".join(
                f"{p['side']} {p['quantity']:g}: {p['action']} ({p['reason']})"
                for p in op["positions"]
            )
            or "flat"
        )
        table.add_row(
            str(op["asset"]),
            str(op.get("status")),
            str(op["mode"]),
            str(len(op["in_flight"])),
            str(len(op["fills_to_adopt"])),
            f"{len(op['orders_to_adopt'])}/{len(op['orders_to_cancel'])}",
            positions,
            op["operation_id"],
        )
    console.print(table)
    if not report["dry_run"]:
        console.print(f"archived journal entries: {report['archived_entries']}")


@app.command()
def recover(
    dry_run: bool = typer.Option(False, "--dry-run", help="print the plan, change nothing"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    rebuild: bool = typer.Option(False, help="also rebuild every projection first"),
) -> None:
    """Recover after a crash: replay the journal, reconcile with the broker,
    apply each operation's crash-recovery mode (run by `run` at start too)."""
    from live_trading.journal.service import rebuild_projections

    async def work(services: Services) -> dict[str, Any]:
        if not dry_run:
            await services.store.abort_orphaned_transactions()
        if rebuild and not dry_run:
            await rebuild_projections(services.journal_store)
        await services.engine.deps.broker.connect()
        return await services.recovery.run(dry_run=dry_run)

    report = _with_services(work)
    if as_json:
        print(json.dumps(report, default=str, indent=2))
    else:
        _print_recovery(report)


def _journal_verify() -> None:
    from live_trading.journal.verify import verify_journal

    problems = _with_services(lambda services: verify_journal(services.journal_store))
    bad = {op: found for op, found in problems.items() if found}
    for op, found in bad.items():
        for problem in found:
            err.print(f"[red]{op}[/red]: {problem}")
    console.print(f"{len(problems)} operations checked, {len(bad)} with problems")
    if bad:
        raise typer.Exit(1)


def _journal_archive() -> None:
    moved = _with_services(lambda services: services.recovery.archive_closed())
    console.print(f"archived journal entries: {moved}")


@app.command()
def journal(
    operation_id: str = typer.Argument(
        ...,
        help="an operation id, or `verify` (check every operation's sequence "
        "and that projections equal a rebuild; exit 1 if not), or `archive` "
        "(move old entries of closed operations to journal_archive)",
    ),
    after: int = typer.Option(0, help="after this sequence number"),
    limit: int = typer.Option(0, help="at most this many entries (0: all)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON lines"),
) -> None:
    """Print an operation's journal entries in sequence order (or verify/archive)."""
    from bson import ObjectId

    if operation_id in ("verify", "archive"):
        (_journal_verify if operation_id == "verify" else _journal_archive)()
        return
    if not ObjectId.is_valid(operation_id):
        err.print(f"[red]error:[/red] {operation_id!r} is not an operation id")
        raise typer.Exit(2)

    async def work(services: Services):
        return await services.journal_store.read(operation_id, after, limit or None)

    records = _with_services(work)
    if not records and after == 0:
        err.print(f"[red]error:[/red] no journal entries for operation {operation_id}")
        raise typer.Exit(1)
    if as_json:
        from live_trading.journal.serialize import journal_json

        for record in records:
            print(json.dumps(journal_json(record)))
        return
    table = Table("seq", "time (UTC)", "source", "action", "data")
    for r in records:
        table.add_row(
            str(r.sequence_number),
            r.timestamp.isoformat(),
            r.source,
            r.action_type,
            json.dumps(dict(r.action_data), default=str)[:120],
        )
    console.print(table)


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Drop the read models and rebuild them from the journal."""
    from live_trading.journal.service import rebuild_projections

    counts = _with_services(lambda services: rebuild_projections(services.journal_store))
    for collection, count in counts.items():
        console.print(f"{collection}: {count}")


@trade_log_app.command("rebuild")
def trade_log_rebuild() -> None:
    """Delete the trade log directories under TRADE_LOG_DIR and write them
    again from the journal (byte-identical to what the server writes)."""
    settings = _settings()
    if settings.mode != "trading":
        err.print(
            "[red]error:[/red] MODE=simulation keeps no trade log files (run with MODE=trading)"
        )
        raise typer.Exit(2)

    async def work(services: Services) -> dict[str, int]:
        assert services.trade_log is not None
        return await services.trade_log.rebuild()

    counts = _with_services(work)
    for name, count in counts.items():
        console.print(f"{settings.trade_log_dir / name}: {count} records")
    console.print(f"{len(counts)} trade log directories written")


@users_app.command("create")
def users_create(
    username: str = typer.Option(..., "--username", "-u", prompt=True, help="login name"),
    role: str = typer.Option("viewer", "--role", help="viewer, trader or admin"),
    password: str = typer.Option(
        ...,
        "--password",
        envvar="LT_USER_PASSWORD",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="at least 8 characters (or LT_USER_PASSWORD)",
    ),
    exist_ok: bool = typer.Option(
        False, "--exist-ok", help="succeed, changing nothing, if the user exists"
    ),
) -> None:
    """Create a user (the first one with --role admin)."""
    from live_trading.security import Role, UserExistsError, create_user

    try:
        chosen = Role(role.lower())
    except ValueError:
        err.print(f"[red]error:[/red] --role must be viewer, trader or admin, not {role!r}")
        raise typer.Exit(2) from None

    async def work(services: Services) -> bool:
        try:
            await create_user(username, password, chosen)
        except UserExistsError:
            if not exist_ok:
                raise
            return False
        return True

    created = _with_services(work)
    console.print(
        f"created user {username!r} with role {chosen}"
        if created
        else f"user {username!r} exists already: unchanged"
    )


@app.command()
def backtest(
    csv: Annotated[
        Path,
        typer.Argument(
            help="bar CSV file of the primary bar size (time,open,high,low,close[,volume]; "
            "see live_trading.data.bars_csv)"
        ),
    ],
    asset: Annotated[
        str | None,
        typer.Option(
            help="BASE-QUOTE, e.g. USD-CAD (default: from a file named like USDCAD_1h.csv)"
        ),
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="strategy name (default: MomentumStrategy)")
    ] = None,
    bar_size: Annotated[
        str | None,
        typer.Option(
            "--bar-size",
            help="of CSV, e.g. '1 hour' or 1h (default: from the file name, else '1 hour')",
        ),
    ] = None,
    higher: Annotated[
        list[str] | None,
        typer.Option(
            "--higher",
            metavar="CSV:BAR_SIZE",
            help="bars of a higher bar size the strategy reads, e.g. USDCAD_1d.csv:1d (repeatable)",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=VALUE",
            help="strategy_config entry; VALUE read as JSON "
            "when it parses, else a string (repeatable)",
        ),
    ] = None,
    quantity: Annotated[float | None, typer.Option(help="order size in base units")] = None,
    spec: Annotated[
        str | None,
        typer.Option(
            metavar="JSON",
            help='further operation fields, e.g. \'{"stop_loss_type": '
            '"PERCENTAGE", "stop_loss_value": 0.01}\'; the options '
            "above override it",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    trades: Annotated[bool, typer.Option("--trades", help="also list every trade")] = False,
) -> None:
    """Run an operation over bar CSV files in backtest mode (no database).

    The engine keeps its journal in memory; no file is written. Dirty rows are
    skipped and reported by line number. P/L in quote currency, quantities in
    base units, times UTC. Exit 2 on bad input (the field at fault is named),
    1 if the operation ended in error."""
    from rich.markup import escape

    from live_trading import backtest_cli as bt

    request = bt.BacktestRequest(
        csv, asset, strategy, bar_size, higher or [], param or [], quantity, spec
    )
    try:
        prepared, result = bt.execute(request)
    except bt.BacktestInputError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(2) from None
    report = bt.report(prepared, result, with_trades=trades)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        bt.print_report(console, err, report)
    if report["status"] == "error":
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
