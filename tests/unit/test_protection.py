"""Stop-loss / take-profit levels, checked against hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from live_trading.domain.protection import (
    ProtectionRule,
    ProtectiveLevels,
    StopLossType,
    TakeProfitType,
    protective_levels,
)
from live_trading.domain.values import PositionSide

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
SL, TP = StopLossType, TakeProfitType


def _levels(side, ref, sl_type, sl_val, tp_type, tp_val, atr=None) -> ProtectiveLevels:
    return protective_levels(side, ref, ProtectionRule(sl_type, sl_val, tp_type, tp_val), atr)


def _close(levels: ProtectiveLevels, sl: float, tp: float) -> None:
    assert levels.stop_loss == pytest.approx(sl, rel=1e-12)
    assert levels.take_profit == pytest.approx(tp, rel=1e-12)


def test_atr_long_and_short() -> None:
    # d_sl = 2 * 0.0015 = 0.0030, d_tp = 3 * 0.0015 = 0.0045
    _close(_levels(LONG, 1.3500, SL.ATR, 2.0, TP.ATR, 3.0, atr=0.0015), 1.3470, 1.3545)
    _close(_levels(SHORT, 1.3500, SL.ATR, 2.0, TP.ATR, 3.0, atr=0.0015), 1.3530, 1.3455)


def test_percentage_long_and_short() -> None:
    # d_sl = 0.02 * 1.40 = 0.028, d_tp = 0.05 * 1.40 = 0.07
    _close(_levels(LONG, 1.40, SL.PERCENTAGE, 0.02, TP.PERCENTAGE, 0.05), 1.372, 1.47)
    _close(_levels(SHORT, 1.40, SL.PERCENTAGE, 0.02, TP.PERCENTAGE, 0.05), 1.428, 1.33)


def test_fixed_long_and_short() -> None:
    # 50 pips stop, 120 pips target on USD-CAD
    _close(_levels(LONG, 1.3600, SL.FIXED, 0.0050, TP.FIXED, 0.0120), 1.3550, 1.3720)
    _close(_levels(SHORT, 1.3600, SL.FIXED, 0.0050, TP.FIXED, 0.0120), 1.3650, 1.3480)


def test_risk_reward_is_multiple_of_stop_distance() -> None:
    # stop 40 pips, k = 2.5 -> target 100 pips
    _close(_levels(LONG, 1.3600, SL.FIXED, 0.0040, TP.RISK_REWARD, 2.5), 1.3560, 1.3700)
    _close(_levels(SHORT, 1.3600, SL.FIXED, 0.0040, TP.RISK_REWARD, 2.5), 1.3640, 1.3500)
    # with an ATR stop: d_sl = 1.5 * 0.002 = 0.003, d_tp = 2 * 0.003 = 0.006
    _close(_levels(LONG, 1.35, SL.ATR, 1.5, TP.RISK_REWARD, 2.0, atr=0.002), 1.347, 1.356)
    # with a percentage stop: d_sl = 0.01 * 1.2 = 0.012, d_tp = 0.036
    lv = _levels(SHORT, 1.2, SL.PERCENTAGE, 0.01, TP.RISK_REWARD, 3.0)
    assert (lv.take_profit - 1.2) == pytest.approx(-3.0 * (lv.stop_loss - 1.2), rel=1e-12)


def test_mixed_types() -> None:
    # ATR stop (0.003), percentage target (0.01 * 1.5 = 0.015)
    _close(_levels(LONG, 1.5, SL.ATR, 1.0, TP.PERCENTAGE, 0.01, atr=0.003), 1.497, 1.515)
    # atr only needed by ATR types
    _close(_levels(SHORT, 1.5, SL.FIXED, 0.01, TP.FIXED, 0.02, atr=None), 1.51, 1.48)


def test_string_side_and_types_accepted() -> None:
    rule = ProtectionRule("FIXED", 0.01, "RISK_REWARD", 2.0)  # type: ignore[arg-type]
    _close(protective_levels("LONG", 1.0, rule, None), 0.99, 1.02)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, -math.inf])
def test_bad_stop_value(bad: float) -> None:
    with pytest.raises(ValueError, match="stop_loss_value"):
        _levels(LONG, 1.3, SL.FIXED, bad, TP.FIXED, 0.01)


@pytest.mark.parametrize("bad", [0.0, -2.0, math.nan, math.inf])
def test_bad_take_profit_value(bad: float) -> None:
    with pytest.raises(ValueError, match="take_profit_value"):
        _levels(SHORT, 1.3, SL.FIXED, 0.01, TP.RISK_REWARD, bad)


@pytest.mark.parametrize("atr", [None, 0.0, -0.001, math.nan])
@pytest.mark.parametrize("which", ["sl", "tp"])
def test_atr_type_needs_positive_atr(atr: float | None, which: str) -> None:
    sl_type = SL.ATR if which == "sl" else SL.FIXED
    tp_type = TP.ATR if which == "tp" else TP.FIXED
    with pytest.raises(ValueError, match="(?i)atr"):
        _levels(LONG, 1.3, sl_type, 1.0, tp_type, 1.0, atr=atr)


@pytest.mark.parametrize("ref", [0.0, -1.3, math.nan, math.inf])
def test_bad_reference_price(ref: float) -> None:
    with pytest.raises(ValueError, match="reference_price"):
        _levels(LONG, ref, SL.FIXED, 0.01, TP.FIXED, 0.01)


def test_long_stop_at_or_below_zero() -> None:
    with pytest.raises(ValueError, match="LONG stop"):
        _levels(LONG, 1.0, SL.FIXED, 1.0, TP.FIXED, 0.1)  # stop exactly 0
    with pytest.raises(ValueError, match="LONG stop"):
        _levels(LONG, 1.0, SL.PERCENTAGE, 1.5, TP.FIXED, 0.1)  # stop -0.5
    with pytest.raises(ValueError, match="LONG stop"):
        _levels(LONG, 1.0, SL.ATR, 3.0, TP.FIXED, 0.1, atr=0.5)
    # the same distances are fine for a SHORT stop (above the price)
    _close(_levels(SHORT, 1.0, SL.FIXED, 1.0, TP.FIXED, 0.1), 2.0, 0.9)


def test_short_target_at_or_below_zero() -> None:
    with pytest.raises(ValueError, match="SHORT target"):
        _levels(SHORT, 1.0, SL.FIXED, 0.1, TP.RISK_REWARD, 10.0)


def test_values_are_frozen() -> None:
    rule = ProtectionRule(SL.FIXED, 0.01, TP.FIXED, 0.02)
    with pytest.raises(AttributeError):
        rule.stop_loss_value = 0.5  # type: ignore[misc]
    assert {t.value for t in TP} == {"ATR", "PERCENTAGE", "FIXED", "RISK_REWARD"}
    assert {t.value for t in SL} == {"ATR", "PERCENTAGE", "FIXED"}
