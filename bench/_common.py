"""Shared helpers of the benchmark scripts (journal, replay, latency, api_load, scale).

* the command line every script takes (``--smoke``, ``--json``, ``--repeat``);
* a throwaway embedded store (SecantusDB child process in a temporary dir);
* **real engine events**: the journal of one real run of the engine
  (MomentumStrategy on the shipped USD-CAD hourly file, paper broker), cached
  under the system's temporary directory, and its copies under new operation
  ids (:func:`retarget`);
* the store's round trip (``ping`` and a one-document insert), percentiles,
  a plain-text table, and the JSON result with the date, commit and machine.

Importing it makes SIGTERM and SIGHUP interrupt the script as Ctrl-C does,
so a benchmark stopped either way stops the servers it started
(:func:`~live_trading.store.embedded.interrupt_on_termination`).

Times are seconds unless a name says ``_ms``; rates are per second.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bson import ObjectId

from live_trading.bootstrap import DOCUMENT_MODELS
from live_trading.domain import events as ev
from live_trading.store.embedded import interrupt_on_termination
from live_trading.store.mongo import Store, open_store

interrupt_on_termination()

RESULTS = ROOT / "bench" / "results"
SAMPLE = ROOT / "live_trading" / "sample_data" / "USDCAD_1h.csv"
CACHE = Path(tempfile.gettempdir()) / "live-trading-bench"
ID_KEYS = ("execution_id", "broker_order_id")  # unique across operations in the store


def arguments(description: str, **extra: tuple[type, Any, str]) -> argparse.Namespace:
    """``--smoke``, ``--repeat N``, ``--json PATH`` and the script's own
    options (``name=(type, default, help)``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="a run of a few seconds (CI)")
    parser.add_argument("--repeat", type=int, default=None, help="measurement rounds")
    parser.add_argument("--json", type=Path, default=None, help="where to write the result")
    for name, (kind, default, text) in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default, help=text)
    return parser.parse_args()


