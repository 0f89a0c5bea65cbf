"""Every strategy through the engine, the journal and the paper broker on the
whole real USD-CAD hourly file (TrendFollowing also reads the daily file),
in backtest mode: the same engine with its journal in memory
(tests/integration/test_backtest_mode.py shows it journals what the engine
with its journal in the store does, entry by entry).

Each must trade, and must take the first trade worked out by hand from the
data in its unit tests (tests/unit/test_strategy_*.py).
"""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from live_trading.backtest import open_backtest_services
from live_trading.engine.specs import OperationCreate
from tests.conftest import make_settings

HOURLY = {"asset": "USD-CAD", "bar_sizes": ["1 hour"]}
CASES = {  # name -> (body, first signal: bar open time, target)
    "momentum": (
        {**HOURLY, "strategy_name": "MomentumStrategy"},
        ("2025-01-20T14:00:00+00:00", "SHORT"),
    ),
    "mean_reversion": (
        {**HOURLY, "strategy_name": "MeanReversionStrategy"},
        ("2025-01-17T09:00:00+00:00", "SHORT"),
    ),
    "trend_following": (
        {
            "asset": "USD-CAD",
            "bar_sizes": ["1 hour", "1 day"],
            "strategy_name": "TrendFollowingStrategy",
        },
        ("2025-01-17T09:00:00+00:00", "LONG"),
    ),
    "overnight_range": (
        {**HOURLY, "strategy_name": "OvernightRangeStrategy"},
        ("2025-01-16T08:00:00+00:00", "LONG"),
    ),
    "overnight_range_stop": (
        {**HOURLY, "strategy_name": "OvernightRangeStrategy", "strategy_config": {"entry": "STOP"}},
        ("2025-01-16T07:00:00+00:00", "LONG"),
    ),
}


@pytest.fixture(scope="module")
async def runs():
    services = open_backtest_services(make_settings("unused"))
    await services.start()
    ops = {
        name: await services.engine.create_operation(OperationCreate(**body), source="test")
        for name, (body, _) in CASES.items()
    }
    await services.engine.wait_idle()
    yield services, ops
    await services.close()


@pytest.mark.parametrize("name", sorted(CASES))
async def test_strategy_trades_and_takes_its_known_first_trade(runs, name) -> None:
    services, ops = runs
    op = ops[name]
    records = await services.journal_store.read(op)
    signals = [r for r in records if r.action_type == "SIGNAL_GENERATED"]
    first = signals[0].action_data
    expected_time, expected_target = CASES[name][1]
    assert (first["bar"]["time"], first["target"]) == (
        datetime.fromisoformat(expected_time),
        expected_target,
    )
    assert first["decision"].startswith("open " + expected_target)
    trades = services.trades(op)
    assert len(trades) >= 10
    state = await services.journal.state(op)
    assert math.isclose(
        state.operation["total_pnl"],
        math.fsum(t["pnl"] for t in trades),
        rel_tol=1e-9,
        abs_tol=1e-9,
    )
    assert state.status == "active"


async def test_unfilled_stop_entries_are_cancelled_not_left_working(runs) -> None:
    services, ops = runs
    state = await services.journal.state(ops["overnight_range_stop"])
    entries = [o for o in state.orders.values() if o["order_role"] == "ENTRY"]
    assert entries and all(o["order_type"] == "STOP" for o in entries)
    assert {o["status"] for o in entries} <= {"FILLED", "CANCELLED", "SUBMITTED"}
    assert sum(o["status"] == "CANCELLED" for o in entries) > 0
    assert sum(o["status"] == "SUBMITTED" for o in entries) <= 1  # only the last day's
    assert sum(o["status"] == "FILLED" for o in entries) > 0
