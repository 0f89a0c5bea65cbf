"""/health, /metrics, JSON logs and the service wrapper, against real parts.

A ``live-trading run`` subprocess trades the demo operation over the first
120 real USD-CAD hours (which end with a SHORT open) with ``LOG_FORMAT=json``;
its /metrics are checked against the database and against P/L recomputed
here from the prices, and its log file line by line. The 503 cases run the
app in-process on services whose store, broker or worker is really down.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from bson import ObjectId
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from live_trading.api.app import create_app
from live_trading.bootstrap import open_services
from live_trading.engine.specs import OperationCreate
from live_trading.observability import PrometheusMetrics, configure_logging
from live_trading.store.embedded import free_port
from tests.auth_helpers import TEST_SECRET
from tests.conftest import BIN, ROOT, LiveServer, make_settings, unique_db
from tests.integration.recovery_helpers import BARS_WITH_OPEN_SHORT, truncated_replay_dir

ASSET = "USD-CAD"


@pytest.fixture(scope="module")
def live(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    """(server, pymongo db, replay dir, log path) after the demo replay ended."""
    tmp = tmp_path_factory.mktemp("observability")
    replay = truncated_replay_dir(tmp / "replay")
    db_name, log = unique_db(), tmp / "server.log"
    server = LiveServer(
        {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB_NAME": db_name,
            "REPLAY_DATA_DIR": str(replay),
            "REPLAY_SPEED": "0",
            "LOG_FORMAT": "json",
        },
        log,
    ).start("--demo")
    server.wait_idle()
    with MongoClient(mongo_url, tz_aware=True) as client:
        yield server, client[db_name], replay, log
    server.stop()


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """``/metrics`` as {(sample name, sorted labels): value}."""
    response = httpx.get(f"{url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def last_close(replay: Path) -> float:
    with open(replay / "USDCAD_1h.csv", newline="") as fh:
        return float(list(csv.DictReader(fh))[-1]["close"])


def net_pnl(trade: dict) -> float:
    move = trade["exit_price"] - trade["entry_price"]
    sign = 1 if trade["position_type"] == "LONG" else -1
    return sign * move * trade["quantity"] - trade["total_commission"]


def test_health_reports_store_broker_worker_and_engine(live) -> None:
    server, *_ = live
    response = httpx.get(f"{server.url}/health", timeout=10)  # no token
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["problems"] == []
    assert body["store"]["ok"] is True
    assert body["broker"] == {"name": "paper", "state": "CONNECTED", "ok": True}
    assert body["worker"]["enabled"] is False and body["worker"]["running"] is False
    assert body["engine"]["running"] == 0
    assert body["engine"]["bars_processed"] == BARS_WITH_OPEN_SHORT


def test_metric_gauges_equal_the_read_models(live) -> None:
    server, db, replay, _ = live
    metrics = scrape(server.url)  # no token needed
    statuses = {}
    for operation in db.trading_operations.find({}):
        statuses[operation["status"]] = statuses.get(operation["status"], 0) + 1
    for status, count in statuses.items():
        assert metrics[("live_trading_operations", (("status", status),))] == count
    open_positions = list(db.positions.find({"status": "OPEN"}))
    assert len(open_positions) == 1 and open_positions[0]["position_type"] == "SHORT"
    assert metrics[("live_trading_open_positions", (("asset", ASSET),))] == 1
    trades = list(db.trades.find({}))
    assert trades, "the replay must have closed trades"
    realized = metrics[("live_trading_realized_pnl", (("asset", ASSET),))]
    assert realized == pytest.approx(sum(net_pnl(t) for t in trades), abs=1e-6)
    position, mark = open_positions[0], last_close(replay)
    expected = (position["entry_price"] - mark) * abs(position["quantity"])  # SHORT
    unrealized = metrics[("live_trading_unrealized_pnl", (("asset", ASSET),))]
    assert unrealized == pytest.approx(expected, abs=1e-6)
    assert metrics[("live_trading_broker_connected", ())] == 1


def test_journal_appends_and_broker_calls_are_timed(live) -> None:
    server, db, _, _ = live
    metrics = scrape(server.url)
    entries = db.journal.count_documents({})
    assert metrics[("live_trading_journal_entries_total", ())] == entries
    appends = metrics[("live_trading_journal_append_seconds_count", ())]
    assert 1 <= appends <= entries
    assert metrics[("live_trading_journal_append_seconds_sum", ())] > 0
    with server.client() as http:
        calls = http.get("/api/metrics").json()["broker_calls"]
    # each decision sends its orders in one call (submit_orders; submit_order
    # for one order): one call per append that journaled order intents
    decisions = {
        (e["operation_id"], e["timestamp"])
        for e in db.journal.find({"action_type": "ORDER_SUBMITTED"})
    }
    sent = sum(calls.get(m, {}).get("count", 0) for m in ("submit_order", "submit_orders"))
    assert calls["submit_orders"]["count"] >= 1 and sent == len(decisions)
    for method, stats in calls.items():
        labels = (("method", method),)
        assert metrics[("live_trading_broker_call_seconds_count", labels)] == stats["count"]
        assert metrics.get(("live_trading_broker_call_errors_total", labels), 0) == stats["errors"]


def test_logs_are_json_lines_access_logs_included(live) -> None:
    server, _, _, log = live
    httpx.get(f"{server.url}/health?probe=json-logs", timeout=10)
    time.sleep(0.5)
    records = []
    for line in log.read_text().splitlines():
        if line.strip():
            records.append(json.loads(line))  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
        assert "color_message" not in record
        stamp = datetime.fromisoformat(record["time"])
        assert stamp.utcoffset() == timedelta(0)
        assert abs(stamp - datetime.now(UTC)) < timedelta(minutes=10)
    access = [
        r
        for r in records
        if r["logger"] == "uvicorn.access" and r.get("path") == "/health?probe=json-logs"
    ]
    assert access and access[0]["status_code"] == 200 and access[0]["method"] == "GET"
    assert any(r["logger"].startswith("live_trading") for r in records)
    assert any(
        r["logger"] == "uvicorn.error" and "startup complete" in r["message"] for r in records
    )


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


async def test_health_is_503_while_the_worker_is_enabled_but_stopped(mongo_url) -> None:
    services = await open_services(
        make_settings(mongo_url, trading_worker_enabled=True, trading_worker_interval_seconds=3600)
    )
    app = create_app(services.settings)
    app.state.services = services
    await services.engine.deps.broker.connect()
    try:
        async with _client(app) as http:
            stopped = await http.get("/health")
            services.worker.start()
            started = await http.get("/health")
            await services.engine.deps.broker.disconnect()
            disconnected = await http.get("/health")
    finally:
        await services.worker.stop()
        await services.store.client.close()
    assert stopped.status_code == 503
    assert stopped.json()["problems"] == ["worker: enabled but not running"]
    assert started.status_code == 200, started.json()
    assert started.json()["worker"]["running"] is True
    assert disconnected.status_code == 503
    assert disconnected.json()["problems"] == ["broker: DISCONNECTED"]
    assert disconnected.json()["broker"]["ok"] is False


async def test_health_is_503_when_the_store_is_gone(mongo_url) -> None:
    services = await open_services(make_settings(mongo_url))
    app = create_app(services.settings)
    app.state.services = services
    await services.engine.deps.broker.connect()
    await services.store.client.close()
    async with _client(app) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["store"]["ok"] is False
    assert response.json()["problems"] == ["store: no answer to ping"]


async def test_a_manual_worker_cycle_is_counted(mongo_url) -> None:
    """The real worker's observer is the metrics' observe_cycle (bootstrap)."""
    services = await open_services(make_settings(mongo_url))
    try:
        await services.worker.run("api/manual", "tester")
    finally:
        await services.store.client.close()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(services.metrics.render().decode())
        for s in f.samples
    }
    ok = (("result", "ok"), ("source", "api/manual"))
    assert samples[("live_trading_worker_cycles_total", ok)] == 1
    assert (
        samples[("live_trading_worker_cycles_total", (("result", "ok"), ("source", "worker")))] == 0
    )
    assert samples[("live_trading_worker_cycle_seconds_count", (("source", "api/manual"),))] == 1


def test_observe_cycle_bounds_its_labels() -> None:
    metrics = PrometheusMetrics()
    metrics.observe_cycle("worker", "error", 0.25)
    metrics.observe_cycle("cron", "weird", 1.0)  # counted, never raised
    counter = metrics.worker_cycles
    assert counter.labels(source="worker", result="error")._value.get() == 1
    assert counter.labels(source="other", result="error")._value.get() == 1
    text = metrics.render().decode()
    assert 'live_trading_worker_cycle_seconds_sum{source="worker"} 0.25' in text
    assert "_created" not in text
    assert PrometheusMetrics().registry is not metrics.registry


def test_configure_logging_json_and_text() -> None:
    root = logging.getLogger()
    level = root.level
    try:
        out = io.StringIO()
        configure_logging("DEBUG", "json", stream=out)
        logging.getLogger("live_trading.test").info("filled %d", 3, extra={"operation_id": "abc"})
        record = json.loads(out.getvalue().splitlines()[-1])
        assert record["message"] == "filled 3" and record["level"] == "INFO"
        assert record["logger"] == "live_trading.test" and record["operation_id"] == "abc"
        assert datetime.fromisoformat(record["time"]).utcoffset() == timedelta(0)
        text = io.StringIO()
        handler = configure_logging("INFO", "text", stream=text)
        logging.getLogger("live_trading.test").warning("plain")
        assert text.getvalue().rstrip().endswith("WARNING live_trading.test: plain")
        assert out.getvalue().count("\n") == 1, "the JSON handler was replaced"
        with pytest.raises(ValueError):
            configure_logging("INFO", "xml")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def seeded(mongo_url: str, tmp_path: Path) -> tuple[str, str, Path]:
    """(database, operation id, replay dir): one operation traded to the end."""
    replay = truncated_replay_dir(tmp_path / "replay")
    settings = make_settings(mongo_url, replay_data_dir=replay)
    services = await open_services(settings)
    await services.start()
    op = await services.engine.create_operation(
        OperationCreate(asset=ASSET, bar_sizes=["1 hour"], strategy_name="MomentumStrategy"),
        source="test",
    )
    await services.engine.wait_idle()
    await services.close()
    return settings.mongodb_db_name, op, replay


def test_the_service_wrapper_recovers_then_runs(mongo_url, seeded, tmp_path) -> None:
    """scripts/service-start.sh for real: `live-trading` from PATH, recover
    (journaled), then exec the server (same pid), which serves /health."""
    (db_name, op, replay), port = seeded, free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "MONGODB_URL": mongo_url,
        "MONGODB_DB_NAME": db_name,
        "REPLAY_DATA_DIR": str(replay),
        "API_PORT": str(port),
        "SECRET_KEY": TEST_SECRET,
        "TRADING_WORKER_ENABLED": "false",
        "LOG_FORMAT": "json",
        "LIVE_TRADING_HOME": str(ROOT),
    }
    log = tmp_path / "service.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "service-start.sh")],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(proc, f"http://127.0.0.1:{port}", log)
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"live-trading" in cmdline[1] and b"run" in cmdline, cmdline  # exec'd
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    output = log.read_text()
    assert output.index("service-start: live-trading recover") < output.index("recovery report")
    assert output.index("recovery report") < output.index("service-start: exec live-trading run")
    with MongoClient(mongo_url) as client:
        completed = list(
            client[db_name].journal.find(
                {"operation_id": ObjectId(op), "action_type": "RECOVERY_COMPLETED"}
            )
        )
    assert len(completed) == 2, "one by `recover`, one by `run` at its start"
    assert all(entry["source"] == "recovery" for entry in completed)


def _wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(log.read_text()[-3000:])
