"""Strategies: names, descriptions and parameter schemas (for forms)."""

from __future__ import annotations

from fastapi import APIRouter

from live_trading.api.auth import Viewer
from live_trading.api.schemas import StrategyOut
from live_trading.strategies import STRATEGIES

router = APIRouter(prefix="/api/strategies", tags=["strategies"])


@router.get("", response_model_exclude_unset=True)
def list_strategies(user: Viewer) -> list[StrategyOut]:
    """Registered strategies with the JSON schema of their parameters."""
    result = []
    for name in sorted(STRATEGIES):
        cls = STRATEGIES[name]
        defaults = cls.params_model()
        result.append(
            StrategyOut.model_validate(
                {
                    "name": name,
                    "description": (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
                    "params_schema": cls.params_schema(),
                    "defaults": defaults.model_dump(mode="json"),
                    "higher_bar_sizes": list(cls(defaults).higher_bar_sizes()),
                }
            )
        )
    return result
