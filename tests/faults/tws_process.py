"""The fake TWS as a process of its own, for the kill -9 runs through the
IB adapter (tests/faults/tws_harness.py): it outlives every kill of the
engine, as TWS / IB Gateway outlives a crash of its API client.

``python -m tests.faults.tws_process --port P --state STATE.json --control CONTROL``

Market orders fill at once at the current price. With ``--walk`` the
price walks at random around ``--price`` (every 50 ms) while the control
file says ``run``, so stops and limits fill too, at any time, also while
the engine is down (this walk is not the replayed bars' market: limits and
stops fill at prices unrelated to the bars the engine sees). On ``pause`` the
market stops and the state is written: every order placed (``placed``
counts the new placements of each orderRef: a second one is an order sent
twice), every execution, and ``paused: true`` once quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from collections import Counter
from pathlib import Path

from tests.fakes.tws_server import FakeTWS


class CountingTWS(FakeTWS):
    """Counts new placements per orderRef (modifications excluded)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.placed: Counter[str] = Counter()

    def _new_order(self, conn, order, behaviour) -> None:
        self.placed[order.order_ref] += 1
        super()._new_order(conn, order, behaviour)


def state_of(fake: CountingTWS, paused: bool) -> dict:
    return {
        "paused": paused,
        "placed": dict(fake.placed),
        "orders": [
            {
                "order_ref": o.order_ref,
                "status": o.status,
                "action": o.action,
                "quantity": o.quantity,
                "filled": o.filled,
            }
            for o in fake.orders
        ],
        "executions": [
            {
                "exec_id": e.exec_id,
                "order_ref": e.order.order_ref,
                "action": e.order.action,
                "shares": e.shares,
                "price": e.price,
            }
            for e in fake.executions
        ],
    }


async def serve(port: int, state: Path, control: Path, price: float, seed: int, walk: bool) -> None:
    fake = CountingTWS(fill_price=price)
    fake.default_behaviour = "fill"
    await fake.start(port)
    rng = random.Random(seed)
    written = None
    while True:
        mode = control.read_text().strip() if control.exists() else "run"
        if mode == "stop":
            break
        if mode == "run" and walk:
            price = max(0.5, price + rng.uniform(-0.0006, 0.0006))
            fake.trade_at(round(price, 5))
        snapshot = json.dumps(state_of(fake, mode == "pause"))
        if snapshot != written:
            tmp = state.with_suffix(".tmp")
            tmp.write_text(snapshot)
            tmp.replace(state)
            written = snapshot
        await asyncio.sleep(0.05)
    await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--control", type=Path, required=True)
    parser.add_argument("--price", type=float, default=1.3650)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--walk", action="store_true", help="move the market at random")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.state, args.control, args.price, args.seed, args.walk))


if __name__ == "__main__":
    main()
