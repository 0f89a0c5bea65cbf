"""Long fault-injection run: ``python bench/faults.py --cycles 300``.

Kills the real server (embedded store, real USD-CAD data) at random fault
points and random times, recovers and checks every invariant after each
cycle (see tests/faults/harness.py). Prints a table and writes JSON.
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

from tests.faults.harness import FaultHarness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=40.0, help="replay bars per second")
    parser.add_argument("--json", type=Path, default=Path("bench/results/faults.json"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    harness = FaultHarness(Path(tempfile.mkdtemp(prefix="lt-faults-")), replay_speed=args.speed)
    started = time.monotonic()
    by_point: Counter = Counter()
    recovered: Counter = Counter()
    failures = []
    try:
        harness.create_operations()
        for i in range(args.cycles):
            result = harness.cycle(rng)
            by_point[result.point] += 1
            recovered.update(result.recovered)
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
    finally:
        harness.close()
    summary = {
        "cycles": args.cycles,
        "seed": args.seed,
        "seconds": time.monotonic() - started,
        "by_point": dict(by_point),
        "recovered": dict(recovered),
        "failures": failures,
        "final_run_problems": final,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 1 if failures or final else 0


if __name__ == "__main__":
    raise SystemExit(main())
