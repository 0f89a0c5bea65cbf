"""Interactive Brokers (TWS / IB Gateway) adapter, over ib_async.

Implements the ``Broker`` and ``MarketData`` ports of :mod:`live_trading.engine.ports`; no
ib_async object leaves this package. See :mod:`.client` for the design.
"""

from .client import IBKRBroker
from .config import IBKRConfig
from .parsing import IBKRContractSpec

__all__ = ["IBKRBroker", "IBKRConfig", "IBKRContractSpec"]
