"""From journal entries to events and back, for any registry of event
dataclasses (:mod:`.events` holds the registry of this engine).

An entry is ``action_type`` (the event's ``ACTION_TYPE``) and
``action_data`` (its fields by name, enum members stored as their string
values). Decoding turns enum fields back into their members, lets fields
missing from older entries take their defaults and ignores keys the event
does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from enum import StrEnum
from types import NoneType, UnionType
from typing import Any, Generic, TypeVar, get_args, get_type_hints

E = TypeVar("E")

Plan = tuple[tuple[str, type[StrEnum] | None, bool], ...]
"""(field name, its enum type or None, required) for each field of an event."""


class EventDecodeError(ValueError):
    """A journal entry is not a valid event of its type: a required field is
    missing or an enum field holds a value outside its set."""


class EventCodec(Generic[E]):
    """Encodes and decodes the event dataclasses of ``types`` (every event
    class by its ``ACTION_TYPE``); the decoding plan of each class is worked
    out once, here."""

    def __init__(self, types: Mapping[str, type[E]]) -> None:
        self.types = types
        self._plans: dict[type[E], Plan] = {kind: decoding_plan(kind) for kind in types.values()}

    def _plan(self, kind: type[E]) -> Plan:
        return self._plans.get(kind) or decoding_plan(kind)

    def data(self, event: E) -> dict[str, Any]:
        """The ``action_data`` of ``event``: its fields by name (enum members
        as they are; the store keeps their string values)."""
        return {name: getattr(event, name) for name, _, _ in self._plan(type(event))}

    def decode(self, action_type: str, data: Mapping[str, Any]) -> E:
        """The event a journal entry holds: ``action_type`` and ``action_data``
        as stored (or as :meth:`data` made them). Enum fields become their
        enum members; fields missing from older entries take their defaults;
        keys the event does not have are ignored.

        Raises:
            EventDecodeError: ``action_type`` is unknown, a required field is
                missing, or an enum field's value is not one of its members.
        """
        kind = self.types.get(action_type)
        if kind is None:
            raise EventDecodeError(f"unknown event type {action_type!r}")
        return self.decode_as(kind, data)

    def decode_as(self, kind: type[E], data: Mapping[str, Any]) -> E:
        """Like :meth:`decode`, for an event class already looked up."""
        values: dict[str, Any] = {}
        for name, enum, required in self._plan(kind):
            if name not in data:
                if required:
                    raise EventDecodeError(f"{_action_type(kind)}: missing field {name!r}")
                continue
            value = data[name]
            if enum is not None and value is not None:
                try:
                    value = enum(value)
                except ValueError:
                    raise EventDecodeError(
                        f"{_action_type(kind)}: {name} {value!r} is not one "
                        f"of {[m.value for m in enum]}"
                    ) from None
            values[name] = value
        return kind(**values)


def _action_type(kind: type[Any]) -> str:
    return str(getattr(kind, "ACTION_TYPE", kind.__name__))


def decoding_plan(kind: type[Any]) -> Plan:
    """(field name, its enum type or None, required) for each field of the
    dataclass ``kind``."""
    hints = get_type_hints(kind)
    return tuple(
        (f.name, _enum_of(hints[f.name]), f.default is MISSING and f.default_factory is MISSING)
        for f in fields(kind)
    )


def _enum_of(hint: Any) -> type[StrEnum] | None:
    """The StrEnum of a field typed ``E`` or ``E | None``, else None."""
    options = get_args(hint) if isinstance(hint, UnionType) else (hint,)
    enums = [
        o for o in options if o is not NoneType and isinstance(o, type) and issubclass(o, StrEnum)
    ]
    return enums[0] if enums else None
