"""A paper broker store that keeps nothing: for backtests.

:class:`~.store.InMemoryPaperStore` keeps a second copy of the book so that
a broker restarted in the same process finds what its predecessor
committed. A backtest never restarts its broker: the broker's own state
(:attr:`PaperBroker.state`, which every commit updates once the store has
taken it) is then the only copy needed, and :class:`VolatilePaperStore`
spares the second one.
"""

from __future__ import annotations

from .book import PaperBookState, PaperChanges


class VolatilePaperStore:
    """A :class:`~.store.PaperStore` whose commits always succeed and keep
    nothing: :meth:`load` gives an empty book. Use it only where the broker
    is never reconnected to recover (a backtest)."""

    async def load(self) -> PaperBookState:
        """An empty book (nothing is kept)."""
        return PaperBookState()

    async def commit(self, changes: PaperChanges) -> None:
        """Accept ``changes`` (the broker applies them to its own state)."""
