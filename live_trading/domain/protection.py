"""Stop-loss and take-profit price levels for a new position.

Units: all prices and distances are in the quote currency of the asset per
unit of base asset (USD-CAD: CAD per USD). A distance is always positive; the
side of the position decides whether it is added to or subtracted from the
reference price (normally the entry fill price).

Distance of the stop, ``d_sl``, by :class:`StopLossType`:

* ``ATR``: ``value * atr`` (``atr`` from :class:`live_trading.data.indicators.ATR`,
  Wilder 1978), e.g. ``2.0`` = two ATRs;
* ``PERCENTAGE``: ``value * reference_price``, the value being a fraction
  (``0.02`` = 2 %);
* ``FIXED``: ``value`` itself, in price units (``0.0050`` = 50 pips on USD-CAD).

Distance of the take-profit, ``d_tp``, by :class:`TakeProfitType`: the same
three rules, plus ``RISK_REWARD``: ``value * d_sl``. This is the reward-to-risk
ratio of common trading practice, where the risk of a trade is its stop
distance ("1R", the "R-multiple" of Van K. Tharp, *Trade Your Way to Financial
Freedom*, McGraw-Hill); ``2.0`` puts the target two stop-distances away.

Levels: LONG ``SL = ref - d_sl``, ``TP = ref + d_tp``; SHORT ``SL = ref + d_sl``,
``TP = ref - d_tp``.

This module imports only the standard library and :mod:`.values`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from .values import PositionSide


class StopLossType(StrEnum):
    ATR = "ATR"
    PERCENTAGE = "PERCENTAGE"
    FIXED = "FIXED"


class TakeProfitType(StrEnum):
    ATR = "ATR"
    PERCENTAGE = "PERCENTAGE"
    FIXED = "FIXED"
    RISK_REWARD = "RISK_REWARD"


@dataclass(frozen=True, slots=True)
class ProtectionRule:
    """How to place the stop-loss and take-profit of each new position.

    ``*_value`` is a multiplier of the ATR (ATR), a fraction of the reference
    price (PERCENTAGE), a price distance (FIXED) or a multiple of the stop
    distance (RISK_REWARD, take-profit only). Checked by :func:`protective_levels`.
    """

    stop_loss_type: StopLossType
    stop_loss_value: float
    take_profit_type: TakeProfitType
    take_profit_value: float


@dataclass(frozen=True, slots=True)
class ProtectiveLevels:
    """Absolute stop-loss and take-profit prices, in quote currency."""

    stop_loss: float
    take_profit: float


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _distance(kind: str, value: float, reference_price: float, atr: float | None) -> float:
    """Distance for the ATR, PERCENTAGE and FIXED kinds (shared by SL and TP)."""
    if kind == "ATR":
        if atr is None:
            raise ValueError("ATR-based protection needs an ATR value, got None")
        return value * _check_positive("atr", atr)
    if kind == "PERCENTAGE":
        return value * reference_price
    if kind == "FIXED":
        return value
    raise ValueError(f"unknown protection type {kind!r}")


def protective_levels(
    side: PositionSide,
    reference_price: float,
    rule: ProtectionRule,
    atr: float | None,
) -> ProtectiveLevels:
    """Compute the stop-loss and take-profit prices (see the module docstring).

    Args:
        side: direction of the position being protected.
        reference_price: price the distances are measured from (the entry
            price), quote currency, > 0.
        rule: the protection rule.
        atr: current ATR in price units; required (> 0) only by ATR types.

    Raises:
        ValueError: a rule value <= 0 or not finite; an ATR type without a
            positive ATR; ``reference_price`` <= 0 or not finite; a LONG stop
            or SHORT take-profit at or below zero.
    """
    side = PositionSide(side)
    ref = _check_positive("reference_price", reference_price)
    sl_type = StopLossType(rule.stop_loss_type)
    tp_type = TakeProfitType(rule.take_profit_type)
    sl_value = _check_positive("stop_loss_value", rule.stop_loss_value)
    tp_value = _check_positive("take_profit_value", rule.take_profit_value)

    d_sl = _distance(sl_type.value, sl_value, ref, atr)
    if tp_type is TakeProfitType.RISK_REWARD:
        d_tp = tp_value * d_sl
    else:
        d_tp = _distance(tp_type.value, tp_value, ref, atr)

    if side is PositionSide.LONG:
        levels = ProtectiveLevels(stop_loss=ref - d_sl, take_profit=ref + d_tp)
        if levels.stop_loss <= 0:
            raise ValueError(
                f"stop distance {d_sl!r} puts the LONG stop at {levels.stop_loss!r} (<= 0)"
            )
    else:
        levels = ProtectiveLevels(stop_loss=ref + d_sl, take_profit=ref - d_tp)
        if levels.take_profit <= 0:
            raise ValueError(
                f"take-profit distance {d_tp!r} puts the SHORT target at "
                f"{levels.take_profit!r} (<= 0)"
            )
    return levels
