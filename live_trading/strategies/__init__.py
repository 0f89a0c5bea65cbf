"""Trading strategies: the interface, the implementations and the registry."""

from .base import Signal, Strategy
from .momentum import MomentumParams, MomentumState, MomentumStrategy
from .registry import (
    STRATEGIES,
    UnknownStrategyError,
    create_strategy,
    strategy_names,
    validate_params,
)

__all__ = [
    "STRATEGIES",
    "MomentumParams",
    "MomentumState",
    "MomentumStrategy",
    "Signal",
    "Strategy",
    "UnknownStrategyError",
    "create_strategy",
    "strategy_names",
    "validate_params",
]
