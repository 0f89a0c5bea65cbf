"""Performance statistics of closed trades.

Amounts in quote currency. ``max_drawdown`` is the largest fall of the
cumulative net P/L of closed trades from its running peak (starting at 0),
as a positive amount. ``profit_factor`` = gross profit / |gross loss| of
winning and losing trades (None when there is no losing trade).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TradeStats:
    trade_count: int
    winning_trades: int
    losing_trades: int
    win_rate: float
    total_pnl: float
    gross_profit: float
    gross_loss: float
    profit_factor: float | None
    average_win: float
    average_loss: float
    largest_win: float
    largest_loss: float
    max_drawdown: float
    total_commission: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def trade_stats(pnls: Iterable[float], commissions: Iterable[float] = ()) -> TradeStats:
    """Statistics of net P/L values given in exit-time order."""
    values = list(pnls)
    wins = [p for p in values if p > 0]
    losses = [p for p in values if p < 0]
    peak = equity = drawdown = 0.0
    for pnl in values:
        equity += pnl
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
    gross_profit, gross_loss = sum(wins), sum(losses)
    return TradeStats(
        trade_count=len(values),
        winning_trades=len(wins),
        losing_trades=len(losses),
        win_rate=len(wins) / len(values) if values else 0.0,
        total_pnl=sum(values),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=gross_profit / -gross_loss if losses else None,
        average_win=gross_profit / len(wins) if wins else 0.0,
        average_loss=gross_loss / len(losses) if losses else 0.0,
        largest_win=max(wins, default=0.0),
        largest_loss=min(losses, default=0.0),
        max_drawdown=drawdown,
        total_commission=sum(commissions),
    )
