"""Recovery: rebuild every projection of a large journal vs a raw scan of it.

``python bench/replay.py [--smoke] [--events N] [--repeat R]``

The journal holds ``N`` entries made of copies of one real run's journal
(MomentumStrategy on the shipped USD-CAD hourly file, paper broker; see
``bench/_common.py``), each copy under a new operation id, inserted straight
into the embedded store (fsync per commit). Each round times, in the same
run: a raw scan of the ``journal`` collection (``find({})``, every document
decoded by PyMongo) and ``rebuild_projections`` (fold every operation and
bring its stored documents to the fold's). Rounds alternate the two; the
first rebuild finds the read models empty (it inserts every document), the
next ones find them intact (nothing to write): both cases are reported.

Reported: entries/s of both, their ratio (target >= 0.5), and the rebuild's
cost per entry over the first and the last 10 % of operations (target: the
last within 10 % of the first: nothing grows with the journal's length),
plus a check that rebuilt operations verify (``journal verify``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from typing import Any

from bson import ObjectId

from _common import (
    RESULTS,
    ServerProfile,
    arguments,
    close_store,
    entry_copies,
    real_run,
    scratch_store,
    spread,
    table,
    verdict,
    write_result,
)
from live_trading.journal.mongo_journal import JOURNAL, MongoJournal
from live_trading.journal.service import rebuild_projections
from live_trading.journal.verify import verify_operation
from live_trading.store.mongo import Store

TARGET_RATIO = 0.5
TARGET_GROWTH = 0.10
INSERT_BATCH = 1000


async def build(store: Store, entries: list[dict], events: int) -> dict[str, Any]:
    """Insert ``ceil(events / len(entries))`` copies of the run's journal."""
    copies = math.ceil(events / len(entries))
    started = time.perf_counter()
    pending: list[dict] = []
    for _ in range(copies):
        pending.extend(entry_copies(entries, str(ObjectId())))
        while len(pending) >= INSERT_BATCH:
            await store.db[JOURNAL].insert_many(pending[:INSERT_BATCH], ordered=False)
            pending = pending[INSERT_BATCH:]
    if pending:
        await store.db[JOURNAL].insert_many(pending, ordered=False)
    seconds = time.perf_counter() - started
    return {"operations": copies, "entries": copies * len(entries), "seconds": seconds}


async def raw_scan(store: Store) -> dict[str, float]:
    started = time.perf_counter()
    count = 0
    async for _doc in store.db[JOURNAL].find({}, batch_size=1000):
        count += 1
    seconds = time.perf_counter() - started
    return {"entries": count, "seconds": seconds, "entries_per_s": count / seconds}


