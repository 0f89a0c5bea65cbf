"""Pure order logic of the paper broker: checks of one order, fill prices.

All prices are in the quote currency of the asset, quantities in units of
the base asset, costs in basis points of price (1 bp = 1/10 000). Nothing
here holds state: each function decides one fill from an order, a price or
a bar, and the configuration.
"""

from __future__ import annotations

import math

from live_trading.domain.orders import OrderRequest
from live_trading.domain.values import Bar, OrderType, Side

from .config import PaperBrokerConfig

BPS = 10_000.0


def adverse(price: float, side: Side, bps: float) -> float:
    """``price`` moved ``bps`` basis points against the trader: a BUY pays
    more, a SELL receives less."""
    if side == Side.BUY:
        return price * (1.0 + bps / BPS)
    return price * (1.0 - bps / BPS)


def market_fill_price(side: Side, reference: float, config: PaperBrokerConfig) -> float:
    """Fill price of a market order whose reference (mid) price is
    ``reference``: half-spread plus slippage, adversely."""
    return adverse(reference, side, config.half_spread_bps + config.slippage_bps)


def stop_fill_price(side: Side, stop: float, bar: Bar, config: PaperBrokerConfig) -> float | None:
    """Fill price of a STOP order worked against ``bar``, or ``None`` if the
    bar does not reach the stop.

    A SELL stop triggers when ``bar.low <= stop``, a BUY stop when
    ``bar.high >= stop``. It fills at the stop, or at ``bar.open`` when the
    bar opened already beyond the stop (a gap), then slippage adversely.
    """
    if side == Side.SELL:
        if bar.low > stop:
            return None
        base = bar.open if bar.open <= stop else stop
    else:
        if bar.high < stop:
            return None
        base = bar.open if bar.open >= stop else stop
    return adverse(base, side, config.slippage_bps)


def limit_fill_price(side: Side, limit: float, bar: Bar) -> float | None:
    """Fill price of a LIMIT order worked against ``bar``, or ``None`` if the
    bar does not reach the limit.

    A SELL limit triggers when ``bar.high >= limit``, a BUY limit when
    ``bar.low <= limit``. It fills at the limit, or at ``bar.open`` when the
    bar opened already better than the limit (a gap in our favour). No
    slippage: a limit never fills worse than its price.
    """
    if side == Side.SELL:
        if bar.high < limit:
            return None
        return bar.open if bar.open >= limit else limit
    if bar.low > limit:
        return None
    return bar.open if bar.open <= limit else limit


def triggered_fill_price(
    request: OrderRequest, bar: Bar, config: PaperBrokerConfig
) -> float | None:
    """Fill price of a STOP or LIMIT ``request`` against ``bar``; ``None``
    when it does not trigger (or for a MARKET order)."""
    if request.order_type == OrderType.STOP and request.stop_price is not None:
        return stop_fill_price(request.side, request.stop_price, bar, config)
    if request.order_type == OrderType.LIMIT and request.limit_price is not None:
        return limit_fill_price(request.side, request.limit_price, bar)
    return None


def commission(quantity: float, price: float, config: PaperBrokerConfig) -> float:
    """Commission of a fill, in quote currency:
    ``max(commission_minimum, quantity * price * commission_bps / 10 000)``."""
    return max(config.commission_minimum, quantity * price * config.commission_bps / BPS)


def positive(value: object) -> bool:
    """True for a finite int or float > 0 (not a bool)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def request_problem(request: OrderRequest) -> str | None:
    """Why ``request`` is malformed on its own (without looking at other
    orders), or ``None``."""
    if not request.client_order_id or not request.account or not request.asset:
        return "client_order_id, account and asset must not be empty"
    try:
        Side(request.side)
        order_type = OrderType(request.order_type)
    except ValueError:
        return f"unknown side {request.side!r} or order type {request.order_type!r}"
    if not positive(request.quantity):
        return f"quantity must be a finite number > 0, got {request.quantity!r}"
    if order_type == OrderType.LIMIT and not positive(request.limit_price):
        return f"a LIMIT order needs a limit_price > 0, got {request.limit_price!r}"
    if order_type == OrderType.STOP and not positive(request.stop_price):
        return f"a STOP order needs a stop_price > 0, got {request.stop_price!r}"
    return None
