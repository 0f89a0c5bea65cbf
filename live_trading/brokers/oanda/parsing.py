"""Translation between the project's types and OANDA v20 JSON.

OANDA conventions: instruments ``USD_CAD``; units are signed decimal strings
(+ buy, - sell); prices decimal strings; times RFC3339 with nanoseconds
(``2024-01-02T03:04:05.123456789Z``). Project conventions: assets
``USD-CAD``, positive quantities with a :class:`Side`, float prices, aware
UTC datetimes truncated to milliseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import Execution, OrderRequest
from live_trading.domain.values import Asset, Bar, BarSize, OrderType, Side, utc_ms

GRANULARITY: dict[BarSize, str] = {
    BarSize.MIN_1: "M1",
    BarSize.MIN_5: "M5",
    BarSize.MIN_15: "M15",
    BarSize.MIN_30: "M30",
    BarSize.HOUR_1: "H1",
    BarSize.HOUR_4: "H4",
    BarSize.DAY_1: "D",
}
BAR_SIZE: dict[str, BarSize] = {v: k for k, v in GRANULARITY.items()}


# -- instruments -------------------------------------------------------------


def to_instrument(asset: str) -> str:
    """``"USD-CAD"`` -> ``"USD_CAD"`` (raises ValueError on a malformed asset)."""
    parsed = Asset.parse(asset)
    return f"{parsed.base}_{parsed.quote}"


def to_asset(instrument: str) -> str:
    """``"USD_CAD"`` -> ``"USD-CAD"``."""
    base, sep, quote = instrument.strip().upper().partition("_")
    if not sep:
        raise ValueError(f"instrument {instrument!r} is not of the form BASE_QUOTE")
    return Asset.parse(f"{base}-{quote}").name


def to_granularity(bar_size: BarSize | str) -> str:
    return GRANULARITY[BarSize.parse(bar_size) if isinstance(bar_size, str) else bar_size]


def to_bar_size(granularity: str) -> BarSize:
    try:
        return BAR_SIZE[granularity]
    except KeyError:
        raise ValueError(f"unsupported granularity {granularity!r}") from None


# -- times -------------------------------------------------------------------

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")


def parse_time(text: str) -> datetime:
    """RFC3339 (any number of fraction digits, ``Z`` or an offset) or a Unix
    timestamp string -> aware UTC datetime truncated to milliseconds."""
    text = str(text).strip()
    match = _RFC3339.match(text)
    if match is None:
        try:
            return utc_ms(datetime.fromtimestamp(float(text), UTC))
        except ValueError:
            raise ValueError(f"not an RFC3339 time: {text!r}") from None
    day, clock, fraction, zone = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    zone = "+00:00" if zone == "Z" else zone
    return utc_ms(datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}"))


def format_time(moment: datetime) -> str:
    """Aware datetime -> ``2024-01-02T03:04:05.123000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware UTC")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


# -- numbers -----------------------------------------------------------------


def to_float(text: str | float | None, default: float = 0.0) -> float:
    if text is None or text == "":
        return default
    return float(Decimal(str(text)))


def price_str(price: float, precision: int = 5) -> str:
    """A price as OANDA accepts it: at most ``precision`` decimals."""
    quantum = Decimal(1).scaleb(-precision)
    return str(Decimal(repr(float(price))).quantize(quantum, rounding=ROUND_HALF_EVEN))


def units_str(side: Side, quantity: float, precision: int = 0) -> str:
    """Signed units with ``precision`` decimals (OANDA's
    ``tradeUnitsPrecision``: 0 for FX pairs, whole units of the base)."""
    quantum = Decimal(1).scaleb(-precision)
    units = Decimal(repr(float(quantity))).quantize(quantum, rounding=ROUND_HALF_EVEN)
    if units <= 0:
        raise ValueError(f"quantity {quantity!r} rounds to {units} units")
    return str(units if side is Side.BUY else -units)


def side_of(units: str | float) -> Side:
    return Side.BUY if to_float(units) > 0 else Side.SELL


# -- requests ----------------------------------------------------------------


