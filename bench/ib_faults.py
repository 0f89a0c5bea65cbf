"""kill -9 through the IB adapter, long run: ``python bench/ib_faults.py --cycles 50``.

The engine (``live-trading run``, ``BROKER_TYPE=IBKR``) trades the real
USD-CAD file through the fake TWS running as its own process, which
outlives every kill (tests/faults/tws_harness.py). Each cycle kills the
engine at a random fault point or time, runs ``live-trading recover`` and
checks: no order placed twice at the venue, every venue fill journaled
exactly once, positions agree, journal verify clean, nothing halted. Then
one clean run to the end, checked strictly. Prints a line per cycle and
writes JSON. ``--walk`` also moves the venue's market at random (stops and
limits fill at any time, also while the engine is down).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.tws_harness import TWSFaultHarness


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--speed",
        type=float,
        default=8.0,
        help="replay bars per second "
        "(30+ exposes the order manager's race, see tests/faults/tws_harness.py)",
    )
    parser.add_argument("--walk", action="store_true")
    parser.add_argument("--json", type=Path, default=Path("bench/results/ib_faults.json"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    harness = TWSFaultHarness(
        Path(tempfile.mkdtemp(prefix="lt-ib-faults-")), replay_speed=args.speed, walk=args.walk
    )
    started = time.monotonic()
    by_point: Counter = Counter()
    recovered: Counter = Counter()
    failures, killed = [], 0
    try:
        harness.create_operations()
        for i in range(args.cycles):
            result = harness.cycle(rng)
            by_point[result.point] += 1
            recovered.update(result.recovered)
            killed += result.died_by_fault or result.point == "random_time"
            if result.problems:
                failures.append(
                    {
                        "cycle": i,
                        "point": result.point,
                        "hits": result.hits,
                        "problems": result.problems,
                    }
                )
            print(
                f"{i:4d} {result.point:20s} hits={result.hits:<4d} "
                f"{result.seconds:5.1f}s problems={len(result.problems)}",
                flush=True,
            )
        final = harness.run_to_end()
        venue = json.loads(harness.state.read_text())
    finally:
        harness.close()
    summary = {
        "cycles": args.cycles,
        "killed": killed,
        "seed": args.seed,
        "walk": args.walk,
        "seconds": round(time.monotonic() - started, 1),
        "by_point": dict(by_point),
        "recovered": dict(recovered),
        "venue_orders": len(venue["orders"]),
        "venue_fills": len(venue["executions"]),
        "orders_placed_twice": sum(n > 1 for n in venue["placed"].values()),
        "cycles_with_problems": len(failures),
        "failures": failures,
        "final_run_problems": final,
        "log_dir": str(harness.workdir),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=2))
    return 1 if failures or final else 0


if __name__ == "__main__":
    raise SystemExit(main())
