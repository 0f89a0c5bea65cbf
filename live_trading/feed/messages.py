"""The JSON messages of the live feed.

Every message is a plain JSON-serialisable dict with a ``type``. Journal
entries have the shape of ``GET /api/operations/{id}/journal``; read-model
documents have the shape of the REST API (``id`` and ``*_id`` as hex
strings, times as ISO-8601 UTC, prices in quote currency, quantities in
base-asset units).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bson import ObjectId
from fastapi.encoders import jsonable_encoder

from live_trading.domain.projection import Changes, JournalRecord, OperationState
from live_trading.journal.documents import READ_MODELS
from live_trading.journal.mongo_journal import encode_document
from live_trading.journal.serialize import document_json, journal_json

JOURNAL_ENTRY = "journal_entry"
SNAPSHOT = "snapshot"
HELLO = "hello"


def jsonable(value: Any) -> Any:
    """``value`` with ObjectIds as hex strings and datetimes as ISO-8601."""
    return jsonable_encoder(value, custom_encoder={ObjectId: str})


def read_model_json(collection: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A projection document of ``collection`` as the REST API shows it.

    Raises:
        KeyError: ``collection`` is not a read model.
    """
    model = READ_MODELS[collection]
    return jsonable(document_json(model.model_validate(encode_document(doc))))


def changes_json(changes: Changes) -> dict[str, list[dict[str, Any]]]:
    """``{collection: [documents]}`` of the documents a record changed."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (collection, _doc_id), doc in changes.items():
        grouped[collection].append(read_model_json(collection, doc))
    return dict(grouped)


def entry_message(record: JournalRecord, changes: Changes | None = None) -> dict[str, Any]:
    """A ``journal_entry`` message. ``changes`` None means a replayed entry
    (read back from the journal): it carries ``"replayed": true`` and no
    ``changes``."""
    message: dict[str, Any] = {
        "type": JOURNAL_ENTRY,
        "operation_id": record.operation_id,
        "sequence_number": record.sequence_number,
        "replayed": changes is None,
        "entry": jsonable(journal_json(record)),
    }
    if changes is not None:
        message["changes"] = changes_json(changes)
    return message


def snapshot_message(state: OperationState) -> dict[str, Any]:
    """A ``snapshot`` message: the operation's read models as of
    ``state.last_sequence`` (the operation, its open position(s), its
    working orders)."""
    operation = state.operation
    positions = [] if state.position is None else [state.position.doc]
    return {
        "type": SNAPSHOT,
        "operation_id": state.operation_id,
        "sequence_number": state.last_sequence,
        "operation": None
        if operation is None
        else read_model_json("trading_operations", operation),
        "positions": [read_model_json("positions", p) for p in positions],
        "orders": [read_model_json("orders", o) for o in state.working_orders()],
    }


def hello_message(last_sequences: dict[str, int]) -> dict[str, Any]:
    """A ``hello`` message: ``{operation id: last sequence number}`` of
    every operation when the subscription started."""
    return {"type": HELLO, "last_sequences": dict(last_sequences)}
