"""Simulation mode streams strategy signals and simulated trade events.

A ``MODE=simulation`` server replays 400 real USD-CAD hours while a
``/ws/overall`` client watches; the ``signal`` and ``trade_event`` messages
it receives are compared with the journal and the read models.
"""

from __future__ import annotations

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import LiveServer, unique_db
from tests.integration.recovery_helpers import truncated_replay_dir
from tests.integration.test_live_feed import FeedClient, until, wait_idle, ws_url

OPERATION = {"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "MomentumStrategy"}


@pytest.mark.timeout(180)
async def test_signals_and_simulated_trades_go_out_on_the_feed(mongo_url, tmp_path):
    db_name = unique_db()
    server = LiveServer(
        {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB_NAME": db_name,
            "MODE": "simulation",
            "REPLAY_SPEED": "200",
            "FEED_POLL_SECONDS": "0.1",
            "REPLAY_DATA_DIR": str(truncated_replay_dir(tmp_path / "r", 400)),
        },
        tmp_path / "server.log",
    ).start()
    try:
        client = await FeedClient(ws_url(server, "/ws/overall", token=server.token())).start()
        await until(lambda: any(m["type"] == "hello" for m in client.messages))
        async with httpx.AsyncClient(
            base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {server.token()}"}
        ) as http:
            assert (await http.get("/api/v1/mode")).json()["mode"] == "simulation"
            op = (await http.post("/api/operations", json=OPERATION)).json()["id"]
            await wait_idle(http)
        db = MongoClient(mongo_url, tz_aware=True)[db_name]
        last = db.trading_operations.find_one()["last_sequence_number"]
        await until(lambda: client.last(op) == last)
        await client.stop()
    finally:
        server.stop()
    signals = [m for m in client.messages if m["type"] == "signal"]
    journal_signals = list(
        db.journal.find({"action_type": "SIGNAL_GENERATED"}, sort=[("sequence_number", 1)])
    )
    assert [m["sequence_number"] for m in signals] == [
        e["sequence_number"] for e in journal_signals
    ]
    assert [m["target"] for m in signals] == [e["action_data"]["target"] for e in journal_signals]
    events = [m["event"] for m in client.messages if m["type"] == "trade_event"]
    exits = [e for e in events if e["type"] == "exit"]
    trades = list(db.trades.find({}, sort=[("exit_time", 1)]))
    assert trades and [e["closePrice"] for e in exits] == pytest.approx(
        [t["exit_price"] for t in trades]
    )
    entries = [e for e in events if e["type"] == "entry"]
    assert sorted(e["tradeId"] for e in entries) == sorted(
        str(p["_id"]) for p in db.positions.find()
    )
    order = [
        (m["type"], m["sequence_number"])
        for m in client.messages
        if m["type"] in ("journal_entry", "trade_event")
    ]
    for index, (kind, sequence) in enumerate(order):  # each follows its own entry
        if kind == "trade_event":
            assert ("journal_entry", sequence) in order[:index]
