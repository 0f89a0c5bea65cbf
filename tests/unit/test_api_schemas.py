"""The API's response models: every route declares one, and the read-model
answers mirror the read models (``live_trading/journal/documents.py``)."""

from __future__ import annotations

import asyncio
import enum
import types
from datetime import UTC, datetime
from typing import Any, Union, get_args, get_origin

import httpx
import pytest
from beanie import Document, PydanticObjectId
from pydantic import BaseModel

from live_trading.api.schemas import (
    BrokerConfigOut,
    JournalEntryOut,
    OrderOut,
    PositionOut,
    TradeOut,
    TradingOperationOut,
    TransactionOut,
)
from live_trading.brokers.configs import BrokerConfig
from live_trading.journal.documents import (
    JournalEntry,
    Order,
    Position,
    Trade,
    TradingOperation,
    Transaction,
)
from live_trading.journal.serialize import document_json

MIRRORS: list[tuple[type[Document], type[BaseModel]]] = [
    (TradingOperation, TradingOperationOut),
    (Order, OrderOut),
    (Transaction, TransactionOut),
    (Position, PositionOut),
    (Trade, TradeOut),
]
NOT_SENT = {"revision_id"}  # Beanie's, excluded from every dump


def _document_fields(document: type[Document]) -> dict[str, Any]:
    return {name: field for name, field in document.model_fields.items() if name not in NOT_SENT}


def _default(field: Any) -> Any:
    if field.default_factory is not None:
        return field.default_factory()
    return field.default


@pytest.mark.parametrize(("document", "out"), MIRRORS, ids=lambda m: m.__name__)
def test_a_read_model_answer_has_the_read_models_fields_types_and_defaults(document, out):
    fields = _document_fields(document)
    assert list(out.model_fields) == list(fields), (
        f"{out.__name__} must list {document.__name__}'s fields in its order"
    )
    for name, field in fields.items():
        sent = out.model_fields[name]
        expected = PydanticObjectId if name == "id" else field.annotation
        assert sent.annotation == expected, (
            f"{out.__name__}.{name}: {sent.annotation}, the read model says {expected}"
        )
        if name != "id":
            assert sent.is_required() == field.is_required(), f"{out.__name__}.{name}"
            assert _default(sent) == _default(field), f"{out.__name__}.{name}"


def test_journal_entries_and_broker_configs_send_their_documents_fields():
    journal = list(_document_fields(JournalEntry))
    assert list(JournalEntryOut.model_fields) == journal
    broker = [n for n in _document_fields(BrokerConfig) if n != "api_key"]
    assert list(BrokerConfigOut.model_fields) == [*broker, "api_key_set"]


def _sample(annotation: Any, name: str) -> Any:
    """A value of ``annotation`` (never None) for a filled-in document."""
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    origin = get_origin(annotation)
    if origin is list:
        return [_sample(get_args(annotation)[0], name)]
    if origin is dict or annotation is dict:
        return {"nested": {"period": 3, "at": "2025-01-15T04:00:00Z"}}
    samples = {
        str: f"{name}-value",
        float: 1.23456789,
        int: 7,
        bool: True,
        datetime: datetime(2025, 1, 15, 4, 0, 0, 123000, tzinfo=UTC),
    }
    if annotation is PydanticObjectId:
        return PydanticObjectId()
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return list(annotation)[-1]  # sides, roles, statuses: a member of the set
    return samples[annotation]


@pytest.mark.parametrize("filled", [True, False], ids=["every field set", "defaults"])
@pytest.mark.parametrize(("document", "out"), MIRRORS, ids=lambda m: m.__name__)
def test_a_read_model_answer_is_what_the_document_serializes_to(document, out, filled):
    fields = _document_fields(document)
    values = {
        name: _sample(field.annotation, name)
        for name, field in fields.items()
        if filled or field.is_required() or name == "id"
    }
    doc = document.model_construct(**values)
    answer = out.model_validate(doc).model_dump(mode="json")
    assert answer == document_json(doc)
    assert list(answer) == list(document_json(doc))


# --- every operation of the OpenAPI schema answers a typed 2xx ---------------

SCALARS = {"string", "number", "integer", "boolean"}


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _typed(schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    """True when ``schema`` says what the answer holds: a scalar or enum, an
    array of typed items, an object with properties (not a free-form or
    empty schema)."""
    schema = _resolve(schema, spec)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        present = [b for b in branches if b.get("type") != "null"]
        return bool(present) and all(_typed(b, spec) for b in present)
    if schema.get("type") == "array":
        return _typed(schema.get("items", {}), spec)
    if schema.get("type") == "object" or "properties" in schema:
        return bool(schema.get("properties"))
    return schema.get("type") in SCALARS or "enum" in schema or "const" in schema


def test_the_typing_check_refuses_free_form_answers():
    spec: dict[str, Any] = {"components": {"schemas": {"A": {"properties": {"x": {}}}}}}
    assert not _typed({}, spec)
    assert not _typed({"type": "object", "additionalProperties": True}, spec)
    assert not _typed({"type": "array", "items": {"type": "object"}}, spec)
    assert _typed({"type": "array", "items": {"$ref": "#/components/schemas/A"}}, spec)
    assert _typed({"type": "string"}, spec)


@pytest.fixture(scope="module")
def spec(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    """``GET /openapi.json`` of the app (its lifespan, store and engine never
    start: the schema only reads the routes)."""
    monkeypatch_module.setenv("ENVIRONMENT", "development")
    from live_trading.api.app import create_app

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get("/openapi.json")

    response = asyncio.run(fetch())
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_operation_answers_a_typed_2xx_schema(spec):
    untyped = []
    operations = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 36
    for path, method, operation in operations:
        answers = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        schemas = [
            media.get("schema", {})
            for r in answers.values()
            for media in r.get("content", {}).values()
        ]
        if not schemas or not all(_typed(s, spec) for s in schemas):
            untyped.append(f"{method.upper()} {path}")
    assert untyped == [], f"answers without a typed 2xx schema: {untyped}"
