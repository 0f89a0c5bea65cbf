"""Values as the store gives them back: the BSON round trip, computed directly.

A journal entry's data is applied to the operation's state in the form it
will have when read back from the store, so that the state kept in memory
equals one rebuilt from the journal. That form is what a BSON encode and
decode (times aware UTC) produce: times in UTC truncated to milliseconds
(a naive time taken as UTC), tuples as lists, ``str`` subclasses such as
``StrEnum`` members as plain strings, integers beyond 32 bits as ``Int64``.
:func:`normal_form` builds it in
Python for the types journal data is made of (dict, list, tuple, str,
float, int, bool, None, datetime) -- several times faster than the round
trip, whose time goes mostly into converting aware datetimes -- and falls
back to the round trip itself for anything else, so the result is always
exactly the round trip's (``tests/unit/test_normal_form.py`` checks it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.int64 import Int64

BSON_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
_INT32, _INT64 = 1 << 31, 1 << 63


class _Unusual(Exception):
    """A value outside the fast path: use the real round trip."""


def bson_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` encoded to BSON and decoded again (times aware UTC).

    Raises:
        bson.errors.InvalidDocument, OverflowError: BSON cannot hold a value.
    """
    return bson.decode(bson.encode({"d": data}), codec_options=BSON_OPTIONS)["d"]


def normal_form(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it will read back from the store: equal to
    :func:`bson_round_trip` (a new dict; no container is shared with ``data``).

    Raises:
        bson.errors.InvalidDocument, OverflowError: BSON cannot hold a value.
    """
    try:
        return _dict(data)
    except _Unusual:
        return bson_round_trip(data)


def _dict(data: Any) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if type(key) is not str or "\x00" in key:
            raise _Unusual
        kind = type(value)  # the common cases inline: this runs for every value
        if (
            kind is float
            or kind is str
            or value is None
            or kind is datetime
            and value.tzinfo is UTC
            and not value.microsecond % 1000
        ):
            out[key] = value
        else:
            out[key] = _value(value)
    return out


def _value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is float or kind is bool or value is None:
        return value
    if kind is int:
        if -_INT32 <= value < _INT32:
            return value
        if -_INT64 <= value < _INT64:
            return Int64(value)  # BSON reads a 64-bit integer back as Int64
        raise _Unusual
    if kind is dict:
        return _dict(value)
    if kind is list or kind is tuple:
        return [_value(v) for v in value]
    if kind is datetime:
        return _time(value)
    if isinstance(value, str):
        return value[:]  # a str subclass (StrEnum): BSON keeps the plain string
    raise _Unusual


def _time(moment: datetime) -> datetime:
    """UTC, whole milliseconds (BSON keeps milliseconds since the epoch)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.microsecond % 1000:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment
