"""Strategies by name, and creation from plain (JSON/YAML) parameters."""

from __future__ import annotations

from typing import Any

from .base import Strategy
from .mean_reversion import MeanReversionStrategy
from .momentum import MomentumStrategy
from .overnight_range import OvernightRangeStrategy
from .trend_following import TrendFollowingStrategy

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        MomentumStrategy,
        MeanReversionStrategy,
        TrendFollowingStrategy,
        OvernightRangeStrategy,
    )
}


class UnknownStrategyError(ValueError):
    """No strategy is registered under the given name."""


def strategy_names() -> list[str]:
    """Registered strategy names, sorted."""
    return sorted(STRATEGIES)


def _strategy_class(name: str) -> type[Strategy]:
    try:
        return STRATEGIES[name]
    except (KeyError, TypeError):
        known = ", ".join(strategy_names())
        raise UnknownStrategyError(
            f"unknown strategy {name!r}; known strategies: {known}"
        ) from None


def create_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    """Build the strategy ``name`` from plain parameters.

    Raises:
        UnknownStrategyError: ``name`` is not registered (message lists names).
        pydantic.ValidationError: the parameters are invalid.
    """
    cls = _strategy_class(name)
    return cls(cls.params_model.model_validate(params or {}))


def validate_params(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate parameters of ``name``; return them normalised, defaults filled.

    Raises:
        UnknownStrategyError, pydantic.ValidationError: as :func:`create_strategy`.
    """
    cls = _strategy_class(name)
    return cls.params_model.model_validate(params or {}).model_dump()
