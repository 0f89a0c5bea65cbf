"""The built-in paper broker: simulated fills on the bars the engine replays.

Implements the ``Broker`` and ``SimulatedMarket`` ports of
:mod:`live_trading.engine.ports`.
"""

from .client import PaperBookState, PaperBroker, PaperOrder
from .config import PaperBrokerConfig

__all__ = ["PaperBookState", "PaperBroker", "PaperBrokerConfig", "PaperOrder"]
