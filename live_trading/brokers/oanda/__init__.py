"""OANDA v20 adapter: ``Broker`` and ``MarketData`` over OANDA's REST API.

See :mod:`.client` for how orders, brackets and reports map to OANDA.
"""

from .client import OANDABroker
from .config import OANDAConfig, OANDAEnvironment

__all__ = ["OANDABroker", "OANDAConfig", "OANDAEnvironment"]
