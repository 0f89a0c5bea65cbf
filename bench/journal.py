"""Durable journal: append rate of real engine events vs the store's raw insert rate.

``python bench/journal.py [--smoke] [--operations N] [--repeat R]``

The events are those of one real run of the engine (MomentumStrategy on the
shipped USD-CAD hourly file, paper broker; see ``bench/_common.py``), grouped
as the engine appended them. ``N`` operations replay that run concurrently
under their own ids through :class:`JournalService` (group commit on): each
``record()`` returns only once its entries and read models are committed, on
the embedded store with an fsync per commit, as in production. In the same
round, the raw baseline inserts the same number of entry documents, shaped as
the journal stores them, with ``insert_many`` (batches of 100 and of 1000,
the faster counts) into a collection with the journal's indexes, no
transaction. Rounds alternate the two, so both see the same machine load.

Reported: entries/s of both and their ratio (target >= 0.7), the journal's
documents written per entry (read models and checkpoints), the transactions
it used, the rate with group commit off (``--no-group-seconds`` of it), and
where the store's server spent its time (py-spy, when installed).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bson import ObjectId

from _common import (
    RESULTS,
    ServerProfile,
    appends_of,
    arguments,
    close_store,
    entry_copies,
    operation_appends,
    real_run,
    scratch_store,
    spread,
    table,
    verdict,
    write_result,
)
from live_trading.journal.mongo_journal import JOURNAL, MongoJournal
from live_trading.journal.service import JournalService
from live_trading.store.mongo import Store

TARGET = 0.7
RAW_BATCHES = (100, 1000)


class CountingJournal(MongoJournal):
    """A MongoJournal that counts the documents its transactions write."""

    documents = 0

    async def commit_batch(self, appends) -> None:
        await super().commit_batch(appends)
        changed = {key for a in appends for key in a.changes}
        self.documents += (
            sum(len(a.records) for a in appends)
            + len(changed)
            + sum(a.checkpoint is not None for a in appends)
        )


async def journal_round(
    store: Store,
    groups: list[list[dict]],
    operations: int,
    *,
    max_batch_entries: int = 2000,
    seconds: float | None = None,
) -> dict[str, Any]:
    """``operations`` coroutines append the real run's appends under new ids,
    concurrently; all of them, or for ``seconds`` at most. Returns the
    entries committed, the time and the committer's statistics."""
    journal = JournalService(CountingJournal(store), max_batch_entries=max_batch_entries)
    deadline = None if seconds is None else time.perf_counter() + seconds
    ops = [str(ObjectId()) for _ in range(operations)]

    async def replay(op: str) -> int:
        written = 0
        for i, events in enumerate(operation_appends(groups, op)):
            if deadline is not None and time.perf_counter() > deadline:
                break
            await journal.record(op, events, source="bench", new_operation=i == 0)
            written += len(events)
        return written

    started = time.perf_counter()
    entries = sum(await asyncio.gather(*(replay(op) for op in ops)))
    elapsed = time.perf_counter() - started
    stats = journal.committer.stats
    return {
        "entries": entries,
        "seconds": elapsed,
        "entries_per_s": entries / elapsed,
        "transactions": stats.transactions,
        "appends": stats.appends,
        "largest_batch": stats.largest,
        "documents_per_entry": journal.journal.documents / max(entries, 1),
    }


async def raw_round(store: Store, entries: list[dict], batch: int, name: str) -> float:
    """Entries/s of ``insert_many`` of ``entries`` in batches of ``batch`` into
    a new collection with the journal's indexes."""
    collection = store.db[name]
    for spec in (await store.db[JOURNAL].index_information()).values():
        if spec["key"] != [("_id", 1)]:
            await collection.create_index(spec["key"], unique=spec.get("unique", False))
    started = time.perf_counter()
    for i in range(0, len(entries), batch):
        await collection.insert_many(entries[i : i + batch], ordered=True)
    elapsed = time.perf_counter() - started
    await collection.drop()
    return len(entries) / elapsed


