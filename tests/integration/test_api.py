"""The REST API over real HTTP: validation, lifecycle commands, manual close.

The server replays the first 120 hourly USD-CAD bars, after which the
MomentumStrategy operation holds an open SHORT position (2 trades closed).
"""

from __future__ import annotations

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from tests.conftest import SAMPLE_DATA, LiveServer, unique_db

BARS = 120
VALID = {"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "MomentumStrategy"}


@pytest.fixture(scope="module")
def api(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("replay")
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[: BARS + 1]
    (data / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    db_name = unique_db()
    server = LiveServer(
        {"MONGODB_URL": mongo_url, "MONGODB_DB_NAME": db_name, "REPLAY_DATA_DIR": str(data)},
        tmp_path_factory.mktemp("logs") / "server.log",
    ).start()
    db = MongoClient(mongo_url, tz_aware=True)[db_name]
    with server.client() as http:
        yield http, db, server
    server.stop()


def _create(http: httpx.Client, **overrides) -> dict:
    response = http.post("/api/operations", json={**VALID, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy_name": "NoSuchStrategy"}, ["body", "strategy_name"]),
        ({"asset": "USDCAD"}, ["body", "asset"]),
        ({"asset": "GBP-JPY"}, ["body", "asset"]),
        ({"bar_sizes": ["2 hours"]}, ["body", "bar_sizes"]),
        ({"bar_sizes": []}, ["body", "bar_sizes"]),
        ({"primary_bar_size": "1 day"}, ["body", "primary_bar_size"]),
        ({"stop_loss_value": -1}, ["body", "stop_loss_value"]),
        ({"stop_loss_type": "MAGIC"}, ["body", "stop_loss_type"]),
        ({"take_profit_type": "RISK_REWARDS"}, ["body", "take_profit_type"]),
        ({"quantity": 0}, ["body", "quantity"]),
        ({"quantity": 1e12}, ["body", "quantity"]),
        ({"emergency_stop_loss_pct": 1.5}, ["body", "emergency_stop_loss_pct"]),
        ({"crash_recovery_mode": "PRAY"}, ["body", "crash_recovery_mode"]),
        ({"data_retention_bars": 10}, ["body", "data_retention_bars"]),
        (
            {"strategy_config": {"fast_period": 50, "slow_period": 10}},
            ["body", "strategy_config", "fast_period"],
        ),
        ({"strategy_config": {"window": 3}}, ["body", "strategy_config", "window"]),
        ({"colour": "red"}, ["body", "colour"]),
    ],
)
def test_bad_operation_input_is_422_naming_the_field_and_journals_nothing(api, body, field):
    http, db, _ = api
    journal_before = db.journal.count_documents({})
    operations_before = db.trading_operations.count_documents({})
    response = http.post("/api/operations", json={**VALID, **body})
    assert response.status_code == 422, response.text
    locations = [error["loc"] for error in response.json()["detail"]]
    assert any(loc[: len(field)] == field for loc in locations), locations
    assert db.journal.count_documents({}) == journal_before
    assert db.trading_operations.count_documents({}) == operations_before


def test_unknown_ids_are_404(api) -> None:
    http, _, _ = api
    assert http.get(f"/api/operations/{ObjectId()}").status_code == 404
    assert http.get("/api/operations/not-an-id/trades").status_code == 404
    assert http.post(f"/api/positions/{ObjectId()}/close").status_code == 404
    never_pressed = http.get("/api/risk/kill-switch")  # pressed last in this module
    assert never_pressed.status_code == 404 and "not been pressed" in never_pressed.json()["detail"]


def test_limits_are_validated(api) -> None:
    http, _, _ = api
    assert http.get("/api/operations", params={"limit": 10_001}).status_code == 422
    assert http.get("/api/operations", params={"offset": -1}).status_code == 422


def test_close_a_position_by_hand_is_journaled_as_manual(api, mongo_url) -> None:
    http, db, server = api
    operation = _create(http)
    op_id = operation["id"]
    server.wait_idle()
    positions = http.get(f"/api/operations/{op_id}/positions").json()
    open_positions = [p for p in positions if p["status"] == "OPEN"]
    assert len(open_positions) == 1 and open_positions[0]["position_type"] == "SHORT"
    position = open_positions[0]
    assert position["current_price"] != position["entry_price"]
    trades_before = http.get(f"/api/operations/{op_id}/trades").json()
    last_seq = http.get(f"/api/operations/{op_id}").json()["last_sequence_number"]

    response = http.post(f"/api/positions/{position['id']}/close")
    assert response.status_code == 200, response.text

    new_entries = http.get(
        f"/api/operations/{op_id}/journal", params={"after_sequence": last_seq}
    ).json()
    manual = [e for e in new_entries if e["source"] == "api/manual"]
    assert any(
        e["action_type"] == "ORDER_SUBMITTED" and e["action_data"]["role"] == "EXIT" for e in manual
    )
    assert any(e["action_type"] == "ORDER_FILLED" for e in new_entries)
    trades = http.get(f"/api/operations/{op_id}/trades").json()
    assert len(trades) == len(trades_before) + 1
    assert trades[-1]["exit_reason"] == "EXIT"
    closed = http.get(f"/api/operations/{op_id}/positions").json()
    assert all(p["status"] == "CLOSED" for p in closed)
    assert http.post(f"/api/positions/{position['id']}/close").status_code == 409


def test_pause_resume_update_close_lifecycle(api) -> None:
    http, db, server = api
    op_id = _create(http, quantity=5000)["id"]
    assert http.post(f"/api/operations/{op_id}/pause").json()["status"] == "paused"
    assert http.post(f"/api/operations/{op_id}/pause").status_code == 409
    assert http.post(f"/api/operations/{op_id}/resume").json()["status"] == "active"

    bad = http.put(f"/api/operations/{op_id}", json={"asset": "EUR-USD"})
    assert bad.status_code == 422
    bad = http.put(
        f"/api/operations/{op_id}", json={"strategy_config": {"fast_period": 40, "slow_period": 30}}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "strategy_config", "fast_period"]
    changed = http.put(f"/api/operations/{op_id}", json={"take_profit_value": 3.0})
    assert changed.status_code == 200 and changed.json()["take_profit_value"] == 3.0

    server.wait_idle()
    closed = http.delete(f"/api/operations/{op_id}")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert http.delete(f"/api/operations/{op_id}").json()["status"] == "closed"
    assert http.post(f"/api/operations/{op_id}/pause").status_code == 409
    assert http.put(f"/api/operations/{op_id}", json={"quantity": 1}).status_code == 409
    positions = http.get(f"/api/operations/{op_id}/positions").json()
    assert positions and all(p["status"] == "CLOSED" for p in positions)
    actions = [e["action_type"] for e in http.get(f"/api/operations/{op_id}/journal").json()]
    for expected in (
        "OPERATION_PAUSED",
        "OPERATION_RESUMED",
        "OPERATION_UPDATED",
        "OPERATION_CLOSE_REQUESTED",
        "OPERATION_CLOSED",
    ):
        assert expected in actions
    assert db.trading_operations.count_documents({"_id": ObjectId(op_id)}) == 1


def test_overall_stats_add_up(api) -> None:
    http, db, _ = api
    overall = http.get("/api/stats/overall").json()
    pnl = sum(t["pnl"] for t in db.trades.find({}))
    assert overall["trade_count"] == db.trades.count_documents({})
    assert abs(overall["realized_pnl"] - pnl) < 1e-9
    assert overall["operations"] == db.trading_operations.count_documents({})


def test_the_last_recovery_report_is_served(api) -> None:
    http, _, _ = api
    response = http.get("/api/recovery/last")
    assert response.status_code == 200
    report = response.json()
    assert report["dry_run"] is False and "operations" in report and "started_at" in report


def test_metrics_show_broker_call_timings_and_the_history_cache(api) -> None:
    http, _, server = api
    _create(http)
    server.wait_idle()
    params = {
        "asset": "USD-CAD",
        "bar_size": "1 hour",
        "start": "2025-01-15T00:00:00Z",
        "end": "2025-01-16T00:00:00Z",
    }
    first = http.get("/api/market-data/history", params=params)
    second = http.get("/api/market-data/history", params=params)
    assert first.status_code == 200 and first.json() == second.json()
    assert len(first.json()) == 20  # 04:00..23:00 on the first day of the file
    assert first.json()[0]["time"].startswith("2025-01-15T04:00")
    metrics = http.get("/api/metrics").json()
    assert metrics["history_cache"]["misses"] >= 1 and metrics["history_cache"]["hits"] >= 1
    assert 0 < metrics["history_cache"]["hit_rate"] < 1
    calls = metrics["broker_calls"]
    assert calls["submit_order"]["count"] > 0 and calls["on_bar"]["count"] > 100
    assert calls["submit_order"]["p99_ms"] >= calls["submit_order"]["p50_ms"] > 0
    assert calls["submit_order"]["errors"] == 0


def test_history_rejects_bad_parameters(api) -> None:
    http, _, _ = api
    base = {
        "asset": "USD-CAD",
        "bar_size": "1 hour",
        "start": "2025-01-15T00:00:00Z",
        "end": "2025-01-16T00:00:00Z",
    }
    for bad, field in (
        ({"asset": "USDCAD"}, "asset"),
        ({"bar_size": "2 hours"}, "bar_size"),
        ({"end": "2025-01-14T00:00:00Z"}, "end"),
        ({"asset": "GBP-JPY"}, "asset"),
    ):
        response = http.get("/api/market-data/history", params={**base, **bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["detail"][0]["loc"][-1] == field


def test_strategies_are_listed_with_their_parameter_schemas(api) -> None:
    http, _, _ = api
    strategies = {s["name"]: s for s in http.get("/api/strategies").json()}
    assert {
        "MomentumStrategy",
        "MeanReversionStrategy",
        "TrendFollowingStrategy",
        "OvernightRangeStrategy",
    } <= set(strategies)
    momentum = strategies["MomentumStrategy"]
    assert set(momentum["params_schema"]["properties"]) == {"fast_period", "slow_period"}
    assert momentum["defaults"] == {"fast_period": 10, "slow_period": 30}
    assert strategies["TrendFollowingStrategy"]["higher_bar_sizes"] == ["1 day"]


def test_a_strategy_missing_its_higher_bar_size_is_422(api) -> None:
    http, db, _ = api
    before = db.journal.count_documents({})
    response = http.post(
        "/api/operations", json={**VALID, "strategy_name": "TrendFollowingStrategy"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "bar_sizes"]
    assert db.journal.count_documents({}) == before


SECRET = "sk-live-1234567890abcdef"


def test_broker_configs_never_return_the_secret(api) -> None:
    http, db, server = api
    created = http.post(
        "/api/brokers", json={"broker_name": "OANDA", "account_id": "001-1", "api_key": SECRET}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["api_key_set"] is True and "api_key" not in body
    listed = http.get("/api/brokers")
    one = http.get(f"/api/brokers/{body['id']}")
    for response in (created, listed, one):
        assert SECRET not in response.text
    assert db.broker_configs.find_one({"_id": ObjectId(body["id"])})["api_key"] == SECRET
    bad = http.post("/api/brokers", json={"broker_name": "OANDA", "api_key": SECRET, "port": 70000})
    assert bad.status_code == 422 and SECRET not in bad.text
    assert SECRET not in server.log_path.read_text()


def test_a_live_account_needs_explicit_confirmation(api) -> None:
    http, _, _ = api
    refused = http.post(
        "/api/brokers",
        json={"broker_name": "IBKR", "account_type": "LIVE", "host": "127.0.0.1", "port": 7496},
    )
    assert refused.status_code == 422
    assert "confirm_live" in refused.text
    paper = http.post("/api/brokers", json={"broker_name": "IBKR", "port": 7497}).json()
    switch = http.put(f"/api/brokers/{paper['id']}", json={"account_type": "LIVE"})
    assert switch.status_code == 422
    assert switch.json()["detail"][0]["loc"] == ["body", "confirm_live"]
    confirmed = http.put(
        f"/api/brokers/{paper['id']}", json={"account_type": "LIVE", "confirm_live": True}
    )
    assert confirmed.status_code == 200 and confirmed.json()["account_type"] == "LIVE"


def test_an_operations_bars_are_the_replayed_bars(api) -> None:
    http, _, server = api
    op = _create(http)["id"]
    server.wait_idle()
    bars = http.get(f"/api/operations/{op}/bars", params={"limit": 50}).json()
    assert len(bars) == 50
    rows = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[1:]
    by_time = {r.split(",")[0]: r.split(",") for r in rows}
    for bar in bars:
        row = by_time[bar["time"].replace(".000Z", "Z")]
        assert [bar["open"], bar["high"], bar["low"], bar["close"]] == [float(x) for x in row[1:5]]
    assert [b["time"] for b in bars] == sorted(b["time"] for b in bars)
    bad = http.get(f"/api/operations/{op}/bars", params={"bar_size": "1 day"})
    assert bad.status_code == 422 and "bar_size" in bad.text


def test_a_quantity_below_the_instruments_minimum_is_422_naming_quantity(api) -> None:
    """The paper broker's USD-CAD trades in lots of 1 unit (minimum 1): 0.5
    is refused at create and at update, and nothing is journaled."""
    http, db, _ = api
    journal_before = db.journal.count_documents({})
    response = http.post("/api/operations", json={**VALID, "quantity": 0.5})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "quantity"] and "minimum" in error["msg"]
    assert db.journal.count_documents({}) == journal_before

    op_id = _create(http, quantity=1000)["id"]
    journal_before = db.journal.count_documents({"operation_id": ObjectId(op_id)})
    bad = http.put(f"/api/operations/{op_id}", json={"quantity": 0.25})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "quantity"]
    after = db.journal.count_documents({"operation_id": ObjectId(op_id)})
    assert after == journal_before or all(
        e["action_type"] != "OPERATION_UPDATED"
        for e in db.journal.find({"operation_id": ObjectId(op_id)})
    )


def test_the_kill_switch_answers_per_operation_and_its_progress_is_readable(api) -> None:
    """Last in this module: it pauses every operation of the shared server."""
    http, db, _ = api
    op_id = _create(http)["id"]
    running = [o["id"] for o in http.get("/api/operations").json() if o["status"] == "active"]
    assert op_id in running
    response = http.post("/api/risk/kill-switch")
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["running"] is False and run["joined"] is False and run["presses"] == 1
    assert run["done"] == run["total"] == len(run["results"]) >= len(running)
    outcomes = {r["operation_id"]: r["outcome"] for r in run["results"]}
    assert {outcomes[op] for op in running} <= {"flat", "closing"}
    assert set(run["operations"]) == {op for op, o in outcomes.items() if o in ("flat", "closing")}
    assert run["count"] == len(run["operations"])
    progress = http.get("/api/risk/kill-switch").json()
    assert progress["started_at"] == run["started_at"] and progress["done"] == run["total"]
    for op in running:
        assert http.get(f"/api/operations/{op}").json()["status"] == "paused"
        fired = db.journal.count_documents(
            {"operation_id": ObjectId(op), "action_type": "RISK_RULE_TRIGGERED"}
        )
        assert fired == 1
    again = http.post("/api/risk/kill-switch").json()
    assert again["operations"] == [] and {r["outcome"] for r in again["results"]} <= {
        "already",
        "skipped",
    }
