"""Profit and loss of positions and round-trip trades.

All amounts are in the quote currency of the asset (USD-CAD: CAD).
Quantities are in units of the base asset and positive.

* LONG:  gross P/L = (exit price - entry price) x quantity
* SHORT: gross P/L = (entry price - exit price) x quantity
* net P/L = gross P/L - commissions of the entry (pro rata to the quantity
  closed) and of the exit
* P/L % = net P/L / (entry price x quantity), the return on the notional.
"""

from __future__ import annotations

from .values import PositionSide


def gross_pnl(
    side: PositionSide | str, entry_price: float, exit_price: float, quantity: float
) -> float:
    """Gross P/L of closing ``quantity`` units, before commissions."""
    move = exit_price - entry_price
    if PositionSide(side) is PositionSide.SHORT:
        move = -move
    return move * quantity


def pnl_pct(net_pnl: float, entry_price: float, quantity: float) -> float:
    """Net P/L as a fraction of the entry notional (0.01 = 1 %)."""
    notional = entry_price * quantity
    return net_pnl / notional if notional else 0.0


def unrealized_pnl(
    side: PositionSide | str, entry_price: float, mark_price: float, quantity: float
) -> float:
    """P/L of an open position marked at ``mark_price``, before commissions."""
    return gross_pnl(side, entry_price, mark_price, quantity)