def raw_documents(entries: list[dict], operations: int) -> list[dict]:
    copies: list[dict] = []
    for _ in range(operations):
        copies.extend(entry_copies(entries, str(ObjectId())))
    return copies


async def measure(args) -> dict[str, Any]:
    groups = appends_of(await real_run(args.bars))[: args.appends]
    entries = [entry for group in groups for entry in group]
    store = await scratch_store(sync_on_commit=True)
    rounds: list[dict[str, Any]] = []
    try:
        for r in range(args.repeat):
            raw = {
                b: await raw_round(
                    store, raw_documents(entries, args.operations), b, f"raw_{r}_{b}"
                )
                for b in RAW_BATCHES
            }
            profile = ServerProfile(store, RESULTS / "profiles" / "journal-server.txt")
            with profile if r == 0 and args.profile else _Nothing():
                journal = await journal_round(store, groups, args.operations)
            best = max(raw.values())
            rounds.append(
                {
                    "raw_entries_per_s": raw,
                    "journal": journal,
                    "ratio": journal["entries_per_s"] / best,
                    "server_profile": profile.top() if r == 0 else [],
                }
            )
        alone = await journal_round(
            store, groups, args.operations, max_batch_entries=1, seconds=args.no_group_seconds
        )
    finally:
        await close_store(store)
    return {
        "real_run": {
            "entries": len(entries),
            "appends": len(groups),
            "bars": args.bars,
            "first_appends": args.appends,
        },
        "operations": args.operations,
        "rounds": rounds,
        "no_group_commit": alone,
        "ratio": spread([r["ratio"] for r in rounds]),
        "target": TARGET,
    }


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def report(result: dict[str, Any]) -> str:
    rows = []
    for i, r in enumerate(result["rounds"]):
        j = r["journal"]
        rows.append(
            {
                "round": i,
                "raw b=100 /s": r["raw_entries_per_s"][100],
                "raw b=1000 /s": r["raw_entries_per_s"][1000],
                "journal /s": j["entries_per_s"],
                "ratio": r["ratio"],
                "txns": j["transactions"],
                "appends/txn": j["appends"] / j["transactions"],
                "docs/entry": j["documents_per_entry"],
            }
        )
    alone = result["no_group_commit"]
    ratio = result["ratio"]
    lines = [
        table(
            rows,
            list(rows[0]),
            f"journal: {result['operations']} operations x "
            f"{result['real_run']['entries']} real entries, fsync per commit",
        ),
        (
            f"group commit off: {alone['entries_per_s']:.0f} entries/s "
            f"({alone['entries']} entries in {alone['seconds']:.1f} s)"
        ),
        (
            f"ratio journal/raw: median {ratio['median']:.2f} (min {ratio['min']:.2f}, "
            f"max {ratio['max']:.2f}); target >= {TARGET}: "
            f"{verdict(ratio['median'], TARGET)}"
        ),
    ]
    profile = result["rounds"][0]["server_profile"]
    if profile:
        lines.append(
            "store server, busy time (inclusive): "
            + ", ".join(f"{name} {share:.0%}" for name, share in profile[:8])
        )
    return "\n".join(lines)


def main() -> None:
    args = arguments(
        __doc__.split("\n")[0],
        operations=(int, 40, "operations appending concurrently"),
        bars=(int, None, "bars of the real run (default: the whole file)"),
        appends=(int, 250, "appends of the real run replayed per operation"),
        no_group_seconds=(float, 20.0, "seconds of the group-commit-off run"),
        profile=(int, 1, "1: py-spy the store server in round 0"),
    )
    if args.smoke:
        args.operations, args.bars, args.no_group_seconds, args.profile = 4, 300, 1.0, 0
        args.appends = None
        args.repeat = args.repeat or 1
    args.repeat = args.repeat or 3
    result = asyncio.run(measure(args))
    print(report(result))
    path = write_result("journal", {"smoke": args.smoke, **result}, args.json)
    print(
        f"wrote {Path(path).relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )


if __name__ == "__main__":
    main()
