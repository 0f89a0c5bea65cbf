"""The fake TWS's orders, executions and connections (tests/fakes/tws_server.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

CONTRACTS = {  # (symbol, secType, currency) -> (conId, exchange, localSymbol, tradingClass)
    ("USD", "CASH", "CAD"): (15016062, "IDEALPRO", "USD.CAD", "USD.CAD"),
    ("EUR", "CASH", "USD"): (12087792, "IDEALPRO", "EUR.USD", "EUR.USD"),
}


@dataclass
class FakeOrder:
    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    sec_type: str
    exchange: str
    currency: str
    action: str
    quantity: float
    order_type: str
    lmt_price: str
    aux_price: str
    tif: str
    account: str
    order_ref: str
    oca_group: str = ""
    parent_id: int = 0
    status: str = "PreSubmitted"
    filled: float = 0.0
    avg_price: float = 0.0
    last_price: float = 0.0

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    @property
    def working(self) -> bool:
        return self.status in ("PreSubmitted", "Submitted")

    def contract_fields(self, with_exchange: bool = True) -> list:
        con_id, exch, local, tclass = CONTRACTS.get(
            (self.symbol, self.sec_type, self.currency),
            (0, self.exchange, self.symbol, self.symbol),
        )
        return [
            con_id,
            self.symbol,
            self.sec_type,
            "",
            "0",
            "",
            "",
            exch,
            self.currency,
            local,
            tclass,
        ]


@dataclass
class FakeExecution:
    exec_id: str
    order: FakeOrder
    shares: float
    price: float
    time: datetime
    cum_qty: float
    avg_price: float
    commission: float
    order_id: int = 0  # the orderId at the time of the fill
    children_at_fill: list = field(default_factory=list)  # orderRefs of its children


@dataclass
class _Conn:
    writer: asyncio.StreamWriter
    client_id: int = -1
    version: int = 0
    muted: bool = False  # answers are lost (adversary)


def _crossed(order: FakeOrder, price: float) -> bool:
    buy = order.action == "BUY"
    if order.order_type == "MKT":
        return True
    if order.order_type == "LMT":
        limit = float(order.lmt_price)
        return price <= limit if buy else price >= limit
    if order.order_type == "STP":
        stop = float(order.aux_price)
        return price >= stop if buy else price <= stop
    return False