def order_body(
    request: OrderRequest,
    client_id: str,
    precision: int,
    units_precision: int = 0,
    *,
    stop_loss: tuple[float, str] | None = None,
    take_profit: tuple[float, str] | None = None,
) -> dict[str, Any]:
    """The ``{"order": ...}`` body of ``POST /v3/accounts/{id}/orders`` for
    a MARKET, LIMIT or STOP request: prices with ``precision`` decimals
    (``displayPrecision``), units with ``units_precision``.
    ``stop_loss``/``take_profit`` (price, client id) become
    ``stopLossOnFill``/``takeProfitOnFill``."""
    order: dict[str, Any] = {
        "type": request.order_type.value,
        "instrument": to_instrument(request.asset),
        "units": units_str(request.side, request.quantity, units_precision),
        "positionFill": "DEFAULT",
        "clientExtensions": {"id": client_id, "tag": "live_trading"},
    }
    if request.order_type is OrderType.MARKET:
        order["timeInForce"] = "FOK"
    else:
        price = request.limit_price if request.order_type is OrderType.LIMIT else request.stop_price
        if price is None:
            raise ValueError(f"{request.order_type.value} order without a price")
        order["price"] = price_str(price, precision)
        order["timeInForce"] = "GTC"
        order["triggerCondition"] = "DEFAULT"
    if stop_loss is not None:
        order["stopLossOnFill"] = {
            "price": price_str(stop_loss[0], precision),
            "timeInForce": "GTC",
            "clientExtensions": {"id": stop_loss[1], "tag": "live_trading"},
        }
    if take_profit is not None:
        order["takeProfitOnFill"] = {
            "price": price_str(take_profit[0], precision),
            "timeInForce": "GTC",
            "clientExtensions": {"id": take_profit[1], "tag": "live_trading"},
        }
    return {"order": order}


def dependent_order_body(
    kind: str, trade_id: str, price: float, client_id: str, precision: int
) -> dict[str, Any]:
    """A STOP_LOSS or TAKE_PROFIT order on an open trade (closes the whole
    trade when it fills)."""
    return {
        "order": {
            "type": kind,
            "tradeID": trade_id,
            "price": price_str(price, precision),
            "timeInForce": "GTC",
            "triggerCondition": "DEFAULT",
            "clientExtensions": {"id": client_id, "tag": "live_trading"},
        }
    }


# -- responses ---------------------------------------------------------------


def error_reason(status: int, body: Any) -> str:
    """``"INSUFFICIENT_MARGIN: ..."`` from an OANDA error or cancel/reject body."""
    if not isinstance(body, dict):
        return f"HTTP {status}"
    for key in ("orderRejectTransaction", "orderCancelTransaction"):
        tx = body.get(key)
        if isinstance(tx, dict):
            reason = tx.get("rejectReason") or tx.get("reason")
            if reason:
                message = body.get("errorMessage")
                return f"{reason}: {message}" if message else str(reason)
    code, message = body.get("errorCode"), body.get("errorMessage")
    if code and message:
        return f"{code}: {message}"
    return str(message or code or f"HTTP {status}")


def candle_to_bar(candle: dict[str, Any], component: str = "mid") -> Bar:
    prices = candle[component]
    return Bar(
        time=parse_time(candle["time"]),
        open=to_float(prices["o"]),
        high=to_float(prices["h"]),
        low=to_float(prices["l"]),
        close=to_float(prices["c"]),
        volume=to_float(candle.get("volume", 0)),
    )


def fill_to_execution(tx: dict[str, Any], client_order_id: str, account: str) -> Execution:
    """An ``ORDER_FILL`` transaction -> :class:`Execution`. The commission is
    OANDA's (account home currency, reported as a positive cost)."""
    units = to_float(tx["units"])
    return Execution(
        execution_id=str(tx["id"]),
        client_order_id=client_order_id,
        broker_order_id=str(tx["orderID"]),
        account=account,
        asset=to_asset(tx["instrument"]),
        side=side_of(units),
        quantity=abs(units),
        price=to_float(tx.get("price") or tx.get("fullVWAP")),
        commission=abs(to_float(tx.get("commission"))),
        time=parse_time(tx["time"]),
    )


def instrument_spec(instrument: dict[str, Any]) -> InstrumentSpec:
    """An ``Instrument`` of ``GET /accounts/{id}/instruments`` ->
    :class:`InstrumentSpec`: tick 10^-displayPrecision, lot
    10^-tradeUnitsPrecision, minimum ``minimumTradeSize`` (at least a lot)."""
    tick = float(Decimal(1).scaleb(-int(instrument["displayPrecision"])))
    lot = float(Decimal(1).scaleb(-int(instrument.get("tradeUnitsPrecision", 0))))
    minimum = max(to_float(instrument.get("minimumTradeSize"), lot), lot)
    return InstrumentSpec(to_asset(instrument["name"]), tick, lot, minimum)


def quote_prices(price: dict[str, Any]) -> tuple[float, float]:
    """(bid, ask) of a ``PRICE`` object: the top of book, else closeout."""
    bids, asks = price.get("bids") or [], price.get("asks") or []
    bid = to_float(bids[0]["price"]) if bids else to_float(price.get("closeoutBid"))
    ask = to_float(asks[0]["price"]) if asks else to_float(price.get("closeoutAsk"))
    return bid, ask
