"""``live-trading backtest`` in a real subprocess: backtest mode on bar CSV
files without a database. Its results are checked against the engine run
in process on the same bars and the same operation body."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from live_trading.backtest import open_backtest_services
from live_trading.data.bars_csv import read_bars_csv
from live_trading.domain.values import Bar, BarSize
from live_trading.engine.specs import OperationCreate
from tests.conftest import BIN, ROOT, SAMPLE_DATA, make_settings

CONFIG_FILE = str(ROOT / "config" / "config.yaml")  # the same settings in both processes
LINES = 1500  # of the hourly sample: about 60 trades, well under a second


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "live-trading"), "backtest", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CONFIG_FILE": CONFIG_FILE},
    )


def recompute(body: OperationCreate, bars: dict[BarSize, list[Bar]]) -> list[dict[str, Any]]:
    """The trades of ``body`` on ``bars``, backtest mode run in this process."""

    async def main() -> list[dict[str, Any]]:
        services = open_backtest_services(make_settings("unused"), bars=bars)
        await services.start()
        try:
            return services.trades(await services.run(body))
        finally:
            await services.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONFIG_FILE", CONFIG_FILE)
        return asyncio.run(main())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory holding only the first lines of the hourly sample."""
    path = tmp_path_factory.mktemp("backtest-cli")
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[:LINES]
    (path / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    return path


def test_json_report_equals_the_engine_run_in_process(workdir: Path) -> None:
    before = sorted(p.name for p in workdir.iterdir())
    result = cli(workdir, "USDCAD_1h.csv", "--json", "--trades")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    bars = read_bars_csv(workdir / "USDCAD_1h.csv").bars
    body = OperationCreate(asset="USD-CAD", bar_sizes=["1 hour"], strategy_name="MomentumStrategy")
    trades = recompute(body, {BarSize.HOUR_1: bars})
    assert report["asset"] == "USD-CAD" and report["bar_sizes"] == ["1 hour"]  # from the name
    assert report["bars_read"] == len(bars) and report["bars_rejected"] == 0
    assert report["trade_count"] == len(trades) == len(report["trades"]) > 0
    assert report["net_pnl"] == math.fsum(t["pnl"] for t in trades)
    assert report["total_commission"] == math.fsum(t["total_commission"] for t in trades)
    assert report["winning_trades"] + report["losing_trades"] <= report["trade_count"]
    assert [(t["side"], t["exit_time"], t["pnl"]) for t in report["trades"]] == [
        (t["position_type"], t["exit_time"].isoformat(), t["pnl"]) for t in trades
    ]
    assert report["status"] == "active" and report["bars_per_second"] > 0
    assert sorted(p.name for p in workdir.iterdir()) == before  # nothing written


def test_options_reach_the_operation(workdir: Path) -> None:
    result = cli(
        workdir,
        "USDCAD_1h.csv",
        "--json",
        "--param",
        "fast_period=5",
        "--quantity",
        "2000",
        "--spec",
        '{"stop_loss_type": "PERCENTAGE", "stop_loss_value": 0.002}',
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    body = OperationCreate(
        asset="USD-CAD",
        bar_sizes=["1 hour"],
        strategy_name="MomentumStrategy",
        quantity=2000,
        strategy_config={"fast_period": 5},
        stop_loss_type="PERCENTAGE",
        stop_loss_value=0.002,
    )
    trades = recompute(body, {BarSize.HOUR_1: read_bars_csv(workdir / "USDCAD_1h.csv").bars})
    assert report["strategy_config"]["fast_period"] == 5
    assert report["trade_count"] == len(trades) > 0
    assert report["net_pnl"] == math.fsum(t["pnl"] for t in trades)


def test_higher_bar_size_file(workdir: Path) -> None:
    daily = SAMPLE_DATA / "USDCAD_1d.csv"
    result = cli(
        workdir,
        "USDCAD_1h.csv",
        "--strategy",
        "TrendFollowingStrategy",
        "--higher",
        f"{daily}:1 day",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    hourly, day = report["files"]
    assert report["bar_sizes"] == ["1 hour", "1 day"]
    assert (hourly["bar_size"], day["bar_size"]) == ("1 hour", "1 day")
    found = read_bars_csv(daily)
    assert day["bars_read"] == len(found.bars)
    assert [r["line"] for r in day["rejected"]] == [r.line for r in found.rejected]
    body = OperationCreate(
        asset="USD-CAD", bar_sizes=["1 hour", "1 day"], strategy_name="TrendFollowingStrategy"
    )
    trades = recompute(
        body,
        {BarSize.HOUR_1: read_bars_csv(workdir / "USDCAD_1h.csv").bars, BarSize.DAY_1: found.bars},
    )
    assert report["trade_count"] == len(trades)
    assert report["net_pnl"] == math.fsum(t["pnl"] for t in trades)


@pytest.fixture(scope="module")
def dirty(workdir: Path) -> Path:
    """400 lines of the sample; line 50 has its high below its low, line 120
    a close that is not a number."""
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[:400]
    time, open_, high, low, close, volume = lines[49].split(",")
    lines[49] = f"{time},{open_},{low},{high},{close},{volume}"
    cells = lines[119].split(",")
    lines[119] = ",".join([*cells[:4], "abc", cells[5]])
    path = workdir / "dirty prices.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_dirty_rows_are_reported_and_skipped(dirty: Path) -> None:
    result = cli(dirty.parent, dirty.name, "--asset", "USD-CAD", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [found] = report["files"]
    assert [r["line"] for r in found["rejected"]] == [50, 120]
    assert "high" in found["rejected"][0]["reason"] and "close" in found["rejected"][1]["reason"]
    assert report["bars_read"] == 397 and report["bars_rejected"] == 2
    assert report["bars_per_second"] > 0


def test_table_output_lists_rejected_rows_and_trades(dirty: Path) -> None:
    result = cli(dirty.parent, dirty.name, "--asset", "USD-CAD", "--trades")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "rejected rows" in out and "│ 50 " in out and "│ 120 " in out
    assert "net P/L (CAD)" in out and "exit reason" in out and "final status" in out


def _header_only(workdir: Path) -> str:
    (workdir / "empty.csv").write_text("time,open,high,low,close\n")
    return "empty.csv"


@pytest.mark.parametrize(
    "args, code, expected",
    [
        (["missing.csv", "--asset", "USD-CAD"], 2, "missing.csv"),
        (["USDCAD_1h.csv", "--strategy", "NoSuchStrategy"], 2, "strategy_name"),
        (["USDCAD_1h.csv", "--quantity", "-5"], 2, "quantity"),
        (["USDCAD_1h.csv", "--param", "fast_period=0"], 2, "strategy_config.fast_period"),
        (["USDCAD_1h.csv", "--spec", '{"stop_loss_type": "NOPE"}'], 2, "stop_loss_type"),
        (["USDCAD_1h.csv", "--strategy", "TrendFollowingStrategy"], 2, "bar_sizes"),
        (["USDCAD_1h.csv", "--bar-size", "2 hours"], 2, "--bar-size"),
        ([_header_only, "--asset", "USD-CAD"], 2, "no valid bar"),
    ],
)
def test_bad_input_exits_with_a_message(workdir: Path, args, code: int, expected: str) -> None:
    args = [a(workdir) if callable(a) else a for a in args]
    result = cli(workdir, *args)
    assert result.returncode == code, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
