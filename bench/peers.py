"""Peers: one strategy on this engine and on the engines users would pick instead.

``python bench/peers.py`` runs the momentum strategy of the demo operation --
SMA(10)/SMA(30) crossover, long and short, 10,000 units, stop-loss 1.5 x
ATR(14) (Wilder), take-profit 2R -- on the real USD-CAD hourly file (5,116
bars) and on that file tiled to 100,000 bars, through:

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
median bars/s with the min-max spread, the trades and the net P/L (CAD),
how each peer's trades line up with the engine's (same entry bar and side,
same exit bar), and each ratio of medians against its target (issue 8):
backtest mode >= 10x backtrader and nautilus_trader, the durable journal
>= 1x backtrader. JSON goes to ``bench/results/peers.json``.

``--smoke`` runs every engine once on 300 bars (a few seconds; CI).
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

from bench.peer_strategies.common import PeerResult, load_bars, tile  # noqa: E402
from bench.peer_strategies.compare import compare, exits_profile  # noqa: E402
from bench.peer_strategies.ours import Durable, run_backtest  # noqa: E402
from live_trading.domain.values import Bar  # noqa: E402

BACKTEST, DURABLE = "live_trading backtest", "live_trading durable"
TARGETS = [(BACKTEST, "backtrader", 10.0), (BACKTEST, "nautilus_trader", 10.0),
           (DURABLE, "backtrader", 1.0)]
TILED_BARS = 100_000
SMOKE_BARS = 300
Runner = Callable[[list[Bar], dict], tuple[PeerResult, list[dict]]]


def peer_runners() -> tuple[dict[str, Runner], dict[str, str]]:
    """The peers that import here, and why the others do not."""
    runners: dict[str, Runner] = {}
    missing: dict[str, str] = {}
    for name, module in (("backtrader", "backtrader_peer"),
                         ("backtesting.py", "backtesting_peer"),
                         ("nautilus_trader", "nautilus_peer")):
        try:
            imported = __import__(f"bench.peer_strategies.{module}", fromlist=["run"])
            runners[name] = imported.run
        except ImportError as error:
            missing[name] = f"not installed ({error}); pip install -e '.[bench]'"
    return runners, missing


def run_data_set(name: str, bars: list[Bar], args: argparse.Namespace,
                 durable: Durable | None) -> dict:
    """Every engine over ``bars``, interleaved; the data set's JSON record."""
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
            result, rows = run(bars, index)
            results.setdefault(engine, []).append(result)
            trades[engine] = rows
            print(f"  {name}: {engine:22s} {result.bars_per_second:10,.0f} bars/s",
                  flush=True)
    record = summarise(name, bars, results, trades, missing)
    if durable is not None and DURABLE in record["engines"]:
        record["engines"][DURABLE]["store"] = durable.store
    return record


def summarise(name: str, bars: list[Bar], results: dict[str, list[PeerResult]],
              trades: dict[str, list[dict]], missing: dict[str, str]) -> dict:
    ours = trades[BACKTEST]
    engines = {}
    for engine, runs in results.items():
        rates = [r.bars_per_second for r in runs]
        engines[engine] = {
            "bars_per_second": round(statistics.median(rates)),
            "min": round(min(rates)), "max": round(max(rates)),
            "seconds": [round(r.seconds, 4) for r in runs], "trades": runs[-1].trades,
            "net_pnl": round(runs[-1].net_pnl, 2),
            "vs_backtest": compare(ours, trades[engine]),
        }
    engines.update({engine: {"error": why} for engine, why in missing.items()})
    ratios = []
    for engine, against, target in TARGETS:
        if "bars_per_second" in engines.get(engine, {}) and \
                "bars_per_second" in engines.get(against, {}):
            ratio = engines[engine]["bars_per_second"] / engines[against]["bars_per_second"]
            ratios.append({"engine": engine, "against": against, "ratio": round(ratio, 2),
                           "target": target, "met": ratio >= target})
    return {"name": name, "bars": len(bars), "engines": engines, "ratios": ratios,
            "exits": exits_profile(ours, bars)}


def print_table(record: dict) -> None:
    print(f"\n{record['name']} ({record['bars']:,} bars)")
    print(f"{'engine':22s} {'bars/s':>9s} {'min-max':>17s} {'trades':>6s} {'net P/L':>10s}"
          "   vs backtest: same entry, same exit, P/L gap")
    for engine, row in record["engines"].items():
        if "error" in row:
            print(f"{engine:22s} {row['error']}")
            continue
        vs, spread = row["vs_backtest"], f"{row['min']:,}-{row['max']:,}"
        print(f"{engine:22s} {row['bars_per_second']:9,d} {spread:>17s} {row['trades']:6d} "
              f"{row['net_pnl']:10.2f}   {vs['same_entry']:5d} {vs['same_exit']:10d} "
              f"{vs['pnl_gap_same_bars']:8.2f}")
    for r in record["ratios"]:
        verdict = "met" if r["met"] else "NOT MET"
        print(f"  {r['engine']} / {r['against']}: {r['ratio']:.2f}x "
              f"(target >= {r['target']:g}x: {verdict})")
    print(f"  engine's exits: {record['exits']}")
    store = record["engines"].get(DURABLE, {}).get("store")
    if store:
        print(f"  durable: {store['commands']:,} store commands ({store['per_bar']} a bar), "
              f"{store['seconds_in_store']} s in the store, {store['ms_per_command']} ms each")


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="300 bars, once (CI)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine and data set")
    parser.add_argument("--durable-repeat", type=int, default=1,
                        help="runs of the durable engine per data set")
    parser.add_argument("--no-durable", action="store_true", help="skip the durable engine")
    parser.add_argument("--engines", nargs="*", default=None,
                        help="run only these engines (and backtest mode, the reference)")
    parser.add_argument("--tiled-bars", type=int, default=TILED_BARS,
                        help="bars of the tiled data set (0: skip it)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/peers.json"))
    args = parser.parse_args()
    bars = load_bars()
    if args.smoke:
        args.repeat = args.durable_repeat = 1
        data_sets = [("USDCAD_1h, first bars", bars[:SMOKE_BARS])]
    else:
        data_sets = [("USDCAD_1h", bars)]
        if args.tiled_bars:
            data_sets.append(("USDCAD_1h tiled", tile(bars, args.tiled_bars)))
    started = time.monotonic()
    record = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit(),
              "command": "python " + " ".join(sys.argv), "python": platform.python_version(),
              "cpus": os.cpu_count(), "load_average": os.getloadavg(), "data_sets": []}
    skip = args.no_durable or (args.engines is not None and DURABLE not in args.engines)
    with nullcontext() if skip else Durable() as durable:
        for name, data in data_sets:
            record["data_sets"].append(run_data_set(name, data, args, durable))
            print_table(record["data_sets"][-1])
    record["seconds"] = round(time.monotonic() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
