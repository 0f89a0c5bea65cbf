"""Where the paper broker keeps its book: the persistence port and the
in-memory implementation (the default).

The store is the paper "venue's" own database, separate from the engine's
journal: after a crash, the engine reconciles its journal against what the
broker reports, so the broker must remember what it had committed. See
:mod:`.mongo_store` for the durable implementation.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .book import PaperBookState, PaperChanges


@runtime_checkable
class PaperStore(Protocol):
    """Durable storage of the paper broker's book."""

    async def load(self) -> PaperBookState:
        """The whole committed state (all accounts); empty if none.

        Raises:
            ConnectionError: the store cannot be reached.
        """
        ...

    async def commit(self, changes: PaperChanges) -> None:
        """Persist ``changes`` atomically: all of them or, on error, none.

        Raises:
            ConnectionError: the store cannot be reached (nothing written).
        """
        ...


class InMemoryPaperStore:
    """A :class:`PaperStore` in process memory: lost when the process ends.

    It keeps its own copy of the state, so brokers sharing one instance see
    each other's commits as a new broker sees a durable store's.
    """

    def __init__(self, state: PaperBookState | None = None) -> None:
        self._state = state.copy() if state is not None else PaperBookState()

    async def load(self) -> PaperBookState:
        return self._state.copy()

    async def commit(self, changes: PaperChanges) -> None:
        self._state.apply(changes)
