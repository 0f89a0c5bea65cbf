"""Broker adapters: translate between the engine's order types and a broker.

Each sub-package implements :class:`live_trading.engine.ports.Broker`; the
built-in :mod:`live_trading.brokers.paper` broker also implements
:class:`live_trading.engine.ports.SimulatedMarket`, working orders against
the bars it is shown.
"""
