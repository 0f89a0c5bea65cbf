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
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--smoke",
                             "--json", str(out), *extra], cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout, check=False)
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
    assert sum(v for k, v in data_set["exits"].items()
               if k in ("STOP_LOSS", "TAKE_PROFIT", "EXIT")) == backtest["trades"]
