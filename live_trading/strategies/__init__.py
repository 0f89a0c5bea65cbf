"""Trading strategies: the interface, the implementations and the registry."""

from .base import Signal, Strategy
from .mean_reversion import MeanReversionParams, MeanReversionState, MeanReversionStrategy
from .momentum import MomentumParams, MomentumState, MomentumStrategy
from .overnight_range import OvernightRangeParams, OvernightRangeState, OvernightRangeStrategy
from .registry import (
    STRATEGIES,
    UnknownStrategyError,
    create_strategy,
    strategy_names,
    validate_params,
)
from .trend_following import TrendFollowingParams, TrendFollowingState, TrendFollowingStrategy

__all__ = [
    "STRATEGIES",
    "MeanReversionParams",
    "MeanReversionState",
    "MeanReversionStrategy",
    "MomentumParams",
    "MomentumState",
    "MomentumStrategy",
    "OvernightRangeParams",
    "OvernightRangeState",
    "OvernightRangeStrategy",
    "Signal",
    "Strategy",
    "TrendFollowingParams",
    "TrendFollowingState",
    "TrendFollowingStrategy",
    "UnknownStrategyError",
    "create_strategy",
    "strategy_names",
    "validate_params",
]
