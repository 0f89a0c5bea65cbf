"""Trade statistics on hand-written P/L lists."""

from __future__ import annotations

import pytest

from live_trading.domain.stats import TradeStats, trade_stats


def test_mixed_trades() -> None:
    # Wins 100, 200 -> gross profit 300; losses -50, -80, -10 -> gross loss -140.
    # Equity 100, 50, -30, 170, 160: peak 100 then trough -30 -> drawdown 130
    # (the later 170 -> 160 fall is only 10).
    stats = trade_stats([100, -50, -80, 200, -10], [1.0, 1.5, 2.0, 0.5, 0.25])
    assert stats.trade_count == 5
    assert stats.winning_trades == 2
    assert stats.losing_trades == 3
    assert stats.win_rate == pytest.approx(0.4)
    assert stats.total_pnl == 160
    assert stats.gross_profit == 300
    assert stats.gross_loss == -140
    assert stats.profit_factor == pytest.approx(300 / 140)  # 2.142857...
    assert stats.average_win == 150
    assert stats.average_loss == pytest.approx(-140 / 3)  # -46.67
    assert stats.largest_win == 200
    assert stats.largest_loss == -80
    assert stats.max_drawdown == 130
    assert stats.total_commission == 5.25


def test_drawdown_counts_from_zero_before_any_gain() -> None:
    # Equity -10, -30, -25: the peak is the starting 0 -> drawdown 30.
    stats = trade_stats([-10, -20, 5])
    assert stats.max_drawdown == 30
    assert stats.largest_win == 5
    assert stats.profit_factor == pytest.approx(5 / 30)


def test_drawdown_uses_the_running_peak_not_the_overall_one() -> None:
    # Equity 50, 10 (dd 40), 210 (peak), 150 (dd 60), 160, 90 (dd 120), 300.
    stats = trade_stats([50, -40, 200, -60, 10, -70, 210])
    assert stats.max_drawdown == 120
    assert stats.total_pnl == 300


def test_drawdown_depends_on_order() -> None:
    assert trade_stats([100, -50, -80, 200, -10]).max_drawdown == 130
    assert trade_stats([200, 100, -10, -50, -80]).max_drawdown == 140


def test_break_even_trades_count_but_are_neither_wins_nor_losses() -> None:
    stats = trade_stats([0.0, 30.0, -10.0, 0.0])
    assert stats.trade_count == 4
    assert stats.winning_trades == 1
    assert stats.losing_trades == 1
    assert stats.win_rate == 0.25
    assert stats.average_win == 30.0
    assert stats.average_loss == -10.0
    assert stats.profit_factor == 3.0
    assert stats.max_drawdown == 10.0


def test_no_losing_trade_has_no_profit_factor() -> None:
    stats = trade_stats([10.0, 20.0, 30.0])
    assert stats.profit_factor is None
    assert stats.win_rate == 1.0
    assert stats.losing_trades == 0
    assert stats.gross_loss == 0
    assert stats.average_loss == 0.0
    assert stats.largest_loss == 0.0
    assert stats.average_win == 20.0
    assert stats.largest_win == 30.0
    assert stats.max_drawdown == 0.0


def test_only_losing_trades() -> None:
    stats = trade_stats([-5.0, -15.0])
    assert stats.profit_factor == 0.0
    assert stats.win_rate == 0.0
    assert stats.average_win == 0.0
    assert stats.largest_win == 0.0
    assert stats.largest_loss == -15.0
    assert stats.average_loss == -10.0
    assert stats.max_drawdown == 20.0


def test_empty() -> None:
    stats = trade_stats([])
    assert stats == TradeStats(
        trade_count=0,
        winning_trades=0,
        losing_trades=0,
        win_rate=0.0,
        total_pnl=0,
        gross_profit=0,
        gross_loss=0,
        profit_factor=None,
        average_win=0.0,
        average_loss=0.0,
        largest_win=0.0,
        largest_loss=0.0,
        max_drawdown=0.0,
        total_commission=0,
    )


def test_accepts_generators_and_serialises() -> None:
    stats = trade_stats((p for p in [100.0, -50.0]), iter([0.5, 0.25]))
    assert stats.trade_count == 2
    assert stats.total_commission == 0.75
    as_dict = stats.as_dict()
    assert as_dict["profit_factor"] == 2.0
    assert as_dict["max_drawdown"] == 50.0
    assert set(as_dict) == {
        "trade_count",
        "winning_trades",
        "losing_trades",
        "win_rate",
        "total_pnl",
        "gross_profit",
        "gross_loss",
        "profit_factor",
        "average_win",
        "average_loss",
        "largest_win",
        "largest_loss",
        "max_drawdown",
        "total_commission",
    }
