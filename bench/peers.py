"""Peers: one strategy on this engine and on the engines users would pick instead.

``python bench/peers.py`` runs the momentum strategy of the demo operation --
SMA(10)/SMA(30) crossover, long and short, 10,000 units, stop-loss 1.5 x
ATR(14) (Wilder), take-profit 2R -- on an hourly CSV file (by default the
shipped USD-CAD file, 5,116 bars) and on that file tiled to 100,000 bars,
through:

* ``live_trading backtest`` -- this engine in backtest mode, the journal in
  memory (``live_trading.backtest``);
* ``live_trading durable`` -- this engine with its journal in the embedded
  store, as ``live-trading run`` keeps it (fsync per commit);
* ``backtrader``, ``backtesting.py``, ``nautilus_trader`` -- installed by
  ``pip install -e ".[bench]"``; see ``bench/peer_strategies/`` for how each is
  configured like the paper broker, and what still differs.

Every engine is given its bars already loaded, and only its run is timed.
The engines run ``--repeat`` times per data set, one after the other in
each round (the durable engine ``--durable-repeat`` times), so a burst of
load on this shared machine hits every engine alike; the table gives the
median bars/s with the min-max spread, the trades and the net P/L (in the
quote currency of the asset: CAD for USD-CAD),
how each peer's trades line up with the engine's (same entry bar and side,
same exit bar), and each ratio of medians against its target (issue 8):
backtest mode >= 10x backtrader and nautilus_trader, the durable journal
>= 1x backtrader. JSON goes to ``bench/results/peers.json``.

``--csv PATH`` runs another file (any layout ``live_trading.data.bars_csv``
reads; rows it rejects are dropped as the engine drops them, and listed with
their line numbers); ``--asset BASE-QUOTE`` names its pair, derived from a
name like ``EURUSD_1h.csv`` (``EUR-USD``) when not given. Data sets are named
after the file (``EURUSD_1h``, ``EURUSD_1h tiled``).

``--smoke`` runs every engine once on the first 300 bars (a few seconds; CI).

Stopped early (Ctrl-C, SIGTERM, SIGHUP), it stops the durable engine's store
server before it exits (code 130) and writes no JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peer_strategies.common import (  # noqa: E402
    SAMPLE,
    PeerResult,
    asset_from_name,
    read_bars,
    tile,
)
from bench.peer_strategies.compare import compare, exits_profile  # noqa: E402
from bench.peer_strategies.ours import Durable, run_backtest  # noqa: E402
from live_trading.data.bars_csv import BarFile  # noqa: E402
from live_trading.domain.values import Asset, Bar  # noqa: E402
from live_trading.store.embedded import interrupt_on_termination  # noqa: E402

BACKTEST, DURABLE = "live_trading backtest", "live_trading durable"
TARGETS = [
    (BACKTEST, "backtrader", 10.0),
    (BACKTEST, "nautilus_trader", 10.0),
    (DURABLE, "backtrader", 1.0),
]
TILED_BARS = 100_000
SMOKE_BARS = 300
Runner = Callable[[list[Bar], dict, Asset], tuple[PeerResult, list[dict]]]


def peer_runners() -> tuple[dict[str, Runner], dict[str, str]]:
    """The peers that import here, and why the others do not."""
    runners: dict[str, Runner] = {}
    missing: dict[str, str] = {}
    for name, module in (
        ("backtrader", "backtrader_peer"),
        ("backtesting.py", "backtesting_peer"),
        ("nautilus_trader", "nautilus_peer"),
    ):
        try:
            imported = __import__(f"bench.peer_strategies.{module}", fromlist=["run"])
            runners[name] = imported.run
        except ImportError as error:
            missing[name] = f"not installed ({error}); pip install -e '.[bench]'"
    return runners, missing


def run_data_set(
    name: str, bars: list[Bar], asset: Asset, args: argparse.Namespace, durable: Durable | None
) -> dict:
    """Every engine over ``bars`` of ``asset``, interleaved; the data set's
    JSON record (P/L in the quote currency of ``asset``)."""
    index = {b.time: i for i, b in enumerate(bars)}
    peers, missing = peer_runners()
    engines: dict[str, Runner] = {BACKTEST: run_backtest, **peers}
    results: dict[str, list[PeerResult]] = {}
    trades: dict[str, list[dict]] = {}
    for round_ in range(args.repeat):
        current = dict(engines)
        if durable is not None and round_ < args.durable_repeat:
            current[DURABLE] = durable.run
        for engine, run in current.items():
            if args.engines and engine not in args.engines and engine != BACKTEST:
                continue
            try:
                result, rows = run(bars, index, asset)
            except ValueError as error:  # a peer that cannot trade this asset
                if engine in (BACKTEST, DURABLE):
                    raise
                missing[engine] = f"cannot run {asset}: {error}"
                del engines[engine]
                continue
            results.setdefault(engine, []).append(result)
            trades[engine] = rows
            print(f"  {name}: {engine:22s} {result.bars_per_second:10,.0f} bars/s", flush=True)
    record = summarise(name, bars, results, trades, missing)
    if durable is not None and DURABLE in record["engines"]:
        record["engines"][DURABLE]["store"] = durable.store
    return record


def summarise(
    name: str,
    bars: list[Bar],
    results: dict[str, list[PeerResult]],
    trades: dict[str, list[dict]],
    missing: dict[str, str],
) -> dict:
    ours = trades[BACKTEST]
    engines = {}
    for engine, runs in results.items():
        rates = [r.bars_per_second for r in runs]
        engines[engine] = {
            "bars_per_second": round(statistics.median(rates)),
            "min": round(min(rates)),
            "max": round(max(rates)),
            "seconds": [round(r.seconds, 4) for r in runs],
            "trades": runs[-1].trades,
            "net_pnl": round(runs[-1].net_pnl, 2),
            "vs_backtest": compare(ours, trades[engine]),
        }
    engines.update({engine: {"error": why} for engine, why in missing.items()})
    ratios = []
    for engine, against, target in TARGETS:
        if "bars_per_second" in engines.get(engine, {}) and "bars_per_second" in engines.get(
            against, {}
        ):
            ratio = engines[engine]["bars_per_second"] / engines[against]["bars_per_second"]
            ratios.append(
                {
                    "engine": engine,
                    "against": against,
                    "ratio": round(ratio, 2),
                    "target": target,
                    "met": ratio >= target,
                }
            )
    return {
        "name": name,
        "bars": len(bars),
        "engines": engines,
        "ratios": ratios,
        "exits": exits_profile(ours, bars),
    }


def print_table(record: dict, currency: str) -> None:
    """The data set's table; P/L in ``currency`` (the asset's quote currency)."""
    print(f"\n{record['name']} ({record['bars']:,} bars)")
    print(
        f"{'engine':22s} {'bars/s':>9s} {'min-max':>17s} {'trades':>6s} "
        f"{'net P/L ' + currency:>12s}   vs backtest: same entry, same exit, P/L gap"
    )
    for engine, row in record["engines"].items():
        if "error" in row:
            print(f"{engine:22s} {row['error']}")
            continue
        vs, spread = row["vs_backtest"], f"{row['min']:,}-{row['max']:,}"
        print(
            f"{engine:22s} {row['bars_per_second']:9,d} {spread:>17s} {row['trades']:6d} "
            f"{row['net_pnl']:12.2f}   {vs['same_entry']:5d} {vs['same_exit']:10d} "
            f"{vs['pnl_gap_same_bars']:8.2f}"
        )
    for r in record["ratios"]:
        verdict = "met" if r["met"] else "NOT MET"
        print(
            f"  {r['engine']} / {r['against']}: {r['ratio']:.2f}x "
            f"(target >= {r['target']:g}x: {verdict})"
        )
    print(f"  engine's exits: {record['exits']}")
    store = record["engines"].get(DURABLE, {}).get("store")
    if store:
        print(
            f"  durable: {store['commands']:,} store commands ({store['per_bar']} a bar), "
            f"{store['seconds_in_store']} s in the store, {store['ms_per_command']} ms each"
        )


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_args() -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=SAMPLE,
        help="the bars, a CSV file (default: the shipped USD-CAD hourly file)",
    )
    parser.add_argument(
        "--asset",
        default=None,
        help="its pair BASE-QUOTE, e.g. EUR-USD (default: from a file name like EURUSD_1h.csv)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help=f"the first {SMOKE_BARS} bars, once (CI)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine and data set")
    parser.add_argument(
        "--durable-repeat", type=int, default=1, help="runs of the durable engine per data set"
    )
    parser.add_argument("--no-durable", action="store_true", help="skip the durable engine")
    parser.add_argument(
        "--engines",
        nargs="*",
        default=None,
        help="run only these engines (and backtest mode, the reference)",
    )
    parser.add_argument(
        "--tiled-bars", type=int, default=TILED_BARS, help="bars of the tiled data set (0: skip it)"
    )
    parser.add_argument("--json", type=Path, default=Path("bench/results/peers.json"))
    return parser, parser.parse_args()


def resolve_asset(path: Path, text: str | None) -> Asset:
    """``text`` (``BASE-QUOTE``), else the pair the file name spells.

    Raises:
        ValueError: ``text`` is malformed, or not given and the name spells no pair.
    """
    if text is not None:
        return Asset.parse(text)
    asset = asset_from_name(path)
    if asset is None:
        raise ValueError(
            f"cannot tell the asset from the file name {path.name!r} "
            "(names like EURUSD_1h.csv give EUR-USD); "
            "give it as --asset BASE-QUOTE, e.g. --asset EUR-USD"
        )
    return asset


def load(parser: argparse.ArgumentParser, path: Path) -> BarFile:
    """The file's bars and rejected rows; exits (code 2, a message) when the
    file is missing, unreadable, or has fewer than two usable bars."""
    try:
        data = read_bars(path)
    except FileNotFoundError:
        parser.error(f"--csv {path}: no such file")
    except (OSError, ValueError) as error:  # the message names the file
        parser.error(f"--csv: {error}")
    if len(data.bars) < 2:
        parser.error(f"--csv {path}: {len(data.bars)} usable bars, at least 2 are needed")
    return data


def report_rejected(data: BarFile, shown: int = 20) -> list[dict]:
    """Print the rows the reader rejected (dropped, as the engine drops them)
    once; their JSON records: line number (the header is line 1) and reason."""
    rows = [{"line": r.line, "reason": r.reason} for r in data.rejected]
    if rows:
        print(
            f"{data.source.name}: {len(rows)} rows rejected and dropped, as the engine "
            f"drops them ({len(data.bars):,} bars kept):"
        )
        for row in rows[:shown]:
            print(f"  line {row['line']}: {row['reason']}")
        if len(rows) > shown:
            print(f"  ... and {len(rows) - shown} more (see the JSON)")
    return rows


def data_sets(path: Path, bars: list[Bar], args: argparse.Namespace) -> list[tuple[str, list[Bar]]]:
    """(name, bars) to run: named after the file (``EURUSD_1h``, ``EURUSD_1h tiled``)."""
    name = path.stem
    if args.smoke:
        return [(f"{name}, first bars", bars[:SMOKE_BARS])]
    sets = [(name, bars)]
    if args.tiled_bars:
        sets.append((f"{name} tiled", tile(bars, args.tiled_bars)))
    return sets


def shown_path(path: Path) -> str:
    """``path`` relative to the repository when inside it (as in the JSON)."""
    try:
        return str(path.resolve().relative_to(Path(__file__).resolve().parents[1]))
    except ValueError:
        return str(path)


def main() -> int:
    parser, args = parse_args()
    data = load(parser, args.csv)
    try:
        asset = resolve_asset(args.csv, args.asset)
    except ValueError as error:
        parser.error(f"--asset: {error}")
    if args.smoke:
        args.repeat = args.durable_repeat = 1
    started = time.monotonic()
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": "python " + " ".join(sys.argv),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "csv": shown_path(args.csv),
        "asset": asset.name,
        "currency": asset.quote,
        "rejected_rows": report_rejected(data),
        "data_sets": [],
    }
    skip = args.no_durable or (args.engines is not None and DURABLE not in args.engines)
    with nullcontext() if skip else Durable() as durable:
        for name, bars in data_sets(args.csv, data.bars, args):
            record["data_sets"].append(run_data_set(name, bars, asset, args, durable))
            print_table(record["data_sets"][-1], asset.quote)
    record["seconds"] = round(time.monotonic() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2, default=str))
    return 0


if __name__ == "__main__":
    interrupt_on_termination()
    try:
        raise SystemExit(main())
    except KeyboardInterrupt as interrupt:  # the store was stopped on the way out
        print(
            f"peers.py: interrupted ({interrupt or 'Ctrl-C'}); no results written", file=sys.stderr
        )
        raise SystemExit(130) from None
