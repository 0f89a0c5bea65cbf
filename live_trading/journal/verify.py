"""``live-trading journal verify``: the journal's guarantees, checked.

For every operation: sequence numbers run 1..n with no gap and no
duplicate (archive included); the fold of its entries succeeds; every
read-model document equals the fold's (and there is no stray one); the state
checkpoint equals the fold at its sequence number.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bson import ObjectId

from live_trading.domain.projection import OPERATIONS, JournalRecord, ProjectionError, fold
from live_trading.domain.snapshot import state_to_snapshot

from .documents import READ_MODELS
from .mongo_journal import MongoJournal, encode_document
from .service import normalise


def sequence_problems(records: list[JournalRecord]) -> list[str]:
    numbers = [r.sequence_number for r in records]
    counts = Counter(numbers)
    problems = [f"sequence {n} appears {c} times" for n, c in sorted(counts.items()) if c > 1]
    expected = set(range(1, (max(numbers) if numbers else 0) + 1))
    missing = sorted(expected - set(numbers))
    if missing:
        problems.append(
            f"missing sequence numbers {missing[:10]}{' ...' if len(missing) > 10 else ''}"
        )
    return problems


async def _stored(journal: MongoJournal, operation_id: str) -> dict[tuple[str, Any], dict]:
    oid = ObjectId(operation_id)
    stored: dict[tuple[str, Any], dict] = {}
    for collection in READ_MODELS:
        query = {"_id": oid} if collection == OPERATIONS else {"operation_id": oid}
        async for doc in journal.store.db[collection].find(query):
            stored[(collection, doc["_id"])] = doc
    return stored


async def verify_operation(journal: MongoJournal, operation_id: str) -> list[str]:
    records = await journal.read(operation_id)
    problems = sequence_problems(records)
    if problems:
        return problems
    try:
        state, documents = fold(operation_id, records)
    except ProjectionError as error:
        return [f"the journal does not fold: {error}"]
    stored = await _stored(journal, operation_id)
    for (collection, doc_id), doc in documents.items():
        got = stored.pop((collection, ObjectId(doc_id)), None)
        expected = encode_document(doc)
        if got != expected:
            fields = sorted(
                k for k in {*expected, *(got or {})} if (got or {}).get(k) != expected.get(k)
            )
            problems.append(
                f"{collection} {doc_id} differs from the journal's projection "
                f"({'missing' if got is None else ', '.join(fields)})"
            )
    problems += [f"{c} {i} is not produced by the journal" for c, i in stored]
    problems += await _checkpoint_problems(journal, operation_id, records)
    return problems


async def _checkpoint_problems(
    journal: MongoJournal, operation_id: str, records: list[JournalRecord]
) -> list[str]:
    checkpoint = await journal.load_checkpoint(operation_id)
    if checkpoint is None:
        return []
    checkpoint.pop("_id", None)
    state, _ = fold(operation_id, records[: checkpoint["last_sequence"]])
    if normalise(state_to_snapshot(state)) != checkpoint:
        return [f"checkpoint at sequence {checkpoint['last_sequence']} differs from the fold"]
    return []


async def verify_journal(journal: MongoJournal) -> dict[str, list[str]]:
    """Problems per operation id (empty lists when all is well)."""
    return {op: await verify_operation(journal, op) for op in await journal.operation_ids()}
