"""normal_form equals the BSON round trip it replaces; the fast ids have the
formats of ObjectId and uuid4."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum, StrEnum

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from live_trading.journal.ids import object_ids, uuid4s
from live_trading.journal.normal_form import bson_round_trip, normal_form


class Colour(StrEnum):
    RED = "RED"


class Level(IntEnum):
    HIGH = 3


times = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), None]),
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | times
    | st.just(Colour.RED)
    | st.just(Level.HIGH)
)
keys = st.text(max_size=6).filter(lambda k: "\x00" not in k)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values, max_size=6))
def test_normal_form_is_the_bson_round_trip(data: dict) -> None:
    expected = bson_round_trip(data)
    got = normal_form(data)
    assert got == expected
    assert _types(got) == _types(expected)


def _types(value):
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    if isinstance(value, datetime):
        return (datetime, value.utcoffset())
    return type(value)


def test_normal_form_shares_no_container_with_its_input() -> None:
    data = {"bars": [{"time": datetime(2025, 1, 1, tzinfo=UTC), "close": 1.4}], "tags": ("a",)}
    got = normal_form(data)
    got["bars"][0]["close"] = 0.0
    assert data["bars"][0]["close"] == 1.4
    assert got["tags"] == ["a"]


def test_times_become_utc_milliseconds() -> None:
    moment = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert normal_form({"t": moment})["t"] == datetime(2025, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    naive = datetime(2025, 3, 1, 12, 0, 0, 999999)
    assert normal_form({"t": naive})["t"] == datetime(2025, 3, 1, 12, 0, 0, 999000, tzinfo=UTC)


def test_values_bson_cannot_hold_fail_as_they_would_in_the_store() -> None:
    import bson.errors
    import pytest

    with pytest.raises(bson.errors.InvalidDocument):
        normal_form({"s": {1, 2}})
    with pytest.raises(OverflowError):
        normal_form({"n": 2**64})


def test_ids_have_the_standard_formats_and_are_unique() -> None:
    events = uuid4s(500)
    for text in events:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    entries = object_ids(500)
    assert len(set(entries)) == 500 and len(set(events)) == 500
    for text in entries:
        assert str(ObjectId(text)) == text
    assert abs(ObjectId(entries[0]).generation_time - datetime.now(UTC)) < timedelta(minutes=1)