def environment() -> dict[str, Any]:
    """Date, commit, Python, CPUs and load: the context of a result."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
    }


def write_result(name: str, payload: dict[str, Any], path: Path | None = None) -> Path:
    """Write ``payload`` (plus :func:`environment`) to bench/results/<name>.json."""
    target = path or RESULTS / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {"benchmark": name, "environment": environment(), **payload}
    target.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return target


def percentiles(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    """count, mean, p50, p90, p99 and max of ``values`` (times ``scale``)."""
    if not values:
        return {"count": 0, "mean": 0.0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale

    return {
        "count": len(ordered),
        "mean": statistics.fmean(ordered) * scale,
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "max": ordered[-1] * scale,
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of repeated measurements (the noise)."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "rounds": len(values),
    }


def table(rows: Iterable[dict[str, Any]], columns: Sequence[str], title: str = "") -> str:
    """Rows as an aligned plain-text table (floats with 3 significant digits)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        return str(value)

    body = [[cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [
        max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(columns)
    ]
    lines = [title] if title else []
    lines.append("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def verdict(value: float, target: float, *, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "NOT met"


# -- stores -------------------------------------------------------------------


async def scratch_store(*, sync_on_commit: bool = True, db_name: str = "bench") -> Store:
    """A new embedded SecantusDB server in a temporary directory (deleted by
    :func:`close_store`). ``sync_on_commit``: fsync per commit, as in production."""
    data_dir = Path(tempfile.mkdtemp(prefix="lt-bench-"))
    return await open_store(
        None, db_name, data_dir, document_models=DOCUMENT_MODELS, sync_on_commit=sync_on_commit
    )


async def close_store(store: Store) -> None:
    """Stop the store and delete its directory."""
    data_dir = store.embedded.data_dir if store.embedded is not None else None
    await store.close()
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)


async def round_trips(store: Store, count: int = 200) -> dict[str, dict[str, float]]:
    """One store round trip, ``count`` times each: ``ping`` and a one-document
    insert (committed, fsynced when the store syncs on commit); in ms."""
    pings, inserts = [], []
    collection = store.db["bench_round_trip"]
    for i in range(count):
        started = time.perf_counter()
        await store.db.command("ping")
        pings.append(time.perf_counter() - started)
        started = time.perf_counter()
        await collection.insert_one({"i": i})
        inserts.append(time.perf_counter() - started)
    await collection.drop()
    return {"ping_ms": percentiles(pings, 1000), "insert_ms": percentiles(inserts, 1000)}


# -- real engine events -----------------------------------------------------------


def replay_dir(bars: int | None, parent: Path) -> Path:
    """A replay directory (``parent/replay``) with the USD-CAD hourly file,
    cut to its first ``bars`` bars (all of them when None)."""
    target = parent / "replay"
    target.mkdir(parents=True, exist_ok=True)
    lines = SAMPLE.read_text().splitlines(keepends=True)
    keep = lines if bars is None else lines[: bars + 1]
    (target / SAMPLE.name).write_text("".join(keep))
    return target


async def real_run(bars: int | None = None) -> list[dict[str, Any]]:
    """The journal entries (raw documents, in sequence order) of one real run:
    MomentumStrategy, USD-CAD 1 hour, paper broker, default risk settings,
    over the first ``bars`` bars of the shipped file (all when None).
    Cached in the temporary directory (the run takes ~30 s for the whole file)."""
    cache = CACHE / f"real-run-{bars or 'all'}-{int(SAMPLE.stat().st_mtime)}.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    entries = await _run_engine(bars)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(entries))
    return entries


async def _run_engine(bars: int | None) -> list[dict[str, Any]]:
    from live_trading.bootstrap import open_services
    from live_trading.config import Settings
    from live_trading.engine.specs import OperationCreate

    work = Path(tempfile.mkdtemp(prefix="lt-bench-run-"))
    settings = Settings(
        data_dir=work / "var",
        mongodb_url=None,
        replay_speed=0.0,
        replay_data_dir=replay_dir(bars, work),
        trading_worker_enabled=False,
        trade_log_dir=work / "logs",
    )
    services = await open_services(settings, sync_on_commit=False)
    try:
        await services.start()
        await services.engine.create_operation(
            OperationCreate(
                asset="USD-CAD", strategy_name="MomentumStrategy", bar_sizes=["1 hour"]
            ),
            source="bench",
        )
        await services.engine.wait_idle()
        return await services.store.db["journal"].find({}).sort("sequence_number", 1).to_list(None)
    finally:
        await services.close()
        shutil.rmtree(work, ignore_errors=True)


def appends_of(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The entries grouped as they were appended: one ``record()`` call gives
    consecutive entries with the same timestamp."""
    groups: list[list[dict[str, Any]]] = []
    for entry in entries:
        if groups and groups[-1][-1]["timestamp"] == entry["timestamp"]:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups


_EVENT_TYPES = {cls.ACTION_TYPE: cls for cls in ev.Event.__subclasses__()}


def retarget(data: Any, old: str, new: str) -> Any:
    """``data`` with the operation id ``old`` replaced by ``new`` in every
    string, and the broker's execution / order ids made unique to ``new``."""
    if isinstance(data, dict):
        return {
            k: f"{v}-{new}" if k in ID_KEYS and isinstance(v, str) else retarget(v, old, new)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [retarget(v, old, new) for v in data]
    if isinstance(data, str) and old in data:
        return data.replace(old, new)
    return data


def event_of(entry: dict[str, Any], old: str, new: str) -> ev.Event:
    """The domain event of a stored entry, moved to operation ``new``."""
    cls = _EVENT_TYPES[entry["action_type"]]
    data = retarget(dict(entry.get("action_data") or {}), old, new)
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def operation_appends(groups: list[list[dict[str, Any]]], new: str) -> list[list[ev.Event]]:
    """The appends of a real run as events of a new operation ``new``."""
    old = str(groups[0][0]["operation_id"])
    return [[event_of(entry, old, new) for entry in group] for group in groups]


def entry_copies(entries: list[dict[str, Any]], new: str) -> list[dict[str, Any]]:
    """Raw journal documents of a real run moved to operation ``new`` (new
    ``_id`` and ``event_id``): what a journal of many runs holds."""
    old = entries[0]["operation_id"]
    oid = ObjectId(new)
    copies = []
    for entry in entries:
        copy = dict(entry, _id=ObjectId(), operation_id=oid, event_id=str(ObjectId()))
        copy["action_data"] = retarget(entry.get("action_data") or {}, str(old), new)
        copies.append(copy)
    return copies


def cpu_seconds() -> float:
    """CPU time (user + system) of this process so far."""
    times = os.times()
    return times.user + times.system


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- profiles -----------------------------------------------------------------------


class ServerProfile:
    """``py-spy record`` of the embedded store's server process (when py-spy
    is installed) while a block runs; :meth:`top` summarises where its busy
    threads spent their time (idle waits left out)."""

    IDLE = ("wait", "_recv_exactly", "accept", "_readable", "select", "sleep", "poll")
    PLUMBING = (
        "<module>",
        "Thread.",
        "main",
        "_handle_client",
        "dispatch",
        "_run_txn_statement",
        "wrapper",
        "_bulk_write",
        "_run_command",
    )

    def __init__(self, store: Store, path: Path) -> None:
        self.pid = store.embedded._record.pid if store.embedded and store.embedded._record else None
        self.path, self.proc = path, None

    def __enter__(self) -> Self:
        # py-spy comes with the bench extra, next to this Python when its
        # virtualenv is not on PATH
        spy = shutil.which("py-spy") or shutil.which("py-spy", path=Path(sys.executable).parent)
        if spy and self.pid:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.proc = subprocess.Popen(
                [
                    spy,
                    "record",
                    "-p",
                    str(self.pid),
                    "-o",
                    str(self.path),
                    "-f",
                    "raw",
                    "-r",
                    "100",
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(2)  # SIGINT: py-spy writes what it recorded
            self.proc.wait(timeout=60)

    def top(self, count: int = 12) -> list[tuple[str, float]]:
        """(function, share of busy samples) of the most inclusive functions."""
        if self.proc is None or not self.path.exists():
            return []
        inclusive: dict[str, int] = {}
        busy = 0
        for line in self.path.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            frames = [f.split(" (")[0] for f in stack.split(";")]
            if not frames or any(word in frames[-1] for word in self.IDLE):
                continue
            busy += int(n)
            for name in dict.fromkeys(frames):
                inclusive[name] = inclusive.get(name, 0) + int(n)
        ranked = sorted(
            (
                (k, v / busy)
                for k, v in inclusive.items()
                if not any(word in k for word in self.PLUMBING)
            ),
            key=lambda kv: -kv[1],
        )
        return [(name, round(share, 3)) for name, share in ranked[:count]] if busy else []