async def rebuild(journal: MongoJournal) -> dict[str, Any]:
    """Time ``rebuild_projections``; the cost per entry of each operation."""
    costs: list[tuple[int, float]] = []
    writes = 0
    last = time.perf_counter()

    def progress(_operation_id: str, entries: int, written: int) -> None:
        nonlocal last, writes
        now = time.perf_counter()
        costs.append((entries, now - last))
        writes += written
        last = now

    started = last
    counts = await rebuild_projections(journal, progress=progress)
    seconds = time.perf_counter() - started
    entries = sum(n for n, _ in costs)
    tenth = max(1, len(costs) // 10)  # the first operation also pays the scan's start
    first, final = _cost(costs[1 : tenth + 1] or costs[:1]), _cost(costs[-tenth:])
    return {
        "entries": entries,
        "seconds": seconds,
        "entries_per_s": entries / seconds,
        "documents": counts,
        "writes": writes,
        "cost_first_10pct_us": first * 1e6,
        "cost_last_10pct_us": final * 1e6,
        "growth": final / first - 1,
    }


def _cost(costs: list[tuple[int, float]]) -> float:
    """Seconds per entry over these operations."""
    return sum(s for _, s in costs) / max(1, sum(n for n, _ in costs))


async def spot_check(journal: MongoJournal, sample: int = 3) -> list[str]:
    """Problems of a few rebuilt operations (first, middle, last)."""
    ops = await journal.operation_ids()
    picks = {ops[0], ops[len(ops) // 2], ops[-1]} if ops else set()
    problems: list[str] = []
    for op in sorted(picks)[:sample]:
        problems += await verify_operation(journal, op)
    return problems


async def measure(args) -> dict[str, Any]:
    entries = await real_run(args.bars)
    store = await scratch_store(sync_on_commit=True)
    journal = MongoJournal(store)
    rounds = []
    try:
        built = await build(store, entries, args.events)
        for r in range(args.repeat):
            scan = await raw_scan(store)
            profile = ServerProfile(store, RESULTS / "profiles" / f"replay-server-{r}.txt")
            with profile if r < 2 and args.profile else contextlib.nullcontext():
                rebuilt = await rebuild(journal)
            rounds.append(
                {
                    "read_models": "empty" if r == 0 else "intact",
                    "raw_scan": scan,
                    "rebuild": rebuilt,
                    "ratio": rebuilt["entries_per_s"] / scan["entries_per_s"],
                    "server_profile": profile.top(),
                }
            )
        problems = await spot_check(journal)
    finally:
        await close_store(store)
    growth = statistics.median(r["rebuild"]["growth"] for r in rounds)
    by_case = {
        case: spread([r["ratio"] for r in rounds if r["read_models"] == case])
        for case in ("empty", "intact")
        if any(r["read_models"] == case for r in rounds)
    }
    return {
        "real_run_entries": len(entries),
        "built": built,
        "rounds": rounds,
        "ratio": by_case,
        "growth": growth,
        "verify_problems": problems,
        "target_ratio": TARGET_RATIO,
        "target_growth": TARGET_GROWTH,
    }


def report(result: dict[str, Any]) -> str:
    rows = [
        {
            "round": i,
            "read models": r["read_models"],
            "scan /s": r["raw_scan"]["entries_per_s"],
            "rebuild /s": r["rebuild"]["entries_per_s"],
            "ratio": r["ratio"],
            "rebuild s": r["rebuild"]["seconds"],
            "writes": r["rebuild"]["writes"],
            "us/entry first 10%": r["rebuild"]["cost_first_10pct_us"],
            "us/entry last 10%": r["rebuild"]["cost_last_10pct_us"],
        }
        for i, r in enumerate(result["rounds"])
    ]
    built, growth = result["built"], result["growth"]
    lines = [
        table(
            rows,
            list(rows[0]),
            f"replay: {built['entries']:,} entries "
            f"({built['operations']} copies of a real run of "
            f"{result['real_run_entries']} entries; built in {built['seconds']:.0f} s)",
        )
    ]
    for case, ratio in result["ratio"].items():
        lines.append(
            f"rebuild/scan over {case} read models: median {ratio['median']:.3f} "
            f"(min {ratio['min']:.3f}, max {ratio['max']:.3f}); target >= "
            f"{TARGET_RATIO}: {verdict(ratio['median'], TARGET_RATIO)}"
        )
    lines.append(
        f"cost per entry, last vs first 10 %: {growth:+.1%}; target <= "
        f"+{TARGET_GROWTH:.0%}: {verdict(growth, TARGET_GROWTH, at_most=True)}"
    )
    lines.append(f"rebuilt operations verify: {'yes' if not result['verify_problems'] else 'NO'}")
    for r in result["rounds"]:
        if r["server_profile"]:
            lines.append(
                f"store server, rebuild over {r['read_models']} read models (busy, "
                "inclusive): "
                + ", ".join(f"{name} {share:.0%}" for name, share in r["server_profile"][:6])
            )
    return "\n".join(lines)


def main() -> None:
    args = arguments(
        __doc__.split("\n")[0],
        events=(int, 200_000, "journal entries to build (1,000,000 takes ~35 min here)"),
        bars=(int, None, "bars of the real run (default: the whole file)"),
        profile=(int, 1, "1: py-spy the store server in round 0"),
    )
    if args.smoke:
        args.events, args.bars, args.profile = 3000, 300, 0
    args.repeat = args.repeat or (2 if args.smoke else 3)
    result = asyncio.run(measure(args))
    print(report(result))
    print(f"wrote {write_result('replay', {'smoke': args.smoke, **result}, args.json)}")


if __name__ == "__main__":
    main()
