"""Property: whatever the crash point, recovery ends with every invariant.

Hypothesis picks the fault point and the hit count; each example kills a
real server there, recovers, and checks the invariants of the harness.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.harness import POINTS

REPLAY_SPEED = 200.0
NAMED_POINTS = sorted(p for p in POINTS if p != "random_time")


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(point=st.sampled_from(NAMED_POINTS), hits=st.integers(min_value=1, max_value=40))
def test_any_crash_point_recovers_to_a_consistent_state(harness, point, hits) -> None:
    result = harness.cycle(random.Random(hits), point, hits)
    assert result.problems == [], result
