"""The kill -9 harness through the IB adapter: the engine (``live-trading
run`` with ``BROKER_TYPE=IBKR``) talks to the fake TWS running as its own
process (tests/faults/tws_process.py), which outlives every kill. Bars come
from the replay of the real USD-CAD file; orders and fills from the fake
TWS, whose market keeps moving (stops and limits fill, also while the
engine is down) except while the harness recovers and checks.

Invariants after each cycle (besides ``journal verify``): no orderRef
placed twice at the venue; every venue order has a journal intent; every
venue fill is journaled exactly once; the net of the venue's fills equals
the journal's position; no operation halted.

Replay speed: through a real venue a fill reaches the journal a few
milliseconds after its order, while the paper broker fills within the bar.
At 30+ bars a second the next bar's signal could start while the previous
bar's exit fill was being journaled, and the order manager asserted on a
position that had closed under it; it now decides from the state after its
cancels (tests/unit/test_signal_race.py). The CI run uses 5 bars a second;
``bench/ib_faults.py --speed 150`` runs it faster.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import ClassVar

from pymongo import MongoClient

from live_trading.store.embedded import free_port
from tests.faults.harness import OPERATIONS, ROOT, FaultHarness


class TWSFaultHarness(FaultHarness):
    operations: ClassVar[list[dict]] = [
        {k: v for k, v in body.items() if k != "emergency_stop_loss_pct"} for body in OPERATIONS
    ]
    """The paper harness's operations without the emergency stop: the fake
    venue's prices are not the replayed bars', so a 1 % stop would fire on
    the gap between the two rather than on anything the engine decided."""

    def __init__(self, workdir: Path, *, walk: bool = False, **kw) -> None:
        super().__init__(workdir, **kw)
        self.tws_port = free_port()
        self.state = workdir / "tws_state.json"
        self.control = workdir / "tws_control"
        self.control.write_text("run")
        self.env.update(
            {
                "BROKER_TYPE": "IBKR",
                "IBKR_PORT": str(self.tws_port),
                "IBKR_CLIENT_ID": "1",
                "MARKET_DATA_SOURCE": "replay",
                "PYTHONPATH": str(ROOT),
            }
        )
        self._tws_log = open(workdir / "tws.log", "ab")  # noqa: SIM115 - kept for the process
        self.tws = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.faults.tws_process",
                "--port",
                str(self.tws_port),
                "--state",
                str(self.state),
                "--control",
                str(self.control),
                "--price",
                "1.4353",
                *(["--walk"] if walk else []),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._tws_log,
            stderr=subprocess.STDOUT,
        )
        self._wait_for_state()

    def _wait_for_state(self, paused: bool | None = None, timeout_s: float = 30) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.tws.poll() is not None:
                raise RuntimeError("the fake TWS process died; see tws.log")
            if self.state.exists():
                state = json.loads(self.state.read_text())
                if paused is None or state["paused"] == paused:
                    return state
            time.sleep(0.05)
        raise TimeoutError("the fake TWS did not answer")

    def _spawn(self, fault: str = ""):
        self.control.write_text("run")
        return super()._spawn(fault)

    def recover_and_check(self):
        self.control.write_text("pause")  # the market stands still while we check
        self._wait_for_state(paused=True)
        return super().recover_and_check()

    strict = False
    """Fills at the venue of orders the journal has in flight are accepted
    after a cycle (the next start adopts them); the final check is strict."""

    def before_stop(self) -> None:
        self.strict = True
        self.control.write_text("pause")  # no fill after the engine has stopped
        self._wait_for_state(paused=True)
        time.sleep(0.5)  # the last fills' reports reach the engine

    def check(self, client: MongoClient, verify: subprocess.CompletedProcess) -> list[str]:
        time.sleep(0.2)  # the venue's last answers (recovery's own orders) written
        venue = self._wait_for_state(paused=True)
        db = client["trading_bot"]
        problems = [] if verify.returncode == 0 else [f"journal verify: {verify.stderr[-1500:]}"]
        problems += [
            f"order {ref} placed {n} times at the venue"
            for ref, n in venue["placed"].items()
            if n > 1
        ]
        for op in db.journal.distinct("operation_id"):
            problems += _ib_invariants(db, venue, str(op), op, self.strict)
        client.close()
        return problems

    def venue_state(self) -> dict:
        """The fake TWS's last written state (orders, executions, placements)."""
        return json.loads(self.state.read_text())

    def close(self) -> None:
        self.control.write_text("stop")
        try:
            self.tws.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.tws.kill()
        self._tws_log.close()
        super().close()


def _in_flight(entries) -> set[str]:
    """Orders with a journal intent and no outcome yet (filled, cancelled,
    rejected): their fills may be at the venue and not yet journaled."""
    state: dict[str, str] = {}
    for e in entries:
        cid = e["action_data"].get("client_order_id") if e["action_data"] else None
        if cid is not None:
            state[cid] = e["action_type"]
    return {cid for cid, last in state.items() if last in ("ORDER_SUBMITTED", "ORDER_ACCEPTED")}


def _ib_invariants(db, venue: dict, account: str, op, strict: bool) -> list[str]:
    prefix = f"LT-{account}-"
    entries = list(db.journal.find({"operation_id": op}).sort("sequence_number", 1))
    intents = {
        e["action_data"]["client_order_id"]
        for e in entries
        if e["action_type"] == "ORDER_SUBMITTED"
    }
    problems = [
        f"{account}: venue order {o['order_ref']} has no journal intent"
        for o in venue["orders"]
        if o["order_ref"].startswith(prefix) and o["order_ref"] not in intents
    ]
    fills = Counter(
        e["action_data"]["execution_id"] for e in entries if e["action_type"] == "ORDER_FILLED"
    )
    problems += [f"{account}: fill {x} journaled {n} times" for x, n in fills.items() if n > 1]
    ours = [x for x in venue["executions"] if x["order_ref"].startswith(prefix)]
    venue_fills = {x["exec_id"] for x in ours}
    pending = {
        x["exec_id"]
        for x in ours
        if x["exec_id"] not in fills and x["order_ref"] in _in_flight(entries)
    }
    if pending and not strict:  # e.g. recovery's closing order: adopted at the next start
        return problems
    if set(fills) != venue_fills:
        problems.append(
            f"{account}: fills differ: journal-only {set(fills) - venue_fills}, "
            f"venue-only {venue_fills - set(fills)}"
        )
    net = sum(x["shares"] if x["action"] == "BUY" else -x["shares"] for x in ours)
    position = db.positions.find_one({"operation_id": op, "status": "OPEN"})
    journal = 0.0
    if position:
        journal = position["quantity"] * (1 if position.get("side", "LONG") == "LONG" else -1)
    if abs(abs(net) - abs(journal)) > 1e-6:
        problems.append(f"{account}: position journal {journal} vs venue {net}")
    operation = db.trading_operations.find_one({"_id": op})
    if operation and operation["status"] == "error":
        problems.append(f"{account}: halted: {operation.get('status_reason')}")
    return problems
