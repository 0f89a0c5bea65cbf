"""Each strategy on the real USD-CAD hourly file through the whole engine.

``python bench/strategies.py`` prints, per strategy, the trades and net P/L
(quote currency, CAD) made by the engine, journal and paper broker, with the
default settings (10,000 units, SL 1.5 x ATR(14), TP 2R). Uses a throwaway
embedded store.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_trading.bootstrap import open_services  # noqa: E402
from live_trading.config import Settings  # noqa: E402
from live_trading.domain.stats import trade_stats  # noqa: E402
from live_trading.engine.specs import OperationCreate  # noqa: E402

RUNS = {
    "MomentumStrategy": {"bar_sizes": ["1 hour"]},
    "MeanReversionStrategy": {"bar_sizes": ["1 hour"]},
    "TrendFollowingStrategy": {"bar_sizes": ["1 hour", "1 day"]},
    "OvernightRangeStrategy": {"bar_sizes": ["1 hour"]},
    "OvernightRangeStrategy (STOP entries)": {
        "bar_sizes": ["1 hour"],
        "strategy_config": {"entry": "STOP"},
    },
}


async def main() -> list[dict]:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="lt-strategies-")), mongodb_url=None)
    services = await open_services(settings, sync_on_commit=False)
    await services.start()
    rows = []
    try:
        for label, body in RUNS.items():
            started = time.monotonic()
            op = await services.engine.create_operation(
                OperationCreate(asset="USD-CAD", strategy_name=label.split(" ")[0], **body),
                source="bench",
            )
            await services.engine.wait_idle()
            trades = (
                await services.store.db["trades"]
                .find({"operation_id": __import__("bson").ObjectId(op)})
                .sort("exit_time", 1)
                .to_list(None)
            )
            stats = trade_stats([t["pnl"] for t in trades], [t["total_commission"] for t in trades])
            rows.append(
                {
                    "strategy": label,
                    "trades": stats.trade_count,
                    "win_rate": round(stats.win_rate, 3),
                    "net_pnl_cad": round(stats.total_pnl, 2),
                    "max_drawdown_cad": round(stats.max_drawdown, 2),
                    "seconds": round(time.monotonic() - started, 1),
                }
            )
    finally:
        await services.close()
    return rows


if __name__ == "__main__":
    results = asyncio.run(main())
    print(f"{'strategy':40s} {'trades':>6s} {'win %':>6s} {'net P/L CAD':>12s} {'max DD':>9s}")
    for r in results:
        print(
            f"{r['strategy']:40s} {r['trades']:6d} {100 * r['win_rate']:6.1f} "
            f"{r['net_pnl_cad']:12.2f} {r['max_drawdown_cad']:9.2f}"
        )
    print(json.dumps(results))
