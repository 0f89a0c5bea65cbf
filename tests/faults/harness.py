"""Fault-injection harness: kill -9 the real server at chosen moments.

Each cycle starts ``live-trading run`` (embedded SecantusDB store, real
USD-CAD data) with ``LT_FAULT=<point>:<n>`` so that it SIGKILLs itself the
n-th time it reaches that point (see :mod:`live_trading.faults`), or kills
it with SIGKILL after a random delay; then runs ``live-trading recover`` and
checks every invariant on the stores:

* each operation's journal is gapless and its projections equal a rebuild
  (``live-trading journal verify``);
* no order was sent to the broker twice: every broker order is one journal
  intent, and no bar's signal was acted on twice;
* every broker fill is in the journal exactly once;
* broker positions equal projected positions; no operation halted.

Used by ``tests/faults`` (short runs in CI) and ``bench/faults.py`` (long runs).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pymongo import MongoClient

from live_trading.store.embedded import EmbeddedServer, free_port
from tests.auth_helpers import TEST_SECRET, bearer, login, seed_user

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POINTS = {  # point -> range of the hit count at which to die
    "after_bar": (1, 400),
    "during_projection": (1, 80),
    "after_intent": (1, 5),
    "after_broker_cancel": (1, 5),
    "after_broker_submit": (1, 10),
    "before_fill_journal": (1, 5),
    "random_time": (0, 0),
}
OPERATIONS = [
    {
        "asset": "USD-CAD",
        "bar_sizes": ["1 hour"],
        "strategy_name": "MomentumStrategy",
        "crash_recovery_mode": "CLOSE_ALL",
    },
    {
        "asset": "USD-CAD",
        "bar_sizes": ["1 hour"],
        "strategy_name": "MomentumStrategy",
        "crash_recovery_mode": "RESUME",
        "emergency_stop_loss_pct": 0.01,
        "strategy_config": {"fast_period": 5, "slow_period": 20},
    },
]


@dataclass
class CycleResult:
    point: str
    hits: int
    died_by_fault: bool
    seconds: float
    problems: list[str] = field(default_factory=list)
    recovered: Counter = field(default_factory=Counter)


class FaultHarness:
    operations = OPERATIONS

    def __init__(
        self, workdir: Path, *, replay_speed: float = 150.0, replay_dir: Path | None = None
    ) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "var"
        self.log = workdir / "server.log"
        self.env = {
            **os.environ,
            "DATA_DIR": str(self.data_dir),
            "MONGODB_URL": "",
            "REPLAY_SPEED": str(replay_speed),
            "LT_FAULT": "",
            "SECRET_KEY": TEST_SECRET,
            "TRADE_LOG_DIR": str(workdir / "logs"),
            # the scheduled worker runs as shipped, only more often,
            # so its cycles are crashed into too
            "TRADING_WORKER_ENABLED": "true",
            "TRADING_WORKER_INTERVAL_SECONDS": "1",
        }
        if replay_dir is not None:
            self.env["REPLAY_DATA_DIR"] = str(replay_dir)
        self.port = free_port()
        # The harness owns the store server, as a database host would: the
        # killed processes and the CLI borrow it (adoption after a kill is
        # covered by tests/integration/test_kill9.py).
        self.store = EmbeddedServer(self.data_dir, sync_on_commit=True)
        self.store.start()
        seed_user(self.store.url, "trading_bot", "admin", "admin")

    def _spawn(self, fault: str = "") -> subprocess.Popen:
        env = {**self.env, "LT_FAULT": fault}
        log = open(self.log, "ab")
        return subprocess.Popen(
            [str(BIN / "live-trading"), "run", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def _wait_ready(self, proc: subprocess.Popen, timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).is_success:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"server not ready; see {self.log}")

    def create_operations(self) -> None:
        """First start: create the operations, then stop cleanly."""
        proc = self._spawn()
        assert self._wait_ready(proc), self.log.read_text()[-2000:]
        url = f"http://127.0.0.1:{self.port}"
        headers = bearer(login(url, "admin"))
        for body in self.operations:
            response = httpx.post(f"{url}/api/operations", json=body, headers=headers)
            response.raise_for_status()
        time.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def cycle(
        self,
        rng: random.Random,
        point: str | None = None,
        hits: int | None = None,
        window: float = 8.0,
    ) -> CycleResult:
        """Run the server with ``point`` armed to kill it at its ``hits``-th
        hit (random from :data:`POINTS` when not given) for at most
        ``window`` seconds, then recover and check every invariant."""
        point = point or rng.choice(sorted(POINTS))
        low, high = POINTS[point]
        hits = hits if hits is not None else rng.randint(low, high)
        started = time.monotonic()
        proc = self._spawn("" if point == "random_time" else f"{point}:{hits}")
        died = not self._wait_ready(proc)
        if not died:
            limit = rng.uniform(0.3, 3.0) if point == "random_time" else window
            try:
                proc.wait(timeout=limit)
                died = proc.returncode == -signal.SIGKILL and point != "random_time"
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        result = CycleResult(point, hits, died, 0.0)
        result.problems, result.recovered = self.recover_and_check()
        result.seconds = time.monotonic() - started
        return result

    def recover_and_check(self) -> tuple[list[str], Counter]:
        recover = self._cli("recover", "--json")
        if recover.returncode != 0:
            return [self._failed("recover", recover)], Counter()
        done = _recovery_counts(json.loads(recover.stdout))
        return self.check(self.database(), self._cli("journal", "verify")), done

    def _failed(self, command: str, done: subprocess.CompletedProcess) -> str:
        """The problem of a CLI command that failed: its exit code and its own
        error lines (stderr without the JSON log lines, which would bury
        them); the whole stderr is kept in the workdir for the post-mortem."""
        kept = self.workdir / f"{command}-failed-{time.time_ns()}.stderr"
        kept.write_text(done.stderr)
        own = [line for line in done.stderr.splitlines() if not _is_log_line(line)]
        said = "\n".join(own)[-1500:] or done.stderr[-1500:]
        return f"{command} failed (exit {done.returncode}, stderr in {kept}): {said}"

    def run_to_end(self, timeout_s: float = 600) -> list[str]:
        """Start without faults, let every replay finish, stop, check."""
        proc = self._spawn()
        assert self._wait_ready(proc), self.log.read_text()[-2000:]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            health = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=5).json()
            if health["engine"]["running"] == 0:
                break
            time.sleep(0.5)
        self.before_stop()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        return self.check(self.database(), self._cli("journal", "verify"))

    def before_stop(self) -> None:
        """Hook: called before the clean stop of :meth:`run_to_end`."""

    def check(self, client: MongoClient, verify: subprocess.CompletedProcess) -> list[str]:
        """Every invariant on the stores (see the module doc)."""
        return check_invariants(client, verify)

    def _cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "live-trading"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def database(self) -> MongoClient:
        return MongoClient(self.store.url, tz_aware=True)

    def close(self) -> None:
        self.store.stop()


def _recovery_counts(report: dict) -> Counter:
    counts: Counter = Counter()
    for op in report["operations"]:
        counts["fills adopted"] += len(op["fills_to_adopt"])
        counts["orders adopted"] += len(op["orders_to_adopt"])
        counts["orders cancelled"] += len(op["orders_to_cancel"])
        counts["in flight"] += len(op["in_flight"])
        counts["positions closed"] += sum(p["action"] == "close" for p in op["positions"])
    return counts


def check_invariants(client: MongoClient, verify: subprocess.CompletedProcess) -> list[str]:
    db, paper = client["trading_bot"], client["trading_bot_paper_broker"]
    problems = [] if verify.returncode == 0 else [f"journal verify: {verify.stderr[-1500:]}"]
    for op in db.journal.distinct("operation_id"):
        problems += _operation_invariants(db, paper, op)
    client.close()
    return problems


def _operation_invariants(db, paper, op) -> list[str]:
    entries = list(db.journal.find({"operation_id": op}).sort("sequence_number", 1))
    problems: list[str] = []
    intents = {
        e["action_data"]["client_order_id"]
        for e in entries
        if e["action_type"] == "ORDER_SUBMITTED"
    }
    sent = [o["client_order_id"] for o in paper.orders.find({"account": str(op)})]
    problems += [f"{op}: broker order {c} sent twice" for c, n in Counter(sent).items() if n > 1]
    problems += [f"{op}: broker order {c} has no journal intent" for c in sent if c not in intents]
    signal_bars = [
        e["action_data"]["bar"]["time"] for e in entries if e["action_type"] == "SIGNAL_GENERATED"
    ]
    problems += [
        f"{op}: a bar's signal acted on twice" for t, n in Counter(signal_bars).items() if n > 1
    ]
    fills = Counter(
        e["action_data"]["execution_id"] for e in entries if e["action_type"] == "ORDER_FILLED"
    )
    broker_fills = {x["execution_id"] for x in paper.executions.find({"account": str(op)})}
    problems += [f"{op}: fill {x} journaled {n} times" for x, n in fills.items() if n > 1]
    if set(fills) != broker_fills:
        problems.append(
            f"{op}: fills differ: journal-only {set(fills) - broker_fills}, "
            f"broker-only {broker_fills - set(fills)}"
        )
    position = db.positions.find_one({"operation_id": op, "status": "OPEN"})
    ours = position["quantity"] if position else 0.0
    broker = paper.positions.find_one({"account": str(op)})
    theirs = broker["quantity"] if broker else 0.0
    if abs(ours - theirs) > 1e-6:
        problems.append(f"{op}: position journal {ours} vs broker {theirs}")
    operation = db.trading_operations.find_one({"_id": op})
    if operation and operation["status"] == "error":
        problems.append(f"{op}: halted: {operation.get('status_reason')}")
    return problems


def _is_log_line(line: str) -> bool:
    """A JSON log record (LOG_FORMAT=json), as opposed to the CLI's own words."""
    if not (line.startswith("{") and line.endswith("}")):
        return False
    try:
        return "message" in json.loads(line)
    except ValueError:
        return False
