"""Smoke runs of bench/journal.py, replay.py, latency.py, api_load.py, scale.py.

Each script runs with ``--smoke`` (a few seconds of work, its own embedded
store) and writes its JSON result to a temporary file; the tests check the
shape and that the numbers are sane. No timing is asserted: the targets are
checked by the full runs, by hand (see bench/README.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_smoke(name: str, tmp_path: Path, *extra: str) -> dict:
    target = tmp_path / f"{name}.json"
    script = str(ROOT / "bench" / f"{name}.py")
    done = subprocess.run(
        [sys.executable, script, "--smoke", "--json", str(target), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    result = json.loads(target.read_text())
    assert result["benchmark"] == name and result["smoke"] is True
    assert {"date", "commit", "cpus", "command"} <= set(result["environment"])
    return result


def test_journal_smoke(tmp_path: Path) -> None:
    result = run_smoke("journal", tmp_path)
    [round_] = result["rounds"]
    journal = round_["journal"]
    assert journal["entries"] == 4 * result["real_run"]["entries"] > 0
    assert journal["transactions"] < journal["appends"]  # appends shared transactions
    assert journal["documents_per_entry"] > 1  # entries plus their read models
    assert all(rate > 0 for rate in round_["raw_entries_per_s"].values())
    assert round_["ratio"] > 0 and result["ratio"]["median"] == round_["ratio"]
    assert result["no_group_commit"]["largest_batch"] == 1
    assert result["target"] == 0.7


def test_replay_smoke(tmp_path: Path) -> None:
    result = run_smoke("replay", tmp_path)
    built = result["built"]
    assert built["entries"] >= 3000
    empty, intact = result["rounds"]
    assert (empty["read_models"], intact["read_models"]) == ("empty", "intact")
    for round_ in (empty, intact):
        assert round_["raw_scan"]["entries"] == built["entries"]
        assert round_["rebuild"]["entries"] == built["entries"]
        assert round_["rebuild"]["documents"]["trades"] > 0
        assert round_["rebuild"]["cost_first_10pct_us"] > 0
        assert 0 < round_["ratio"] < 10
    assert empty["rebuild"]["writes"] == sum(empty["rebuild"]["documents"].values())
    assert intact["rebuild"]["writes"] == 0  # intact read models: nothing to write
    assert set(result["ratio"]) == {"empty", "intact"}
    assert result["verify_problems"] == []


def test_latency_smoke(tmp_path: Path) -> None:
    result = run_smoke("latency", tmp_path)
    single, concurrent = result["scenarios"]
    assert (single["operations"], concurrent["operations"]) == (1, 2)
    for scenario in (single, concurrent):
        first, last = scenario["first_order_ms"], scenario["last_order_ms"]
        assert first["count"] > 0 and first["count"] == last["count"]
        assert 0 < first["p50"] <= first["p99"] <= first["max"]
        assert last["p50"] >= first["p50"]  # a bracket's last order comes after its first
        assert scenario["insert_ms"] > 0 and scenario["ping_ms"] > 0
        assert scenario["verdict"] in ("met", "NOT met")
    assert concurrent["first_order_ms"]["count"] > single["first_order_ms"]["count"]


def test_api_load_smoke(tmp_path: Path) -> None:
    result = run_smoke("api_load", tmp_path)
    assert result["seeded"]["operations"] == 20 and result["seeded"]["trades"] == 200
    assert set(result["endpoints"]) == {"operations", "trades", "stats"}
    for endpoint in result["endpoints"].values():
        assert [level["concurrency"] for level in endpoint["levels"]] == [1, 4]
        assert all(level["errors"] == 0 and level["requests"] > 0 for level in endpoint["levels"])
        assert endpoint["knee"] in endpoint["levels"]
    feed = result["feed"]
    assert feed["clients"] == 5 and feed["expected_entries"] > 0
    assert feed["clients_missing"] == 0 and feed["clients_duplicating"] == 0
    assert all(c["received"] == feed["expected_entries"] for c in feed["per_client"])


@pytest.mark.skipif(
    not hasattr(__import__("os"), "sched_setaffinity"),
    reason="bench/scale.py pins itself to one core with os.sched_setaffinity, which only Linux has",
)
def test_scale_smoke(tmp_path: Path) -> None:
    result = run_smoke("scale", tmp_path)
    [scenario] = result["scenarios"]
    assert scenario["operations"] == 5
    assert scenario["ticks"] == 5 * 3 * 60 * 10
    lag = scenario["lag_handled_ms"]
    assert lag["count"] == 5 * 3  # every 1-minute bar of every operation was handled
    assert 0 <= lag["p50"] <= lag["p99"] <= lag["max"]
    assert 0 < scenario["cpu_use"] <= 1.5
    assert [m["minute"] for m in scenario["memory"]][:1] == [0]
    assert all(m["rss_mb"] > 0 for m in scenario["memory"])


def test_long_run_smoke(tmp_path: Path) -> None:
    result = run_smoke("long_run", tmp_path)
    slices = result["slices"]
    assert len(slices) == 10 and sum(s["bars"] for s in slices) == result["bars"]
    assert slices[-1]["journal_entries"] == result["entries"] > 1000
    assert sum(s["entries"] for s in slices) == result["entries"] - result["entries_before_bars"]
    assert result["trades"] > 0 and all(s["us_per_bar"] > 0 for s in slices)
    assert result["growth"] == slices[-1]["us_per_bar"] / slices[0]["us_per_bar"] - 1


def test_kill_switch_smoke(tmp_path: Path) -> None:
    result = run_smoke("kill_switch", tmp_path, "--concurrency", "1,4")
    assert [s["concurrency"] for s in result["scenarios"]] == [1, 4]
    for scenario in result["scenarios"]:
        ops = scenario["operations"]
        assert scenario["positions_open_before"] == ops == 5
        assert scenario["flat_and_paused"] == ops and scenario["risk_rule_entries"] == ops
        assert scenario["second_press_joined"] is True and scenario["presses"] == 2
        assert scenario["time_to_flat_s"]["count"] == ops
        assert 0 < scenario["time_to_flat_s"]["max"] <= scenario["wall_s"]


def test_ib_fill_latency_smoke(tmp_path: Path) -> None:
    result = run_smoke("ib_fill_latency", tmp_path)
    assert result["fills"] > 0 and result["fills_journaled"] == result["fills"]
    latency = result["fill_to_journal_ms"]
    assert latency["count"] == result["fills"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert result["verdict"] in ("met", "NOT met")


def test_oanda_chaos_smoke(tmp_path: Path) -> None:
    result = run_smoke("oanda_chaos", tmp_path)
    assert result["seeds"] == 3 == len(result["rows"]) == result["passed"]
    assert sum(row["faults"] for row in result["rows"]) > 0, "the chaos injected faults"
    assert all(row["ok"] and row["problems"] == "" for row in result["rows"])
