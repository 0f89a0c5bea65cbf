"""Each benchmark's ``--smoke`` run: it finishes and its JSON is sane.

Only shapes and consistency are asserted, never times: the full runs, by
hand, are in bench/README.md. Each test runs its script as a user would,
in a subprocess, writing its JSON to a temporary file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_smoke(script: str, tmp_path: Path, *extra: str, timeout: float = 300) -> dict:
    """Run ``bench/<script> --smoke`` and return the JSON it wrote."""
    out = tmp_path / f"{Path(script).stem}.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--smoke", "--json", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.timeout(600)
def test_peers_smoke(tmp_path: Path) -> None:
    record = run_smoke("peers.py", tmp_path)
    assert {"date", "commit", "command", "data_sets"} <= record.keys()
    [data_set] = record["data_sets"]
    engines = data_set["engines"]
    backtest, durable = engines["live_trading backtest"], engines["live_trading durable"]
    assert backtest["bars_per_second"] > 0 and backtest["trades"] > 5
    # the same engine, journal in memory or in the store: the same trades
    assert (durable["trades"], durable["net_pnl"]) == (backtest["trades"], backtest["net_pnl"])
    assert durable["vs_backtest"]["same_exit"] == backtest["trades"]
    for name in ("backtrader", "backtesting.py", "nautilus_trader"):
        peer = engines[name]
        if "error" in peer:  # the bench extra is not installed here
            assert "not installed" in peer["error"]
            continue
        assert peer["bars_per_second"] > 0
        assert peer["vs_backtest"]["same_entry"] >= 0.8 * backtest["trades"]
        assert abs(peer["net_pnl"] - backtest["net_pnl"]) < 0.5 * abs(backtest["net_pnl"]) + 50
    for ratio in data_set["ratios"]:
        assert {"engine", "against", "ratio", "target", "met"} <= ratio.keys()
        assert ratio["ratio"] > 0
    assert (
        sum(v for k, v in data_set["exits"].items() if k in ("STOP_LOSS", "TAKE_PROFIT", "EXIT"))
        == backtest["trades"]
    )


def dirty_copy(tmp_path: Path, name: str, rows: int = 400, bad_line: int = 10) -> Path:
    """The first ``rows`` bars of the shipped USD-CAD file as ``name``, with
    line ``bad_line`` (the header is line 1) corrupted: an unparsable close."""
    lines = (ROOT / "live_trading" / "sample_data" / "USDCAD_1h.csv").read_text().splitlines()
    lines = lines[: rows + 1]
    fields = lines[bad_line - 1].split(",")
    fields[4] = "1.43x"
    lines[bad_line - 1] = ",".join(fields)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.timeout(300)
def test_peers_smoke_on_a_dirty_file_of_another_pair(tmp_path: Path) -> None:
    csv = dirty_copy(tmp_path, "GBPUSD_1h.csv", bad_line=10)
    record = run_smoke("peers.py", tmp_path, "--csv", str(csv), "--engines", "live_trading durable")
    assert (record["asset"], record["currency"]) == ("GBP-USD", "USD")
    assert [row["line"] for row in record["rejected_rows"]] == [10]
    [data_set] = record["data_sets"]
    assert data_set["name"] == "GBPUSD_1h, first bars"
    assert data_set["bars"] == 300  # the bad row dropped, the next bars kept
    engines = data_set["engines"]
    backtest, durable = engines["live_trading backtest"], engines["live_trading durable"]
    assert backtest["trades"] > 5
    assert (durable["trades"], durable["net_pnl"]) == (backtest["trades"], backtest["net_pnl"])
    assert durable["vs_backtest"]["same_exit"] == backtest["trades"]


def test_peers_rejects_a_malformed_asset(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "peers.py"),
            "--smoke",
            "--asset",
            "USDCAD",
            "--json",
            str(tmp_path / "peers.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'USDCAD' is not of the form BASE-QUOTE" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "peers.json").exists()
