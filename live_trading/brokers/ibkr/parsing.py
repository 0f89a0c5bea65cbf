"""Translation between the project's types and ib_async's.

Nothing of ib_async leaves this package: requests are turned into
``Contract``/``Order`` here, and ``Fill``/``Trade`` back into
:class:`~live_trading.domain.orders.Execution` and
:class:`~live_trading.domain.orders.OrderRequest`.

Assets: ``"USD-CAD"`` is the FX pair ``Forex("USDCAD")`` (secType CASH on
IDEALPRO), the tested path. Any other instrument (stock, future) is mapped
by an :class:`IBKRContractSpec` given per asset in
``IBKRConfig.contracts``, e.g. ``{"AAPL-USD": IBKRContractSpec("AAPL", "STK",
"SMART", "USD")}`` or ``{"ES-USD": IBKRContractSpec("ES", "FUT", "CME", "USD",
last_trade_date="202512")}`` (not exercised by the tests).

Client order ids travel in IB's ``orderRef``: orders and fills are matched
by it, never by IB's ``orderId`` (which restarts after a gateway restart).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ib_async import Contract, Forex, LimitOrder, MarketOrder, Order, StopOrder

from live_trading.domain.orders import Execution, OrderRequest
from live_trading.domain.values import Asset, OrderType, Side, utc_ms

ORDER_REF_PREFIX = "LT-"
BRACKET_SUFFIXES = ("-SL", "-TP")


@dataclass(frozen=True, slots=True)
class IBKRContractSpec:
    """How an asset is named at IB when it is not an IDEALPRO FX pair."""

    symbol: str
    sec_type: str  # "STK", "FUT", "CASH", ...
    exchange: str  # "SMART", "CME", "IDEALPRO", ...
    currency: str
    last_trade_date: str = ""  # futures: "YYYYMM" or "YYYYMMDD"
    multiplier: str = ""
    primary_exchange: str = ""

    def to_contract(self) -> Contract:
        return Contract(
            symbol=self.symbol,
            secType=self.sec_type,
            exchange=self.exchange,
            currency=self.currency,
            lastTradeDateOrContractMonth=self.last_trade_date,
            multiplier=self.multiplier,
            primaryExchange=self.primary_exchange,
        )


def asset_to_contract(asset: str, specs: dict | None = None) -> Contract:
    """``"USD-CAD"`` → ``Forex("USDCAD")``; other assets via ``specs``."""
    parsed = Asset.parse(asset)
    spec = (specs or {}).get(parsed.name)
    if spec is not None:
        return spec.to_contract()
    if len(parsed.base) != 3 or len(parsed.quote) != 3:
        raise ValueError(f"asset {asset!r} is not an FX pair: give an IBKRContractSpec for it")
    return Forex(parsed.symbol)


def contract_to_asset(contract, specs: dict | None = None) -> str:
    """The project's asset name of an IB contract (``"USD-CAD"``)."""
    for name, spec in (specs or {}).items():
        if (spec.symbol, spec.sec_type, spec.currency) == (
            contract.symbol,
            contract.secType,
            contract.currency,
        ):
            return name
    if contract.secType == "CASH":
        return f"{contract.symbol}-{contract.currency}"
    return f"{contract.symbol}-{contract.currency}"


def request_to_order(request: OrderRequest, ib_account: str | None) -> Order:
    """The IB order of ``request``; our client order id in ``orderRef``."""
    action = request.side.value
    if request.order_type is OrderType.MARKET:
        order: Order = MarketOrder(action, request.quantity)
    elif request.order_type is OrderType.LIMIT:
        if request.limit_price is None:
            raise ValueError("LIMIT order without limit_price")
        order = LimitOrder(action, request.quantity, request.limit_price)
    elif request.order_type is OrderType.STOP:
        if request.stop_price is None:
            raise ValueError("STOP order without stop_price")
        order = StopOrder(action, request.quantity, request.stop_price)
    else:  # pragma: no cover - enum is closed
        raise ValueError(f"unsupported order type {request.order_type}")
    order.orderRef = request.client_order_id
    order.tif = "GTC"
    if ib_account:
        order.account = ib_account
    if request.oco_group:
        order.ocaGroup = request.oco_group
        order.ocaType = 1  # cancel the others with block
    return order


def account_of_order_ref(order_ref: str) -> str | None:
    """The operation (our ``account``) of an order ref ``LT-<op>-<seq>``."""
    if not order_ref.startswith(ORDER_REF_PREFIX):
        return None
    body = order_ref[len(ORDER_REF_PREFIX) :]
    for suffix in BRACKET_SUFFIXES:  # bracket children: ``<parent cid>-SL``
        if body.endswith(suffix):
            body = body[: -len(suffix)]
            break
    head, _, seq = body.rpartition("-")
    return head if head and seq else None


def order_ref_prefix(account: str) -> str:
    return f"{ORDER_REF_PREFIX}{account}-"


_ORDER_TYPES = {"MKT": OrderType.MARKET, "LMT": OrderType.LIMIT, "STP": OrderType.STOP}


def trade_to_request(trade, account: str, specs: dict | None = None) -> OrderRequest | None:
    """An ib_async ``Trade`` as the OrderRequest it carries (None if foreign)."""
    order = trade.order
    order_type = _ORDER_TYPES.get(order.orderType)
    if order_type is None or not order.orderRef:
        return None
    return OrderRequest(
        client_order_id=order.orderRef,
        account=account,
        asset=contract_to_asset(trade.contract, specs),
        side=Side(order.action),
        quantity=float(order.totalQuantity),
        order_type=order_type,
        limit_price=float(order.lmtPrice) if order_type is OrderType.LIMIT else None,
        stop_price=float(order.auxPrice) if order_type is OrderType.STOP else None,
        oco_group=order.ocaGroup or None,
    )


def perm_id_of(trade) -> int:
    """IB's permId of a trade, from whichever came first: ``orderStatus``
    (ib_async keeps it in ``trade.orderStatus``) or ``openOrder`` (in
    ``trade.order``); 0 while neither has."""
    return trade.orderStatus.permId or trade.order.permId or 0


def broker_order_id_of(perm_id: int, order_id: int) -> str:
    """IB's permanent id (stable across restarts) when known, else the
    session's orderId prefixed ``oid:``."""
    return str(perm_id) if perm_id else f"oid:{order_id}"


def fill_to_execution(
    fill, commission: float | None = None, specs: dict | None = None
) -> Execution:
    """An ib_async ``Fill`` as an Execution (client id from ``orderRef``)."""
    ex = fill.execution
    time = ex.time if isinstance(ex.time, datetime) else fill.time
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    side = Side.BUY if ex.side in ("BOT", "BUY") else Side.SELL
    if commission is None:
        commission = fill.commissionReport.commission if fill.commissionReport.execId else 0.0
    return Execution(
        execution_id=ex.execId,
        client_order_id=ex.orderRef,
        broker_order_id=broker_order_id_of(ex.permId, ex.orderId),
        account=account_of_order_ref(ex.orderRef) or ex.acctNumber,
        asset=contract_to_asset(fill.contract, specs),
        side=side,
        quantity=float(ex.shares),
        price=float(ex.price),
        commission=float(commission),
        time=utc_ms(time),
    )
