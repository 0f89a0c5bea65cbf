"""The momentum strategy on backtrader (1.9.78), configured like the paper broker.

Closest settings backtrader allows, and what still differs from the engine:

* market orders fill at the next bar's open (backtrader's default, as ours);
  the half-spread is backtrader's percentage slippage (0.5 bp, ``slip_open``)
  which backtrader also applies to stop fills (ours: no slippage on stops)
  and caps at the bar's high / low;
* commission 0.2 bp of notional (``setcommission(commission=2e-5)``);
* the stop-loss and take-profit are a bracket; backtrader activates a
  bracket's children on the bar *after* the entry filled (ours: the entry's
  own bar), and works the stop before the limit, so the stop wins a bar
  that reaches both (as ours);
* ATR is backtrader's: its first true range needs a previous close, so its
  ATR(14) starts one bar later than ours and its values differ slightly
  until the seed has decayed.
"""

from __future__ import annotations

import time
from datetime import UTC

import backtrader as bt
import pandas as pd

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


class MomentumBT(bt.Strategy):
    """SMA(10)/SMA(30) crossover with an ATR bracket, reversing on each signal."""

    def __init__(self) -> None:
        self.fast = bt.ind.SMA(self.data.close, period=FAST)
        self.slow = bt.ind.SMA(self.data.close, period=SLOW)
        self.atr = bt.ind.ATR(self.data, period=ATR_PERIOD)
        self.rule = CrossoverRule()
        self.bracket: list[bt.Order] = []
        self.closed: list[dict] = []

    def next(self) -> None:
        side = self.rule.update(self.fast[0], self.slow[0])
        if side == 0:
            return
        for order in self.bracket:
            if order.alive():
                self.cancel(order)
        if self.position:
            self.close()
        stop, target = levels(side, self.data.close[0], self.atr[0])
        enter = self.buy_bracket if side > 0 else self.sell_bracket
        self.bracket = enter(
            size=QUANTITY, exectype=bt.Order.Market, stopprice=stop, limitprice=target
        )

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.closed.append(
                {
                    "entry_time": bt.num2date(trade.dtopen).replace(tzinfo=UTC),
                    "exit_time": bt.num2date(trade.dtclose).replace(tzinfo=UTC),
                    "side": 1 if trade.long else -1,
                    "pnl": trade.pnlcomm,
                }
            )


def frame(bars: list[Bar]) -> pd.DataFrame:
    """The bars as the OHLCV frame backtrader's PandasData reads (naive UTC index)."""
    return pd.DataFrame(
        {
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": [b.volume for b in bars],
            "openinterest": 0.0,
        },
        index=pd.DatetimeIndex([b.time.replace(tzinfo=None) for b in bars], name="datetime"),
    )


def run(bars: list[Bar], index: dict, asset: Asset) -> tuple[PeerResult, list[dict]]:
    """Run the strategy over ``bars``; the timed part is ``cerebro.run()``.
    ``asset`` is not needed: this engine has no currencies, its P/L is
    price difference x units, so already in the quote currency.
    Trade rows as :mod:`.compare` reads them (backtrader labels fills with
    the bar they happen in, as the engine does)."""
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame(bars)))
    cerebro.addstrategy(MomentumBT)
    cerebro.broker.setcash(INITIAL_CAPITAL)
    cerebro.broker.setcommission(commission=COMMISSION)
    cerebro.broker.set_slippage_perc(
        HALF_SPREAD, slip_open=True, slip_limit=False, slip_match=True, slip_out=False
    )
    started = time.perf_counter()
    [strategy] = cerebro.run()
    seconds = time.perf_counter() - started
    rows = [
        {
            "entry_bar": index[t["entry_time"]],
            "exit_bar": index[t["exit_time"]],
            "side": t["side"],
            "pnl": t["pnl"],
        }
        for t in strategy.closed
    ]
    return PeerResult(
        "backtrader", len(bars), seconds, len(rows), sum(r["pnl"] for r in rows)
    ), rows
