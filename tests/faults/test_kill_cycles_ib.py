"""kill -9 through the IB adapter: the engine runs ``BROKER_TYPE=IBKR``
against the fake TWS in its own process (tests/faults/tws_harness.py),
killed at the fault points; after each kill ``live-trading recover`` and
every invariant (no order placed twice at the venue, every venue fill
journaled once, positions agree, journal verify clean). The long run is
``bench/ib_faults.py --cycles 50``."""

from __future__ import annotations

import random

import pytest

from tests.faults.harness import POINTS
from tests.faults.tws_harness import TWSFaultHarness

CYCLES = 6
REPLAY_SPEED = 5.0  # bars per second (see the note in tests/faults/tws_harness.py)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory):
    h = TWSFaultHarness(tmp_path_factory.mktemp("faults-ib"), replay_speed=REPLAY_SPEED)
    h.create_operations()
    yield h
    h.close()


@pytest.mark.timeout(900)
def test_kill_cycles_through_the_fake_tws_keep_every_invariant(harness) -> None:
    rng = random.Random(20261203)
    points = sorted(POINTS)
    for i in range(CYCLES):
        result = harness.cycle(rng, points[i % len(points)])
        assert result.problems == [], (i, result)
    assert harness.run_to_end() == []
