"""Typed events: the one decoder from journal entry to event, and a journal
written before events were typed folding to the very same read models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from live_trading.domain import events as ev
from live_trading.domain.events import EventDecodeError, decode, event_data
from live_trading.domain.orders import OrderRole
from live_trading.domain.projection import JournalRecord, ProjectionError, fold
from live_trading.domain.values import OrderType, PositionSide, Side
from live_trading.journal.normal_form import normal_form

FIXTURE = Path(__file__).parent.parent / "fixtures" / "journal_before_typed_events.json"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def _dates(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return datetime.fromisoformat(value["$date"])
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value


def _old_journal() -> list[dict[str, Any]]:
    return _dates(json.loads(FIXTURE.read_text()))["operations"]


def test_a_journal_written_before_typed_events_folds_to_the_same_read_models() -> None:
    """The fixture was made by the code before this change (main at 36e0245):
    a 400-bar backtest and a hand-built order lifecycle (bracket, outcome
    unknown, cancel failed, late commissions, reversals, rejection)."""
    operations = _old_journal()
    assert sum(len(o["records"]) for o in operations) > 150
    for operation in operations:
        records = [JournalRecord(**r) for r in operation["records"]]
        _, documents = fold(operation["operation_id"], records)
        expected = {(d["collection"], d["doc"]["_id"]): d["doc"] for d in operation["documents"]}
        assert set(documents) == set(expected)
        for key, doc in documents.items():
            stored = normal_form(doc)  # what the store keeps: enums as plain strings
            assert stored == expected[key], key
            assert json.dumps(stored, default=str, sort_keys=True) == json.dumps(
                expected[key], default=str, sort_keys=True
            )


def test_read_models_carry_enum_members() -> None:
    operation = _old_journal()[1]
    _, documents = fold(
        operation["operation_id"], [JournalRecord(**r) for r in operation["records"]]
    )
    orders = [d for (c, _), d in documents.items() if c == "orders"]
    assert {type(o["order_role"]) for o in orders} == {OrderRole}
    assert {type(o["action"]) for o in orders} == {Side}
    assert {type(o["order_type"]) for o in orders} == {OrderType}
    trades = [d for (c, _), d in documents.items() if c == "trades"]
    assert trades and {type(t["position_type"]) for t in trades} == {PositionSide}


def _every_event() -> list[ev.Event]:
    return [
        ev.OrderSubmitted(
            "c1",
            OrderRole.STOP_LOSS,
            Side.SELL,
            OrderType.STOP,
            5.0,
            stop_price=1.2,
            parent_client_order_id="p",
        ),
        ev.OrderFilled("x", "c1", "b", Side.BUY, 1.0, 1.3, 0.5, T0),
        ev.SignalGenerated("1 hour", {"time": T0}, PositionSide.SHORT, "r", {}, "entered"),
        ev.SignalGenerated("1 hour", {"time": T0}, None, "r", {}, "flat"),
        ev.TriggerEvaluated("c", 1.0, PositionSide.LONG, None, None, None, "none"),
        ev.CommissionReported("x", "c1", 1.5, T0),
        ev.OperationPaused("why"),
    ]


@pytest.mark.parametrize("event", _every_event(), ids=lambda e: type(e).__name__)
def test_decode_gives_back_the_event_from_its_stored_form(event: ev.Event) -> None:
    stored = normal_form(event_data(event))
    assert all(type(v) is not Side for v in stored.values())  # plain strings in the store
    decoded = decode(event.ACTION_TYPE, stored)
    assert decoded == event
    assert type(decoded) is type(event)
    for name in ("role", "side", "order_type", "target", "position_side"):
        value = getattr(event, name, None)
        if value is not None:
            assert type(getattr(decoded, name)) is type(value)


def test_every_event_class_is_known_by_its_action_type() -> None:
    classes = [
        v
        for v in vars(ev).values()
        if isinstance(v, type) and issubclass(v, ev.Event) and v is not ev.Event
    ]
    assert len(classes) == len(ev.EVENT_TYPES) > 20
    for kind in classes:
        assert ev.EVENT_TYPES[kind.ACTION_TYPE] is kind


def test_decode_fills_defaults_of_older_entries_and_ignores_unknown_keys() -> None:
    data = {
        "bar_size": "1 hour",
        "bar": {},
        "target": "LONG",
        "reason": "",
        "indicators": {},
        "decision": "entered",
        "written_by_a_later_version": 1,
    }
    event = decode("SIGNAL_GENERATED", data)
    assert event == ev.SignalGenerated("1 hour", {}, PositionSide.LONG, "", {}, "entered", [])


@pytest.mark.parametrize(
    ("action_type", "data", "message"),
    [
        ("NO_SUCH_EVENT", {}, "unknown event type"),
        ("ORDER_ACCEPTED", {"client_order_id": "c"}, "missing field 'broker_order_id'"),
        (
            "ORDER_SUBMITTED",
            {
                "client_order_id": "c",
                "role": "ENTRY",
                "side": "buy",
                "order_type": "MARKET",
                "quantity": 1.0,
            },
            "side 'buy'",
        ),
        (
            "ORDER_SUBMITTED",
            {
                "client_order_id": "c",
                "role": "HEDGE",
                "side": "BUY",
                "order_type": "MARKET",
                "quantity": 1.0,
            },
            "role 'HEDGE'",
        ),
    ],
)
def test_decode_rejects_entries_that_are_not_valid_events(
    action_type: str, data: dict, message: str
) -> None:
    with pytest.raises(EventDecodeError, match=message):
        decode(action_type, data)


def test_the_projection_refuses_an_order_with_an_unknown_side() -> None:
    operation = _old_journal()[1]
    records = [JournalRecord(**r) for r in operation["records"][:3]]
    submitted = next(r for r in records if r.action_type == "ORDER_SUBMITTED")
    bad = JournalRecord(
        **{**operation["records"][2], "action_data": {**submitted.action_data, "side": "SIDEWAYS"}}
    )
    with pytest.raises(ProjectionError, match="side 'SIDEWAYS'"):
        fold(operation["operation_id"], [*records[:2], bad])


def test_a_journal_record_gives_its_event() -> None:
    operation = _old_journal()[1]
    records = [JournalRecord(**r) for r in operation["records"]]
    submitted = next(r for r in records if r.action_type == "ORDER_SUBMITTED")
    event = submitted.event
    assert isinstance(event, ev.OrderSubmitted)
    assert event.role is OrderRole.ENTRY and event.side is Side.BUY
    assert event.order_type is OrderType.MARKET
    assert [type(r.event).ACTION_TYPE for r in records] == [r.action_type for r in records]
