"""Backtest mode is the same engine: on the same bars it journals the same
events and makes the same trades as the engine with its journal in the
store, and its read models equal a rebuild from its journal."""

from __future__ import annotations

from typing import Any

import pytest

from live_trading.backtest import memory_source_factory, open_backtest_services
from live_trading.bootstrap import open_services
from live_trading.data.bars_csv import read_bars_csv
from live_trading.domain.values import BarSize
from live_trading.engine.specs import OperationCreate
from live_trading.journal.service import rebuild_projections
from tests.conftest import SAMPLE_DATA, make_settings

BODY = OperationCreate(asset="USD-CAD", strategy_name="MomentumStrategy", bar_sizes=["1 hour"])
BARS = 1500  # about 60 trades: long and short, stop-loss, take-profit and reversals


@pytest.fixture(scope="module")
def bars():
    return {BarSize.HOUR_1: read_bars_csv(SAMPLE_DATA / "USDCAD_1h.csv").bars[:BARS]}


@pytest.fixture(scope="module")
async def backtest(bars):
    services = open_backtest_services(make_settings("unused"), bars=bars)
    await services.start()
    operation_id = await services.run(BODY)
    yield services, operation_id
    await services.close()


@pytest.fixture(scope="module")
async def durable(mongo_url, bars):
    services = await open_services(make_settings(mongo_url))
    services.engine.deps.source_factory = memory_source_factory(bars)
    services.engine.uses_replay = False
    await services.start()
    operation_id = await services.engine.create_operation(BODY, source="backtest")
    await services.engine.wait_idle()
    yield services, operation_id
    await services.engine.stop()
    await services.store.client.close()


def _trade(doc: dict[str, Any]) -> tuple:
    return (
        doc["position_type"],
        doc["entry_time"],
        doc["exit_time"],
        doc["entry_price"],
        doc["exit_price"],
        doc["quantity"],
        round(doc["pnl"], 9),
        doc["exit_reason"],
    )


def _entry(record) -> tuple:
    data = {
        k: v
        for k, v in record.action_data.items()
        if k
        not in (
            "client_order_id",
            "broker_order_id",
            "execution_id",
            "parent_client_order_id",
            "oco_group",
        )
    }
    return record.sequence_number, record.action_type, record.source, repr(sorted(data.items()))


async def test_the_same_trades_as_with_the_durable_journal(backtest, durable) -> None:
    memory, memory_op = backtest
    stored, stored_op = durable
    from bson import ObjectId

    theirs = (
        await stored.store.db["trades"].find({"operation_id": ObjectId(stored_op)}).to_list(None)
    )
    ours = memory.trades(memory_op)
    assert len(ours) > 40
    assert sorted(map(_trade, ours)) == sorted(map(_trade, theirs))


async def test_the_same_journal_entries_as_with_the_durable_journal(backtest, durable) -> None:
    memory, memory_op = backtest
    stored, stored_op = durable
    ours = [_entry(r) for r in await memory.journal_store.read(memory_op)]
    theirs = [_entry(r) for r in await stored.journal_store.read(stored_op)]
    assert [e[:3] for e in ours] == [e[:3] for e in theirs]
    assert [e[3] for e in ours if "OPERATION" not in e[1]] == [
        e[3] for e in theirs if "OPERATION" not in e[1]
    ]


async def test_read_models_equal_a_rebuild_from_the_journal(backtest) -> None:
    memory, _ = backtest
    store = memory.journal_store
    before = {
        name: sorted(store.documents(name), key=lambda d: d["_id"])
        for name in ("trading_operations", "orders", "transactions", "positions", "trades")
    }
    await rebuild_projections(store)
    after = {name: sorted(store.documents(name), key=lambda d: d["_id"]) for name in before}
    assert after == before
    assert len(before["orders"]) > 100
