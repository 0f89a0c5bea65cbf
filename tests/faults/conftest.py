"""A fault harness per module: operations created, the store owned by it."""

from __future__ import annotations

import pytest

from tests.faults.harness import FaultHarness


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, request):
    speed = getattr(request.module, "REPLAY_SPEED", 150.0)
    h = FaultHarness(tmp_path_factory.mktemp("faults"), replay_speed=speed)
    h.create_operations()
    yield h
    h.close()
