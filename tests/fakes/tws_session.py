"""Test helpers around the fake TWS: an IBKRBroker connected to it, with
its reports and connection events collected."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from live_trading.brokers.ibkr import IBKRBroker, IBKRConfig
from live_trading.domain.orders import CommissionReport, Execution, OrderRequest
from live_trading.domain.values import OrderType, Side
from live_trading.engine.ports import ConnectionState
from tests.fakes.tws_server import FakeTWS

OP = "op1"
FAST = {
    "connect_timeout_s": 5,
    "request_timeout_s": 0.5,
    "submit_ack_timeout_s": 0.5,
    "reconnect_backoff_s": (0.05, 0.1, 0.2),
    "pacing_wait_s": 0.01,
}
"""Short deadlines so that a hung request fails the test quickly."""


class Reports(list):
    """Fills and cancellations in order; CommissionReports kept apart in
    ``commissions`` (checked to follow their fill)."""

    def __init__(self) -> None:
        super().__init__()
        self.commissions: list[CommissionReport] = []

    def add(self, report) -> None:
        if isinstance(report, CommissionReport):
            assert any(
                isinstance(r, Execution) and r.execution_id == report.execution_id for r in self
            ), "a CommissionReport came before its fill"
            self.commissions.append(report)
        else:
            self.append(report)

    def fills(self) -> list[Execution]:
        return [r for r in self if isinstance(r, Execution)]


@dataclass
class Session:
    fake: FakeTWS
    broker: IBKRBroker
    reports: Reports = field(default_factory=Reports)
    events: list[tuple[str, ConnectionState]] = field(default_factory=list)

    @property
    def states(self) -> list[ConnectionState]:
        return [state for _, state in self.events]


def make_broker(fake: FakeTWS, *, client_id: int = 7, **settings) -> Session:
    """A broker (not yet connected) on ``fake`` collecting into a Session."""
    session = Session(fake, None)  # type: ignore[arg-type]
    config = IBKRConfig(port=fake.port, client_id=client_id, **{**FAST, **settings})
    session.broker = IBKRBroker(
        config, on_connection_event=lambda reason, state: session.events.append((reason, state))
    )

    async def listener(report) -> None:
        session.reports.add(report)

    session.broker.set_listener(listener)
    return session


async def wait_for(predicate, timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds (a generous bound against hangs)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def req(
    seq: int,
    qty: float = 10_000,
    side: Side = Side.BUY,
    order_type: OrderType = OrderType.MARKET,
    limit: float | None = None,
    account: str = OP,
    stop: float | None = None,
    **extra,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=f"LT-{account}-{seq}",
        account=account,
        asset="USD-CAD",
        side=side,
        quantity=qty,
        order_type=order_type,
        limit_price=limit,
        stop_price=stop,
        **extra,
    )
