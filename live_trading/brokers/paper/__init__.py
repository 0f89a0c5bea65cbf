"""The built-in paper broker: simulated fills on the bars the engine replays.

Implements the ``Broker`` and ``SimulatedMarket`` ports of
:mod:`live_trading.engine.ports`. Its book is kept in a :class:`PaperStore`:
in memory by default, or durably in MongoDB with :class:`MongoPaperStore`
(wrapped in :class:`GroupCommitPaperStore`, so that the commits of many
operations waiting together share one transaction).
"""

from .book import PaperBookState, PaperChanges, PaperOrder
from .client import PaperBroker
from .config import PaperBrokerConfig
from .group_store import GroupCommitPaperStore
from .mongo_store import MongoPaperStore
from .store import InMemoryPaperStore, PaperStore

__all__ = [
    "GroupCommitPaperStore",
    "InMemoryPaperStore",
    "MongoPaperStore",
    "PaperBookState",
    "PaperBroker",
    "PaperBrokerConfig",
    "PaperChanges",
    "PaperOrder",
    "PaperStore",
]
