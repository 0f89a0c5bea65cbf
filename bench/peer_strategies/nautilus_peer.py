"""The momentum strategy on nautilus_trader (1.221), configured like the paper broker.

Closest settings nautilus_trader allows, and what still differs:

* the venue matches orders on the bars themselves (``bar_execution``): a
  market order sent from ``on_bar`` fills at once at that bar's close (ours:
  at the next bar's open); the stop-loss and take-profit (an OTO/OCO
  bracket) work from the next bar on;
* a bar is walked open, high, low, close, so when the stop and the target
  are both inside one bar, the one on the high side fills first: the target
  of a long, the stop of a short (ours: the stop always wins);
* commission 0.2 bp of notional (the test FX instrument's taker fee, as
  ours); no half-spread: the bars carry one price, and the fill model's
  slippage is whole ticks (1 tick = 0.07 bp on USD-CAD), so market orders
  pay no spread (ours: 0.5 bp);
* ATR(14) with Wilder's smoothing, seeded with the first true range (ours:
  with the mean of the first 14), so values differ slightly until the seed
  has decayed.

The instrument is nautilus' test FX pair for the asset (``EUR/USD`` for
EUR-USD: six-letter pairs only), the account in its quote currency, so
P/L is in the quote currency as ours; its price precision is raised to the
decimals of the data (EUR-USD quotes carry 6), else nautilus would round
every price to 5 decimals and see other closes than the other engines.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pandas as pd
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators import AverageTrueRange, SimpleMovingAverage
from nautilus_trader.indicators.averages import MovingAverageType
from nautilus_trader.model.data import Bar as NBar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, OrderType
from nautilus_trader.model.events import PositionClosed
from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Currency, Money
from nautilus_trader.persistence.wranglers import BarDataWrangler
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from live_trading.domain.values import Asset, Bar

from .common import (
    ATR_PERIOD,
    FAST,
    INITIAL_CAPITAL,
    QUANTITY,
    SLOW,
    CrossoverRule,
    PeerResult,
    bar_step,
    levels,
)

VENUE = Venue("SIM")


class MomentumConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    bar_type: BarType


class MomentumNT(Strategy):
    """SMA(10)/SMA(30) crossover with an ATR bracket, reversing on each signal."""

    def __init__(self, config: MomentumConfig) -> None:
        super().__init__(config)
        self.fast = SimpleMovingAverage(FAST)
        self.slow = SimpleMovingAverage(SLOW)
        self.atr = AverageTrueRange(ATR_PERIOD, MovingAverageType.WILDER)
        self.rule = CrossoverRule()
        self.closed: list[dict] = []

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        for indicator in (self.fast, self.slow, self.atr):
            self.register_indicator_for_bars(self.config.bar_type, indicator)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: NBar) -> None:
        if not self.slow.initialized:
            return
        side = self.rule.update(self.fast.value, self.slow.value)
        if side == 0:
            return
        instrument_id = self.config.instrument_id
        self.cancel_all_orders(instrument_id)
        self.close_all_positions(instrument_id)
        stop, target = levels(side, bar.close.as_double(), self.atr.value)
        bracket = self.order_factory.bracket(
            instrument_id=instrument_id,
            order_side=OrderSide.BUY if side > 0 else OrderSide.SELL,
            quantity=self.instrument.make_qty(QUANTITY),
            entry_order_type=OrderType.MARKET,
            sl_trigger_price=self.instrument.make_price(stop),
            tp_price=self.instrument.make_price(target),
        )
        self.submit_order_list(bracket)

    def on_position_closed(self, event: PositionClosed) -> None:
        """One round trip (a netting position is reused, so count its closes)."""
        closing = self.cache.order(event.closing_order_id)
        self.closed.append(
            {
                "entry_time": pd.Timestamp(event.ts_opened, tz="UTC").to_pydatetime(),
                "exit_time": pd.Timestamp(event.ts_closed, tz="UTC").to_pydatetime(),
                "exit_market": closing is not None and closing.order_type == OrderType.MARKET,
                "side": 1 if event.entry == OrderSide.BUY else -1,
                "pnl": event.realized_pnl.as_double(),
            }
        )


def decimals(bars: list[Bar]) -> int:
    """The most decimals any price of ``bars`` is written with (at most 9)."""
    longest = max(
        len(repr(price).partition(".")[2])
        for b in bars
        for price in (b.open, b.high, b.low, b.close)
    )
    return min(longest, 9)


def instrument_for(asset: Asset, precision: int) -> CurrencyPair:
    """The test FX pair of ``asset`` (prices in its quote currency, sizes in
    base units), with at least ``precision`` price decimals.

    Raises:
        ValueError: not a pair of two three-letter codes (nautilus' FX pairs).
    """
    pair = TestInstrumentProvider.default_fx_ccy(f"{asset.base}/{asset.quote}", VENUE)
    if precision <= pair.price_precision:
        return pair
    spec = CurrencyPair.to_dict(pair)
    spec.update(
        price_precision=precision,
        price_increment=f"{10.0**-precision:.{precision}f}",
        tick_scheme_name=None,
    )
    return CurrencyPair.from_dict(spec)


def _engine(asset: Asset, precision: int) -> tuple[BacktestEngine, CurrencyPair]:
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR", bypass_logging=True))
    )
    quote = Currency.from_str(asset.quote)
    engine.add_venue(
        VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=quote,
        starting_balances=[Money(INITIAL_CAPITAL, quote)],
        default_leverage=Decimal(1),
        bar_execution=True,
    )
    instrument = instrument_for(asset, precision)
    engine.add_instrument(instrument)
    return engine, instrument


def _bars(bars: list[Bar], instrument, bar_type: BarType) -> list[NBar]:
    frame = pd.DataFrame(
        {
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": [1_000_000.0 for _ in bars],
        },
        index=pd.DatetimeIndex([b.time for b in bars], name="timestamp"),
    )
    # nautilus stamps a bar at its close (ts_init): shift our open times by one bar
    frame.index = frame.index + bar_step(bars)
    return BarDataWrangler(bar_type, instrument).process(frame)


def run(bars: list[Bar], index: dict, asset: Asset) -> tuple[PeerResult, list[dict]]:
    """Run the strategy over ``bars``; the timed part is ``engine.run()``.

    Trade rows as :mod:`.compare` reads them, in the engine's labelling: a
    nautilus fill is stamped with the close of the bar being processed, so
    a stop or limit filled inside bar k is labelled k, and a market order
    filled at the close of bar t is labelled t + 1 (where the engine fills
    it, at the next open). P/L in the quote currency of ``asset``."""
    engine, instrument = _engine(asset, decimals(bars))
    bar_type = BarType.from_str(f"{instrument.id}-1-HOUR-MID-EXTERNAL")
    engine.add_data(_bars(bars, instrument, bar_type))
    strategy = MomentumNT(MomentumConfig(instrument_id=instrument.id, bar_type=bar_type))
    engine.add_strategy(strategy)
    started = time.perf_counter()
    engine.run()
    seconds = time.perf_counter() - started
    step = bar_step(bars)
    rows = [
        {
            "entry_bar": index[t["entry_time"] - step] + 1,
            "exit_bar": index[t["exit_time"] - step] + (1 if t["exit_market"] else 0),
            "side": t["side"],
            "pnl": t["pnl"],
        }
        for t in strategy.closed
    ]
    engine.dispose()
    return PeerResult(
        "nautilus_trader", len(bars), seconds, len(rows), sum(r["pnl"] for r in rows)
    ), rows
