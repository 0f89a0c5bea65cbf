"""JSON shapes of read-model documents and journal entries, shared by the REST
API, the live feed and the CLI (``id`` and ``*_id`` as hex strings, times as
ISO-8601 UTC)."""

from __future__ import annotations

from typing import Any

from beanie import Document
from fastapi.encoders import jsonable_encoder

from live_trading.domain.projection import JournalRecord


def document_json(doc: Document) -> dict[str, Any]:
    """A read-model document as JSON: ``id`` and ``*_id`` as hex strings,
    times as ISO-8601 UTC."""
    return doc.model_dump(mode="json", by_alias=False)


def journal_json(record: JournalRecord) -> dict[str, Any]:
    return jsonable_encoder(
        {
            "id": record.entry_id,
            "operation_id": record.operation_id,
            "sequence_number": record.sequence_number,
            "action_type": record.action_type,
            "action_data": dict(record.action_data),
            "timestamp": record.timestamp,
            "source": record.source,
            "event_id": record.event_id,
            "user": record.user,
        }
    )
