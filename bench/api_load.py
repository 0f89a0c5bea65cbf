"""Load: the REST API and the live feed with 1,000 operations and 100,000 trades.

``python bench/api_load.py [--smoke] [--operations 1000] [--trades 100]``

The store (embedded SecantusDB, fsync per commit) is filled with
``--operations`` operations of ``--trades`` trades each: the read models
(``trading_operations``, ``trades``) folded from copies of one real run's
journal (MomentumStrategy, USD-CAD hourly, paper broker), under new ids. The
journal holds the first ``--journal`` entries of each copy and an
``OPERATION_CLOSED`` (the operation documents are their fold, so recovery
finds them consistent and ``live-trading run`` starts no runner); the trades
are those the copy makes further on (their entries are not in the journal).

``live-trading run`` serves the API in its own process; the load comes from
another one (``bench/_load_client.py``, httpx): ``GET /api/operations``, an
operation's trades (``limit=50`` at a random offset) and
``/api/stats/overall``, each at concurrency 1, 2, 4, ... for ``--seconds``
per level (and 20 requests at least), until requests/s stops growing. Per endpoint: requests/s,
p50 / p99; the knee is the first level within 10 % of the best requests/s;
target: p99 <= 20 x p50 there.

Then 100 WebSocket clients (``/ws/overall``) stay connected while this
process appends the real run's entries to 5 new operations (its own journal
service on the same store, as a second writer would). Each client must
receive every entry exactly once; delivery lag = arrival - the append's
return (wall clock, one machine). Target: no client misses or duplicates.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId

from _common import (
    RESULTS,
    ROOT,
    appends_of,
    arguments,
    entry_copies,
    operation_appends,
    real_run,
    table,
    verdict,
    write_result,
)
from live_trading.bootstrap import DOCUMENT_MODELS
from live_trading.domain.projection import TRADES, OperationState, apply
from live_trading.journal.mongo_journal import JOURNAL, MongoJournal, decode_record, encode_document
from live_trading.journal.service import JournalService
from live_trading.store.embedded import EmbeddedServer, free_port
from live_trading.store.mongo import open_store
from tests.auth_helpers import PASSWORD, TEST_SECRET, login, seed_user

DB = "bench_api"
BIN = Path(sys.executable).parent
CLIENT = ROOT / "bench" / "_load_client.py"
TARGET_TAIL = 20.0
ENDPOINTS = ("operations", "trades", "stats")


def fold_copy(
    entries: list[dict], trades: int, journal: int
) -> tuple[list[dict], dict, list[dict]]:
    """A copy of the run under a new id: its first ``journal`` entries and an
    OPERATION_CLOSED entry (the journal: closed, so no runner starts), the
    operation document folded from them, and the first ``trades`` trades the
    copy makes (folded further; the journal does not hold their entries)."""
    copies = entry_copies(entries, str(ObjectId()))
    kept = copies[:journal] + [_closed(copies[journal - 1])]
    state = OperationState(str(kept[0]["operation_id"]))
    for raw in kept:
        apply(state, decode_record(raw))
    operation = encode_document(dict(state.operation))
    further = OperationState(state.operation_id)
    documents: dict = {}
    for raw in copies:
        documents.update(apply(further, decode_record(raw)))
        if sum(1 for c, _ in documents if c == TRADES) >= trades:
            break
    found = [encode_document(d) for (c, _), d in documents.items() if c == TRADES]
    return kept, operation, found


def _closed(last: dict) -> dict:
    return {
        "_id": ObjectId(),
        "operation_id": last["operation_id"],
        "sequence_number": last["sequence_number"] + 1,
        "action_type": "OPERATION_CLOSED",
        "action_data": {"reason": "bench"},
        "timestamp": last["timestamp"],
        "source": "bench",
        "event_id": str(uuid.uuid4()),
    }


async def seed(url: str, args) -> dict[str, Any]:
    """Fill the store; return the operation ids and how long it took."""
    entries = await real_run(None)
    store = await open_store(url, DB, Path(tempfile.gettempdir()), document_models=DOCUMENT_MODELS)
    started, ids = time.perf_counter(), []
    operations, trades, journal = [], [], []
    for _ in range(args.operations):
        kept, operation, found = fold_copy(entries, args.trades, args.journal)
        ids.append(str(operation["_id"]))
        operations.append(operation)
        trades.extend(found)
        journal.extend(kept)
    for name, docs in (("trading_operations", operations), ("trades", trades), (JOURNAL, journal)):
        for i in range(0, len(docs), 1000):
            await store.db[name].insert_many(docs[i : i + 1000], ordered=False)
    await store.client.close()
    seed_user(url, DB, "admin", "admin")
    return {
        "operation_ids": ids,
        "trades": len(trades),
        "journal_entries": len(journal),
        "seconds": time.perf_counter() - started,
    }


def start_api(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "MONGODB_URL": "",
        "MONGODB_DB_NAME": DB,
        "SECRET_KEY": TEST_SECRET,
        "RATE_LIMIT_MUTATIONS": "1000000/minute",
        "RATE_LIMIT_LOGIN": "1000000/minute",
        "TRADING_WORKER_ENABLED": "false",
        "LOG_FORMAT": "text",
        "TRADE_LOG_DIR": str(data_dir / "logs"),
    }
    proc = subprocess.Popen(
        [str(BIN / "live-trading"), "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise TimeoutError(log.read_text()[-3000:])


def http_load(config: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(CLIENT), "http", json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def knee(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """Where requests/s stops growing: the first level within 10 % of the best
    requests/s measured (more concurrency after it only queues)."""
    best = max(level["rps"] for level in levels)
    return next(level for level in levels if level["rps"] >= 0.9 * best)


async def feed(url: str, store_url: str, token: str, args) -> dict[str, Any]:
    """100 live-feed clients in the load process; appends from this one."""
    config = {"url": url, "token": token, "clients": args.clients, "timeout": 120}
    proc = await asyncio.to_thread(_feed_process, config)
    assert proc.stdout is not None and proc.stdin is not None
    line = await asyncio.to_thread(proc.stdout.readline)
    if line.strip() != "ready":
        raise RuntimeError(f"feed clients did not start: {line!r}")
    expected, committed, seconds = await append_entries(store_url, args)
    proc.stdin.write(json.dumps({"expected": expected, "committed": committed}) + "\n")
    proc.stdin.flush()
    out = await asyncio.to_thread(proc.stdout.read)
    proc.wait(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    result["append_seconds"] = seconds
    return result


def _feed_process(config: dict[str, Any]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CLIENT), "ws", json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


async def append_entries(store_url: str, args) -> tuple[dict, dict, float]:
    """The real run's appends to 5 new operations, ``args.rate`` appends/s;
    returns the last sequence of each and when each entry was committed."""
    groups = appends_of(await real_run(None))[: args.feed_appends]
    store = await open_store(
        store_url, DB, Path(tempfile.gettempdir()), document_models=DOCUMENT_MODELS
    )
    journal = JournalService(MongoJournal(store))
    committed: dict[str, float] = {}
    expected: dict[str, int] = {}
    started = time.perf_counter()

    async def writer(op: str, delay: float) -> None:
        for i, events in enumerate(operation_appends(groups, op)):
            records = await journal.record(op, events, source="bench", new_operation=i == 0)
            now = time.time()
            for record in records:
                committed[f"{op}:{record.sequence_number}"] = now
            expected[op] = records[-1].sequence_number
            await asyncio.sleep(delay)

    ops = [str(ObjectId()) for _ in range(5)]
    await asyncio.gather(*(writer(op, len(ops) / args.rate) for op in ops))
    seconds = time.perf_counter() - started
    await store.client.close()
    return expected, committed, seconds


def summarise(http: dict[str, Any], ws: dict[str, Any]) -> dict[str, Any]:
    endpoints = {}
    for name, levels in http.items():
        at = knee(levels)
        tail = at["p99"] / at["p50"] if at["p50"] else float("inf")
        endpoints[name] = {
            "levels": levels,
            "knee": at,
            "p99_over_p50": tail,
            "verdict": verdict(tail, TARGET_TAIL, at_most=True),
        }
    clients = ws["clients"]
    lags = sorted(c["lag"]["p99"] for c in clients)
    return {
        "endpoints": endpoints,
        "feed": {
            "clients": len(clients),
            "expected_entries": ws["expected_entries"],
            "append_seconds": ws["append_seconds"],
            "clients_missing": sum(c["missed"] > 0 for c in clients),
            "clients_duplicating": sum(c["duplicated"] > 0 for c in clients),
            "lag_p50_ms_median": sorted(c["lag"]["p50"] for c in clients)[len(clients) // 2],
            "lag_p99_ms_worst": lags[-1],
            "lag_max_ms": max(c["lag"]["max"] for c in clients),
            "per_client": clients,
        },
    }


def report(result: dict[str, Any]) -> str:
    rows = []
    for name, e in result["endpoints"].items():
        for level in e["levels"]:
            rows.append(
                {
                    "endpoint": name,
                    "concurrency": level["concurrency"],
                    "req/s": level["rps"],
                    "p50 ms": level["p50"],
                    "p99 ms": level["p99"],
                    "p99/p50": level["p99"] / level["p50"] if level["p50"] else 0.0,
                    "errors": level["errors"],
                    "knee": "<-" if level is e["knee"] or level == e["knee"] else "",
                }
            )
    seeded = result["seeded"]
    lines = [
        table(
            rows,
            list(rows[0]),
            f"api: {seeded['operations']} operations, "
            f"{seeded['trades']:,} trades, {seeded['journal_entries']:,} journal entries",
        )
    ]
    for name, e in result["endpoints"].items():
        lines.append(
            f"{name}: at the knee (concurrency {e['knee']['concurrency']}) p99/p50 = "
            f"{e['p99_over_p50']:.1f}; target <= {TARGET_TAIL:g}: {e['verdict']}"
        )
    f = result["feed"]
    clean = f["clients_missing"] == 0 and f["clients_duplicating"] == 0
    lines.append(
        f"feed: {f['clients']} clients x {f['expected_entries']} entries; missing "
        f"{f['clients_missing']}, duplicating {f['clients_duplicating']}; lag p50 "
        f"{f['lag_p50_ms_median']:.0f} ms, worst p99 {f['lag_p99_ms_worst']:.0f} ms, "
        f"max {f['lag_max_ms']:.0f} ms; target no miss, no duplicate: "
        f"{'met' if clean else 'NOT met'}"
    )
    return "\n".join(lines)


async def measure(args) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="lt-bench-api-"))
    server = EmbeddedServer(work / "var", sync_on_commit=True)
    store_url = await asyncio.to_thread(server.start)
    api = None
    try:
        seeded = await seed(store_url, args)
        log = RESULTS / "api_load.server.log"  # kept for diagnosis (git-ignored)
        log.unlink(missing_ok=True)
        api, url = start_api(work / "var", log)
        token = login(url, "admin", PASSWORD)
        config = {
            "url": url,
            "token": token,
            "endpoints": ENDPOINTS,
            "levels": args.levels,
            "seconds": args.seconds,
            "operation_ids": seeded["operation_ids"][:200],
            "trades_per_operation": args.trades,
            "page": 50,
            "past_knee": 2,
            "min_requests": 2 if args.smoke else 20,
        }
        http = await asyncio.to_thread(http_load, config)
        ws = await feed(url, store_url, token, args)
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=60)
        await asyncio.to_thread(server.stop)
        shutil.rmtree(work, ignore_errors=True)
    ids = seeded.pop("operation_ids")
    return {"seeded": {"operations": len(ids), **seeded}, **summarise(http, ws)}


def main() -> None:
    args = arguments(
        __doc__.split("\n")[0],
        operations=(int, 1000, "operations in the store"),
        trades=(int, 100, "trades per operation"),
        journal=(int, 20, "journal entries per seeded operation"),
        seconds=(float, 6.0, "seconds per concurrency level"),
        clients=(int, 100, "WebSocket clients"),
        feed_appends=(int, 150, "appends of the real run per feed operation"),
        rate=(float, 50.0, "feed appends per second (all operations)"),
    )
    args.levels = [1, 2, 4, 8, 16, 32, 64]
    if args.smoke:
        args.operations, args.trades, args.journal, args.seconds = 20, 10, 5, 0.5
        args.clients, args.feed_appends, args.rate, args.levels = 5, 6, 200.0, [1, 4]
    result = asyncio.run(measure(args))
    print(report(result))
    print(f"wrote {write_result('api_load', {'smoke': args.smoke, **result}, args.json)}")


if __name__ == "__main__":
    main()
