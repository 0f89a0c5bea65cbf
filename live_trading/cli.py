"""The ``live-trading`` command line.

``run`` serves the API and runs the engine; ``recover`` replays the journal
and rebuilds the projections; ``journal`` prints an operation's entries;
``projections rebuild`` rebuilds the read models. Errors print a message and
exit non-zero.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from live_trading.bootstrap import Services, open_services
from live_trading.config import Settings

app = typer.Typer(help="live_trading: event-sourced live trading engine", no_args_is_help=True)
projections_app = typer.Typer(help="Read models projected from the journal", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _settings() -> Settings:
    try:
        settings = Settings()
    except Exception as error:  # noqa: BLE001 - pydantic explains which setting
        err.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(2) from None
    logging.basicConfig(level=settings.logging.level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
def run(host: str = typer.Option(None, help="bind address (API_HOST)"),
        port: int = typer.Option(None, help="port (API_PORT)"),
        demo: bool = typer.Option(False, help="create a USD-CAD 1 hour MomentumStrategy "
                                              "operation when none exists")) -> None:
    """Serve the REST API and run the trading engine."""
    import uvicorn

    from live_trading.api.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings, demo=demo), host=host or settings.api_host,
                port=port or settings.api_port, log_level=settings.logging.level.lower())


def _operation_summary(services: Services) -> Callable[[str], Awaitable[dict[str, Any]]]:
    async def summary(operation_id: str) -> dict[str, Any]:
        state = await services.journal.state(operation_id)
        operation = state.operation or {}
        position = state.position
        return {
            "operation_id": operation_id, "asset": operation.get("asset"),
            "strategy": operation.get("strategy_name"), "status": state.status,
            "last_sequence": state.last_sequence,
            "open_position": None if position is None else {
                "id": position.doc["_id"], "side": position.side.value,
                "quantity": position.open_quantity, "entry_price": position.doc["entry_price"]},
            "working_orders": [o["client_order_id"] for o in state.working_orders()],
            "total_pnl": operation.get("total_pnl"), "trades": operation.get("trade_count"),
        }

    return summary


@app.command()
def recover(as_json: bool = typer.Option(False, "--json", help="print the report as JSON")
            ) -> None:
    """Replay the journal, rebuild the projections and report each operation."""
    from live_trading.journal.service import rebuild_projections

    async def work(services: Services) -> dict[str, Any]:
        counts = await rebuild_projections(services.journal_store)
        summary = _operation_summary(services)
        operations = [await summary(op) for op in await services.journal_store.operation_ids()]
        return {"projections": counts, "operations": operations}

    report = _with_services(work)
    if as_json:
        console.print_json(json.dumps(report, default=str))
        return
    table = Table("asset", "status", "seq", "position", "working", "P/L")
    table.add_column("operation", no_wrap=True)
    for op in report["operations"]:
        pos = op["open_position"]
        table.add_row(str(op["asset"]), str(op["status"]), str(op["last_sequence"]),
                      f"{pos['side']} {pos['quantity']:g} @ {pos['entry_price']:.5f}" if pos
                      else "flat", str(len(op["working_orders"])),
                      f"{op['total_pnl'] or 0:.2f}", op["operation_id"])
    console.print(table)
    console.print(f"projections rebuilt: {report['projections']}")


@app.command()
def journal(operation_id: str, after: int = typer.Option(0, help="after this sequence number"),
            limit: int = typer.Option(0, help="at most this many entries (0: all)"),
            as_json: bool = typer.Option(False, "--json", help="print JSON lines")) -> None:
    """Print an operation's journal entries in sequence order."""
    from bson import ObjectId

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
        from live_trading.api.serialize import journal_json

        for record in records:
            print(json.dumps(journal_json(record)))
        return
    table = Table("seq", "time (UTC)", "source", "action", "data")
    for r in records:
        table.add_row(str(r.sequence_number), r.timestamp.isoformat(), r.source, r.action_type,
                      json.dumps(dict(r.action_data), default=str)[:120])
    console.print(table)


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Drop the read models and rebuild them from the journal."""
    from live_trading.journal.service import rebuild_projections

    counts = _with_services(lambda services: rebuild_projections(services.journal_store))
    for collection, count in counts.items():
        console.print(f"{collection}: {count}")


if __name__ == "__main__":
    app()
