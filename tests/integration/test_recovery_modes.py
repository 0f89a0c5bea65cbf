"""Each crash-recovery mode with a position in profit and one in loss.

The operation ends its replay holding a SHORT position; the process
'crashes'; while it is down the market moves (a bar stored with the close
at entry x factor); a new process starts and recovers.
"""

from __future__ import annotations

import pytest
from bson import ObjectId

from tests.integration.recovery_helpers import crashable, entries, move_market, run_operation

PROFIT, LOSS = 0.97, 1.03  # a SHORT gains when the price falls
LIMIT = 0.02  # emergency_stop_loss_pct


@pytest.mark.parametrize(
    ("mode", "factor", "closed"),
    [
        ("CLOSE_ALL", PROFIT, True),
        ("CLOSE_ALL", LOSS, True),
        ("RESUME", PROFIT, False),
        ("RESUME", LOSS, True),
        ("EMERGENCY_EXIT", PROFIT, False),
        ("EMERGENCY_EXIT", LOSS, True),
    ],
)
async def test_recovery_mode(mongo_url, tmp_path, mode, factor, closed) -> None:
    process = crashable(mongo_url, tmp_path)
    services = await process.boot()
    op = await run_operation(services, crash_recovery_mode=mode, emergency_stop_loss_pct=LIMIT)
    state = await services.journal.state(op)
    assert state.position is not None and state.position.side.value == "SHORT"
    position_id = state.position.doc["_id"]
    await move_market(services, op, factor)
    last_seq = state.last_sequence
    await process.crash()

    services = await process.boot()
    report = services.last_recovery
    [found] = [o for o in report["operations"] if o["operation_id"] == op]
    [plan] = found["positions"]
    assert plan["action"] == ("close" if closed else "keep")
    assert plan["unrealized_pct"] == pytest.approx(1 - factor, rel=1e-6)
    await services.engine.wait_idle()

    new = await entries(services, op, last_seq)
    recovery = [e for e in new if e.source == "recovery"]
    assert recovery[0].action_type == "RECOVERY_STARTED"
    assert recovery[-1].action_type == "RECOVERY_COMPLETED"
    assert recovery[-1].action_data["resumed"] is True
    exits = [
        e
        for e in recovery
        if e.action_type == "ORDER_SUBMITTED" and e.action_data["role"] == "EXIT"
    ]
    state = await services.journal.state(op)
    assert state.status == "active"
    if closed:
        assert len(exits) == 1
        assert exits[0].action_data["reason"].startswith(f"crash recovery: {mode}")
        assert state.position is None
        position = await services.store.db["positions"].find_one({"_id": ObjectId(position_id)})
        assert position["status"] == "CLOSED"
    else:
        assert exits == []
        assert state.position is not None and state.position.doc["_id"] == position_id
        assert len(state.working_orders()) == 2, "its stop-loss and take-profit still work"
    await services.engine.stop()
    await services.store.client.close()
