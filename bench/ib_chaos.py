"""The IB adapter under seeded chaos, many seeds: ``python bench/ib_chaos.py --seeds 100``.

Runs the broker contract suite against the fake TWS in chaos mode
(tests/fakes/tws_adversary.py: random request delays, orderStatus /
openOrder in either order, commissions late or never, duplicate
execDetails, the connection dropped before the market trades) once per
seed, and with ``--engine`` the engine-through-broker chaos test too (the
whole engine on real USD-CAD bars, compared with the paper broker; about
6 s a seed). CI runs 5 seeds of each; this is the long run. Prints the
failing seeds and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = "tests/contract/test_ibkr_contract.py"
ENGINE = "tests/integration/test_engine_through_brokers.py"


def run(seeds: int, first: int, engine: bool) -> dict:
    env = {**os.environ, "IB_CHAOS_SEEDS": f"{first}-{first + seeds - 1}", "PYTHONPATH": str(ROOT)}
    targets = [f"{CONTRACT}::TestIBKRBroker"]
    selector = "chaos"
    if engine:
        targets.append(f"{ENGINE}::test_the_engine_trades_through_a_chaotic_tws_as_through_paper")
        selector = "chaos or chaotic"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *targets,
        "-k",
        selector,
        "-q",
        "-rf",
        "-p",
        "no:cacheprovider",
    ]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    out = done.stdout + done.stderr
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", out))
    failed_ids = re.findall(r"^FAILED (\S+)", out, re.MULTILINE)
    failed_seeds = sorted(
        {int(m) for f in failed_ids for m in re.findall(r"(?:chaos|\[)(\d+)\]", f)}
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeds": seeds,
        "first_seed": first,
        "engine": engine,
        "tests_passed": passed,
        "tests_failed": len(failed_ids),
        "failed_seeds": failed_seeds,
        "failed_tests": failed_ids,
        "seconds": round(time.monotonic() - started, 1),
        "exit_code": done.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--engine",
        action="store_true",
        help="also run the engine-through-broker chaos test per seed",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/ib_chaos.json")
    args = parser.parse_args()
    result = run(args.seeds, args.first_seed, args.engine)
    print(
        f"{result['seeds']} seeds: {result['tests_passed']} tests passed, "
        f"{result['tests_failed']} failed in {result['seconds']} s"
    )
    if result["failed_seeds"]:
        print("failing seeds:", result["failed_seeds"])
        for test in result["failed_tests"]:
            print("  ", test)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["tests_failed"] == 0 and result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
