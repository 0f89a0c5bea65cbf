"""The ranges an operation's settings must lie in, and the limits of its
free-form JSON fields.

Every number is a JSON number (``true`` or ``"10000"`` are refused, not
converted; an integer field takes ``100.0`` as JSON Schema does), finite
(``NaN``, ``Infinity``, and ``1e309``, which reads as infinity, are refused)
and within a range that can trade:

* ``quantity``: base units, 1e-8 .. 1e9;
* ``initial_capital``: quote currency, 0.01 .. 1e12;
* ``max_daily_loss``: quote currency per UTC day, 0.01 .. 1e12;
* ``emergency_stop_loss_pct``: fraction of the entry price, 1e-4 .. 1;
* ``stop_loss_value``, ``take_profit_value``: by their type, below.

Stop and target values by type (units as in
:mod:`live_trading.domain.protection`): ATR, a multiple of the ATR, 0.01 ..
100; PERCENTAGE, a fraction of the price, 1e-5 .. below 1 (a distance of
the whole price puts a short's target, or a long's stop, at zero);
FIXED, a price distance, 1e-8 .. 1e6; RISK_REWARD, a multiple of the stop
distance, 0.01 .. 100.

Free-form objects (an operation's ``strategy_config``, a broker's
``config``): at most :data:`MAX_JSON_DEPTH` levels deep and
:data:`MAX_JSON_BYTES` bytes as JSON, every number finite.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

MIN_QUANTITY, MAX_QUANTITY = 1e-8, 1e9
MIN_MONEY, MAX_MONEY = 0.01, 1e12
MAX_JSON_DEPTH = 20
MAX_JSON_BYTES = 65_536


def strict_number(
    low: float, high: float, *, low_open: bool = False, description: str | None = None
) -> Any:
    """A strict, finite float type within ``[low, high]`` (``(low, high]``
    with ``low_open``), for a pydantic field."""
    return Annotated[
        float,
        Field(
            strict=True,
            allow_inf_nan=False,
            le=high,
            gt=low if low_open else None,
            ge=None if low_open else low,
            description=description,
        ),
    ]


Quantity = strict_number(MIN_QUANTITY, MAX_QUANTITY, description="base units")
Money = strict_number(MIN_MONEY, MAX_MONEY, description="quote currency")
DailyLoss = strict_number(MIN_MONEY, MAX_MONEY, description="quote currency per UTC day")
EmergencyFraction = strict_number(1e-4, 1.0, description="fraction of the entry price")
# The widest range of any stop or target type; :func:`protection_problem` narrows it.
ProtectionValue = strict_number(
    0.0,
    1e6,
    low_open=True,
    description=(
        "ATR: multiple of the ATR (0.01-100); PERCENTAGE: fraction of the price (1e-5 to "
        "below 1); FIXED: price distance (1e-8 to 1e6); RISK_REWARD: multiple of the stop "
        "distance (0.01-100)"
    ),
)


def json_number(value: Any) -> Any:
    """``value`` if it is a JSON number (not ``true``, not ``"10"``).

    Raises:
        ValueError: it is a boolean, a string or anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    return value


# An integer as JSON Schema has it: 100 and 100.0 are both the integer 100;
# 100.5, true and "100" are not.
WholeNumber = Annotated[int, BeforeValidator(json_number)]
RetentionBars = Annotated[WholeNumber, Field(ge=50, le=1_000_000)]

# (lowest, highest, highest excluded) by stop or target type.
STOP_RANGES: dict[str, tuple[float, float, bool]] = {
    "ATR": (0.01, 100.0, False),
    "PERCENTAGE": (1e-5, 1.0, True),
    "FIXED": (1e-8, 1e6, False),
    "RISK_REWARD": (0.01, 100.0, False),
}


def protection_problem(kind: str, value: float) -> str | None:
    """Why ``value`` cannot be a stop or target of type ``kind``, or None."""
    low, high, high_open = STOP_RANGES[str(kind)]
    too_high = value >= high if high_open else value > high
    if value < low or too_high:
        upper = f"below {high:g}" if high_open else f"at most {high:g}"
        return f"must be at least {low:g} and {upper} for {kind}, got {value:g}"
    return None


def free_form_problem(value: Any) -> str | None:
    """Why ``value`` (a parsed JSON object) is not an acceptable free-form
    object, or None: deeper than :data:`MAX_JSON_DEPTH`, a number that is not
    finite, or larger than :data:`MAX_JSON_BYTES` as JSON. Walks without
    recursion, so any depth is safe."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(node, float) and not math.isfinite(node):
            return "numbers must be finite (no NaN or Infinity)"
    try:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError) as error:
        return f"is not JSON: {error}"
    if size > MAX_JSON_BYTES:
        return f"larger than {MAX_JSON_BYTES} bytes as JSON ({size})"
    return None
