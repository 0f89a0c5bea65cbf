"""The momentum strategy on backtesting.py (0.6.6), configured like the paper broker.

Closest settings backtesting.py allows, and what still differs:

* market orders fill at the next bar's open (``trade_on_close=False``, as
  ours); the stop-loss and take-profit are contingent orders worked from
  the entry's own bar on, stop first, so the stop wins a bar that reaches
  both (as ours);
* commission 0.2 bp of notional on each fill (``commission=2e-5``);
* ``spread`` (0.5 bp) is charged on entries only: backtesting.py closes a
  trade at the unadjusted price, so a reversal's closing fill pays no half
  spread (ours: 0.5 bp);
* the indicators are computed here with the engine's definitions (SMA;
  Wilder's ATR seeded with the mean of the first 14 true ranges, the first
  being high - low), since backtesting.py ships none.
"""

from __future__ import annotations

import time
import warnings

import backtesting.backtesting as engine_module
import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy

from live_trading.domain.values import Asset, Bar

from .common import (
    ATR_PERIOD,
    COMMISSION,
    FAST,
    HALF_SPREAD,
    INITIAL_CAPITAL,
    QUANTITY,
    SLOW,
    CrossoverRule,
    PeerResult,
    levels,
)


def sma(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average (NaN while warming up)."""
    return pd.Series(values).rolling(period).mean().to_numpy()


def wilder_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ATR as the engine computes it (NaN for the first period - 1 bars)."""
    previous = np.concatenate(([np.nan], close[:-1]))
    true_range = np.fmax(high - low, np.fmax(np.abs(high - previous), np.abs(low - previous)))
    true_range[0] = high[0] - low[0]
    atr = np.full(len(close), np.nan)
    if len(close) >= period:
        atr[period - 1] = true_range[:period].mean()
        for i in range(period, len(close)):
            atr[i] = (atr[i - 1] * (period - 1) + true_range[i]) / period
    return atr


class MomentumBP(Strategy):
    """SMA(10)/SMA(30) crossover with an ATR bracket, reversing on each signal."""

    def init(self) -> None:
        self.fast = self.I(sma, self.data.Close, FAST)
        self.slow = self.I(sma, self.data.Close, SLOW)
        self.atr = self.I(wilder_atr, self.data.High, self.data.Low, self.data.Close, ATR_PERIOD)
        self.rule = CrossoverRule()

    def next(self) -> None:
        fast, slow = self.fast[-1], self.slow[-1]
        if np.isnan(slow):
            return
        side = self.rule.update(fast, slow)
        if side == 0:
            return
        for order in self.orders:
            order.cancel()
        if self.position:
            self.position.close()
        stop, target = levels(side, self.data.Close[-1], self.atr[-1])
        enter = self.buy if side > 0 else self.sell
        enter(size=int(QUANTITY), sl=stop, tp=target)


def frame(bars: list[Bar]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Open": [b.open for b in bars],
            "High": [b.high for b in bars],
            "Low": [b.low for b in bars],
            "Close": [b.close for b in bars],
            "Volume": [b.volume for b in bars],
        },
        index=pd.DatetimeIndex([b.time for b in bars]),
    )


def run(bars: list[Bar], index: dict, asset: Asset) -> tuple[PeerResult, list[dict]]:
    """Run the strategy over ``bars``; the timed part is ``Backtest.run()``.
    ``asset`` is not needed: this engine has no currencies, its P/L is
    price difference x units, so already in the quote currency.
    Trade rows as :mod:`.compare` reads them (backtesting.py labels fills
    with the bar they happen in, as the engine does)."""
    backtest = Backtest(
        frame(bars),
        MomentumBP,
        cash=INITIAL_CAPITAL,
        spread=HALF_SPREAD,
        commission=COMMISSION,
        trade_on_close=False,
        finalize_trades=False,
    )
    engine_module._tqdm = lambda sequence, **_: sequence  # no progress bar on stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        stats = backtest.run()
        seconds = time.perf_counter() - started
    rows = [
        {
            "entry_bar": index[row.EntryTime.to_pydatetime()],
            "exit_bar": index[row.ExitTime.to_pydatetime()],
            "side": 1 if row.Size > 0 else -1,
            "pnl": float(row.PnL),
        }
        for row in stats["_trades"].itertuples()
    ]
    return PeerResult(
        "backtesting.py", len(bars), seconds, len(rows), sum(r["pnl"] for r in rows)
    ), rows
