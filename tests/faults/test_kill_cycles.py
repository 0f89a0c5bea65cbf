"""kill -9 at every fault point, over and over, on the real USD-CAD data.

20 cycles round-robin over the fault points (each with a random hit count),
every invariant checked after each; then one clean run to the end of the
file. The long run (hundreds of cycles) is ``bench/faults.py``.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from tests.faults.harness import POINTS, FaultHarness

CYCLES = 20
REPLAY_SPEED = 150.0


def test_twenty_kill_cycles_keep_every_invariant(harness: FaultHarness) -> None:
    rng = random.Random(20251111)
    points = sorted(POINTS)
    recovered: Counter = Counter()
    killed = 0
    for i in range(CYCLES):
        result = harness.cycle(rng, points[i % len(points)])
        assert result.problems == [], (i, result)
        recovered.update(result.recovered)
        killed += result.died_by_fault or result.point == "random_time"
    assert killed >= CYCLES - 2, "the faults must actually kill the server"
    assert recovered["in flight"] > 0, "some kills must leave orders in flight"
    assert harness.run_to_end() == []


def test_the_log_shows_no_unhandled_error(harness: FaultHarness) -> None:
    text = Path(harness.log).read_text()
    assert "Traceback" not in text, text[text.find("Traceback") :][:3000]
