"""The ``live-trading`` CLI against a real store: recover, journal, rebuild."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from bson import ObjectId

from live_trading.bootstrap import open_services
from live_trading.engine.specs import OperationCreate
from tests.conftest import BIN, ROOT, SAMPLE_DATA, make_settings


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "live-trading"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


@pytest.fixture(scope="module")
async def traded(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("replay")
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[:121]
    (data / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    settings = make_settings(mongo_url, replay_data_dir=data)
    services = await open_services(settings)
    await services.engine.start()
    op = await services.engine.create_operation(
        OperationCreate(asset="USD-CAD", bar_sizes=["1 hour"], strategy_name="MomentumStrategy"),
        source="test")
    await services.engine.wait_idle()
    state = await services.journal.state(op)
    await services.engine.stop()
    await services.store.client.close()
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB_NAME": settings.mongodb_db_name}
    return env, op, state


def test_recover_json_reports_each_operation(traded) -> None:
    env, op, state = traded
    result = cli(env, "recover", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [found] = report["operations"]
    assert found["operation_id"] == op
    assert found["last_sequence"] == state.last_sequence
    assert found["open_position"]["side"] == state.position.side.value
    assert found["trades"] == state.operation["trade_count"] == 2
    assert report["projections"]["trades"] == 2


def test_recover_prints_a_table(traded) -> None:
    env, op, _ = traded
    result = cli(env, "recover")
    assert result.returncode == 0, result.stderr
    assert op[:12] in result.stdout and "SHORT" in result.stdout


def test_journal_prints_entries_in_order(traded) -> None:
    env, op, state = traded
    result = cli(env, "journal", op, "--json")
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["sequence_number"] for e in entries] == list(range(1, state.last_sequence + 1))
    after = cli(env, "journal", op, "--json", "--after", "5", "--limit", "2")
    assert [json.loads(x)["sequence_number"] for x in after.stdout.splitlines()] == [6, 7]


def test_journal_bad_input_exits_non_zero(traded) -> None:
    env, _, _ = traded
    bad = cli(env, "journal", "nope")
    assert bad.returncode == 2 and "not an operation id" in bad.stderr
    unknown = cli(env, "journal", str(ObjectId()))
    assert unknown.returncode == 1 and "no journal entries" in unknown.stderr


def test_projections_rebuild_prints_counts(traded) -> None:
    env, _, _ = traded
    result = cli(env, "projections", "rebuild")
    assert result.returncode == 0, result.stderr
    assert "trades: 2" in result.stdout and "trading_operations: 1" in result.stdout
