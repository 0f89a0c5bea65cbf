"""Dirty market data through the engine: bad rows reported with their line
numbers (log and journal) and never used."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bson import ObjectId

from live_trading.bootstrap import open_services
from live_trading.engine.specs import OperationCreate
from tests.conftest import SAMPLE_DATA, make_settings


def _raw_line(path: Path, number: int) -> str:
    return path.read_text().splitlines()[number - 1]


async def _run(services, asset: str) -> str:
    await services.start()
    op = await services.engine.create_operation(
        OperationCreate(asset=asset, bar_sizes=["1h"], strategy_name="MomentumStrategy"),
        source="test",
    )
    await services.engine.wait_idle()
    return op


def _rejections(records) -> list[dict]:
    return [r for r in records if r.action_type == "MARKET_DATA_REJECTED"]


async def test_eurusd_bad_rows_are_reported_and_skipped(services, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="live_trading.data")
    op = await _run(services, "EUR-USD")
    records = await services.journal_store.read(op)
    [rejected] = _rejections(records)
    assert rejected.action_data["file"] == "EURUSD_1h.csv"
    lines = [row["line"] for row in rejected.action_data["rows"]]
    assert lines == [4, 330, 1042]
    assert all("outside" in row["reason"] for row in rejected.action_data["rows"])
    for line in lines:
        assert f"EURUSD_1h.csv:{line}:" in caplog.text
        bad_time = datetime.fromisoformat(
            _raw_line(SAMPLE_DATA / "EURUSD_1h.csv", line).split(",")[0].replace("Z", "+00:00")
        )
        stored = await services.store.db["market_data_1hour"].find_one(
            {"operation_id": ObjectId(op), "timestamp": bad_time}
        )
        assert stored is None
    assert services.engine.runners[op].bars_processed == 5120 - 3
    assert (await services.journal.state(op)).operation["trade_count"] > 0


async def test_an_unseen_instrument_with_a_messy_file(mongo_url: str, tmp_path: Path) -> None:
    rows = [
        "Date,Open,High,Low,Close",
        *[f"2024-03-{d:02d},{150 + d},{151 + d},{149 + d},{150.5 + d}" for d in range(1, 29)],
    ]
    rows.insert(5, "2024-03-03,150,149,151,150")  # high < low (line 6)
    rows.insert(9, "2024-02-01,150,151,149,150")  # out of order (line 10)
    rows.insert(12, "2024-03-40,150,151,149,150")  # impossible date (line 13)
    rows.insert(15, "2024-03-20,abc,151,149,150")  # not a number (line 16)
    (tmp_path / "USDJPY_1d.csv").write_text("\n".join(rows) + "\n")
    services = await open_services(make_settings(mongo_url, replay_data_dir=tmp_path))
    try:
        await services.start()
        op = await services.engine.create_operation(
            OperationCreate(
                asset="usd-jpy",
                bar_sizes=["1 day"],
                strategy_name="MomentumStrategy",
                strategy_config={"fast_period": 3, "slow_period": 6},
            ),
            source="test",
        )
        await services.engine.wait_idle()
        [rejected] = _rejections(await services.journal_store.read(op))
        assert [r["line"] for r in rejected.action_data["rows"]] == [6, 10, 13, 16]
        assert services.engine.runners[op].bars_processed == 28  # every good row, no bad one
        operation = (await services.journal.state(op)).operation
        assert operation["asset"] == "USD-JPY"
    finally:
        await services.engine.stop()
        await services.store.client.close()
