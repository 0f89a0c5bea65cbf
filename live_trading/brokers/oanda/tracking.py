"""What the adapter knows of each order it sent: :class:`Tracked`, and the
checks and translations that need no network."""

from __future__ import annotations

import dataclasses
from typing import Any

from live_trading.domain.orders import OrderRequest, OrderStatus
from live_trading.domain.values import OrderType

from . import parsing as p

FINISHED = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


@dataclasses.dataclass
class Tracked:
    """An order this adapter sent (or holds, for a bracket child)."""

    request: OrderRequest
    ext_id: str
    broker_order_id: str | None = None
    status: OrderStatus = OrderStatus.PENDING
    trade_id: str | None = None  # the trade the order opened (entries)
    dependent_kind: str | None = None  # STOP_LOSS / TAKE_PROFIT (bracket children)
    held: bool = False  # a child waiting for its parent's fill
    refused_status: int = 0  # HTTP status of OANDA's last refusal of it


def request_problem(request: OrderRequest) -> str | None:
    if not request.quantity > 0:
        return f"quantity must be > 0, got {request.quantity!r}"
    try:
        p.to_instrument(request.asset)
        p.units_str(request.side, request.quantity)
    except ValueError as error:
        return str(error)
    if request.order_type is OrderType.LIMIT and not (request.limit_price or 0) > 0:
        return "a LIMIT order needs a limit_price > 0"
    if request.order_type is OrderType.STOP and not (request.stop_price or 0) > 0:
        return "a STOP order needs a stop_price > 0"
    return None


def request_from_pending(
    order: dict[str, Any], cid: str, account: str, trades: dict[str, dict[str, Any]]
) -> OrderRequest | None:
    kind = order.get("type")
    price = p.to_float(order.get("price"))
    if kind in ("LIMIT", "STOP"):
        units = p.to_float(order["units"])
        return OrderRequest(
            cid,
            account,
            p.to_asset(order["instrument"]),
            p.side_of(units),
            abs(units),
            OrderType(kind),
            limit_price=price if kind == "LIMIT" else None,
            stop_price=price if kind == "STOP" else None,
        )
    trade = trades.get(str(order.get("tradeID")))
    if kind in ("STOP_LOSS", "TAKE_PROFIT") and trade is not None:
        units = p.to_float(trade["currentUnits"])
        stop = kind == "STOP_LOSS"
        return OrderRequest(
            cid,
            account,
            p.to_asset(trade["instrument"]),
            p.side_of(units).opposite,
            abs(units),
            OrderType.STOP if stop else OrderType.LIMIT,
            limit_price=None if stop else price,
            stop_price=price if stop else None,
        )
    return None
