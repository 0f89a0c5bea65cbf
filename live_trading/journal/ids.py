"""Ids of journal entries, made for the hot path.

Every entry gets an entry id (an ObjectId, the ``_id`` of its document) and
an event id (a random UUID, which recognises a retried append). Making them
with ``bson.ObjectId()`` and ``uuid.uuid4()`` costs more than the rest of an
in-memory append, so they are made here in the same formats, cheaper:

* :func:`object_ids` -- the ObjectId layout (4 bytes of seconds since the
  epoch, 5 random bytes drawn once per process and again in a forked child,
  a 3-byte counter starting at a random value), as 24 hex digits;
* :func:`uuid4s` -- version 4, RFC 4122 variant UUIDs from ``os.urandom``
  (one system call for all the ids of an append), in the canonical
  8-4-4-4-12 form.
"""

from __future__ import annotations

import itertools
import os
import time

_VERSION_MASK = ~(0xF000 << 64) & ~(0xC000 << 48)
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


class _ObjectIdState:
    """The per-process part of an ObjectId and its counter."""

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.process = os.urandom(5).hex()
        self.counter = itertools.count(int.from_bytes(os.urandom(3), "big"))


_STATE = _ObjectIdState()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_STATE.reseed)


def object_ids(count: int) -> list[str]:
    """``count`` new ObjectIds as 24-hex strings (unique within and across
    processes, as ``bson.ObjectId()`` makes them)."""
    prefix = f"{int(time.time()) & 0xFFFFFFFF:08x}{_STATE.process}"
    counter = _STATE.counter
    return [f"{prefix}{next(counter) & 0xFFFFFF:06x}" for _ in range(count)]


def uuid4s(count: int) -> list[str]:
    """``count`` new random (version 4) UUIDs, as ``str(uuid.uuid4())`` gives them."""
    raw = os.urandom(16 * count)
    ids = []
    for start in range(0, 16 * count, 16):
        number = int.from_bytes(raw[start : start + 16], "big") & _VERSION_MASK | _VERSION_BITS
        h = f"{number:032x}"
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids
