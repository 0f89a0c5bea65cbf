"""The projection fold, on hand-built journal records.

Money cases are computed by hand (numbers written out below); the property
test folds random valid trading sequences and checks the fold's invariants.
"""

from __future__ import annotations

import copy
import itertools
import math
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live_trading.domain import events as ev
from live_trading.domain.events import event_data
from live_trading.domain.projection import (
    OPERATIONS,
    ORDERS,
    POSITIONS,
    TRADES,
    TRANSACTIONS,
    Changes,
    JournalRecord,
    OperationState,
    ProjectionError,
    apply,
    fold,
)

SPEC: dict[str, Any] = {
    "asset": "USD-CAD",
    "bar_sizes": ["1 hour"],
    "primary_bar_size": "1 hour",
    "strategy_name": "MomentumStrategy",
    "strategy_config": {"fast": 12, "slow": 26},
    "stop_loss_type": "ATR",
    "stop_loss_value": 1.5,
    "take_profit_type": "RISK_REWARD",
    "take_profit_value": 2.0,
    "crash_recovery_mode": "CLOSE_ALL",
    "emergency_stop_loss_pct": 0.05,
    "data_retention_bars": 1000,
    "quantity": 10000.0,
    "initial_capital": 100_000.0,
    "broker": "PAPER",
}
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
BUY, SELL = "BUY", "SELL"

_exec_ids = itertools.count(1)


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- helpers


def make_records(
    events: list[ev.Event], *, operation_id: str, start: int = 1
) -> list[JournalRecord]:
    """Journal records for ``events``, numbered ``start``, ``start + 1``..."""
    return [
        JournalRecord(
            entry_id=str(ObjectId()),
            operation_id=operation_id,
            sequence_number=seq,
            action_type=event.ACTION_TYPE,
            action_data=event_data(event),
            timestamp=T0 + timedelta(seconds=seq),
            source="test",
            event_id=str(uuid.uuid4()),
        )
        for seq, event in enumerate(events, start=start)
    ]


def created(**overrides: Any) -> ev.OperationCreated:
    return ev.OperationCreated({**SPEC, **overrides})


def submit(
    coid: str, side: str, quantity: float, role: str = "ENTRY", **kw: Any
) -> ev.OrderSubmitted:
    return ev.OrderSubmitted(
        client_order_id=coid,
        role=role,
        side=side,
        order_type=kw.pop("order_type", "MARKET"),
        quantity=quantity,
        **kw,
    )


def fill(
    coid: str,
    side: str,
    quantity: float,
    price: float,
    commission: float,
    *,
    minute: int,
    execution_id: str | None = None,
) -> ev.OrderFilled:
    return ev.OrderFilled(
        execution_id=execution_id or f"EX-{next(_exec_ids)}",
        client_order_id=coid,
        broker_order_id=f"B-{coid}",
        side=side,
        quantity=quantity,
        price=price,
        commission=commission,
        executed_at=T0 + timedelta(minutes=minute),
    )


def docs(documents: Changes, collection: str) -> dict[str, dict[str, Any]]:
    return {key[1]: doc for key, doc in documents.items() if key[0] == collection}


def fills_of(records: list[JournalRecord]) -> list[JournalRecord]:
    return [r for r in records if r.action_type == "ORDER_FILLED"]


def submitted(records: list[JournalRecord], coid: str) -> JournalRecord:
    return next(
        r
        for r in records
        if r.action_type == "ORDER_SUBMITTED" and r.action_data["client_order_id"] == coid
    )


class Run:
    """Fold of a list of events for a fresh operation."""

    def __init__(self, events: list[ev.Event]) -> None:
        self.op = str(ObjectId())
        self.records = make_records(events, operation_id=self.op)
        self.state, self.documents = fold(self.op, self.records)

    @property
    def operation(self) -> dict[str, Any]:
        return self.documents[(OPERATIONS, self.op)]

    def coll(self, collection: str) -> dict[str, dict[str, Any]]:
        return docs(self.documents, collection)

    def fill_id(self, index: int) -> str:
        return fills_of(self.records)[index].entry_id


# --------------------------------------------------------------------------- money


def test_long_round_trip() -> None:
    # LONG 10,000 @ 1.40000, exit @ 1.40500, commissions 0.28 and 0.281:
    # gross = 0.005 * 10,000 = 50.0; commission = 0.561; net = 49.439
    # pnl_pct = 49.439 / (1.40000 * 10,000) = 49.439 / 14,000
    run = Run(
        [
            created(),
            submit("E1", BUY, 10_000, stop_loss=1.395, take_profit=1.41),
            ev.OrderAccepted("E1", "IB-1"),
            fill("E1", BUY, 10_000, 1.40000, 0.28, minute=0),
            submit("X1", SELL, 10_000, role="EXIT"),
            fill("X1", SELL, 10_000, 1.40500, 0.281, minute=90),
        ]
    )
    entry_tx, exit_tx = run.fill_id(0), run.fill_id(1)

    trades = run.coll(TRADES)
    assert list(trades) == [exit_tx]
    trade = trades[exit_tx]
    assert trade["gross_pnl"] == approx(50.0)
    assert trade["total_commission"] == approx(0.561)
    assert trade["pnl"] == approx(49.439)
    assert trade["pnl_pct"] == approx(49.439 / 14_000)
    assert trade["position_type"] == "LONG"
    assert trade["entry_price"] == 1.40000 and trade["exit_price"] == 1.40500
    assert trade["quantity"] == 10_000
    assert trade["entry_time"] == T0 and trade["exit_time"] == T0 + timedelta(minutes=90)
    assert trade["duration_seconds"] == 5400.0
    assert trade["exit_reason"] == "EXIT"
    assert trade["entry_transaction_id"] == entry_tx
    assert trade["exit_transaction_id"] == exit_tx
    assert trade["position_id"] == entry_tx

    position = run.coll(POSITIONS)[entry_tx]
    assert position["status"] == "CLOSED"
    assert position["quantity"] == 0.0
    assert position["position_type"] == "LONG"
    assert position["contract_symbol"] == "USD-CAD"
    assert position["realized_pnl"] == approx(49.439)
    assert position["entry_price"] == 1.40000 and position["current_price"] == 1.40500
    assert position["stop_loss"] == 1.395 and position["take_profit"] == 1.41
    assert position["opened_at"] == T0
    assert position["closed_at"] == T0 + timedelta(minutes=90)
    assert run.state.position is None

    op = run.operation
    assert op["total_pnl"] == approx(49.439)
    assert op["current_capital"] == approx(100_049.439)
    assert op["total_pnl_pct"] == approx(0.00049439)
    assert op["total_commission"] == approx(0.561)
    assert op["trade_count"] == 1


def test_short_round_trip() -> None:
    # SHORT 20,000 @ 1.36000, buy back @ 1.35250, commissions 0.544 and 0.541:
    # gross = (1.36000 - 1.35250) * 20,000 = 150.0; net = 150.0 - 1.085 = 148.915
    run = Run(
        [
            created(),
            submit("E1", SELL, 20_000),
            fill("E1", SELL, 20_000, 1.36000, 0.544, minute=0),
            submit("X1", BUY, 20_000, role="TAKE_PROFIT"),
            fill("X1", BUY, 20_000, 1.35250, 0.541, minute=30),
        ]
    )
    entry_tx, exit_tx = run.fill_id(0), run.fill_id(1)
    trade = run.coll(TRADES)[exit_tx]
    assert trade["position_type"] == "SHORT"
    assert trade["gross_pnl"] == approx(150.0)
    assert trade["total_commission"] == approx(1.085)
    assert trade["pnl"] == approx(148.915)
    assert trade["pnl_pct"] == approx(148.915 / 27_200)
    assert trade["exit_reason"] == "TAKE_PROFIT"

    transactions = run.coll(TRANSACTIONS)
    assert transactions[entry_tx]["transaction_type"] == SELL
    assert transactions[entry_tx]["position_type"] == "SHORT"
    assert transactions[exit_tx]["transaction_type"] == BUY
    assert transactions[exit_tx]["profit"] == approx(148.915)

    position = run.coll(POSITIONS)[entry_tx]
    assert position["position_type"] == "SHORT"
    assert position["status"] == "CLOSED"
    assert position["realized_pnl"] == approx(148.915)
    assert run.operation["total_pnl"] == approx(148.915)


def test_open_short_position_has_negative_quantity() -> None:
    run = Run(
        [created(), submit("E1", SELL, 20_000), fill("E1", SELL, 20_000, 1.36000, 0.544, minute=0)]
    )
    position = run.coll(POSITIONS)[run.fill_id(0)]
    assert position["status"] == "OPEN"
    assert position["quantity"] == -20_000
    assert run.state.position is not None and run.state.position.open_quantity == 20_000


def test_two_partial_exits_split_the_entry_commission_pro_rata() -> None:
    # LONG 30,000 @ 1.35000, entry commission 0.81.
    # Exit 1: 10,000 @ 1.35200, commission 0.2704; entry share 0.81 * 1/3 = 0.27
    #   gross = 0.002 * 10,000 = 20.0; commission 0.5404; net 19.4596
    # Exit 2: 20,000 @ 1.34900, commission 0.5396; entry share (rest) 0.54
    #   gross = -0.001 * 20,000 = -20.0; commission 1.0796; net -21.0796
    # Total: net -1.62 = -(0.81 + 0.2704 + 0.5396)
    events: list[ev.Event] = [
        created(),
        submit("E1", BUY, 30_000),
        fill("E1", BUY, 30_000, 1.35000, 0.81, minute=0),
        submit("X1", SELL, 10_000, role="EXIT"),
        fill("X1", SELL, 10_000, 1.35200, 0.2704, minute=10),
    ]
    half = Run(events)
    entry_tx = half.fill_id(0)
    position = half.coll(POSITIONS)[entry_tx]
    assert position["status"] == "OPEN"
    assert position["quantity"] == 20_000
    assert position["entry_price"] == 1.35000
    assert position["current_price"] == 1.35200
    assert position["realized_pnl"] == approx(19.4596)
    assert position["closed_at"] is None
    assert half.state.position is not None
    assert half.state.position.allocated_commission == approx(0.27)
    trade1 = half.coll(TRADES)[half.fill_id(1)]
    assert trade1["gross_pnl"] == approx(20.0)
    assert trade1["total_commission"] == approx(0.5404)
    assert trade1["pnl"] == approx(19.4596)
    assert half.operation["trade_count"] == 1

    run = Run(
        events
        + [
            submit("X2", SELL, 20_000, role="STOP_LOSS"),
            fill("X2", SELL, 20_000, 1.34900, 0.5396, minute=20),
        ]
    )
    entry_tx = run.fill_id(0)
    trades = run.coll(TRADES)
    assert list(trades) == [run.fill_id(1), run.fill_id(2)]
    trade1, trade2 = trades.values()
    assert trade1["pnl"] == approx(19.4596)
    assert trade2["gross_pnl"] == approx(-20.0)
    assert trade2["total_commission"] == approx(1.0796)
    assert trade2["pnl"] == approx(-21.0796)
    assert {t["position_id"] for t in trades.values()} == {entry_tx}
    assert {t["entry_transaction_id"] for t in trades.values()} == {entry_tx}

    position = run.coll(POSITIONS)[entry_tx]
    assert position["status"] == "CLOSED"
    assert position["quantity"] == 0.0
    assert position["realized_pnl"] == approx(-1.62)
    op = run.operation
    assert op["total_pnl"] == approx(-1.62)
    assert op["total_commission"] == approx(1.62)
    assert op["trade_count"] == 2
    assert trade1["total_commission"] + trade2["total_commission"] == approx(1.62)


def test_last_exit_takes_the_remaining_entry_commission_exactly() -> None:
    # Entry commission 0.7 over 30,000, closed in three exits of 10,000 with
    # exit commissions 0.2, 0.3, 0.5. Pure pro rata (0.7 / 3 each) would sum
    # the trade commissions to 1.7000000000000002; the remainder rule makes
    # them add up to exactly what was paid.
    run = Run(
        [
            created(),
            submit("E1", BUY, 30_000),
            fill("E1", BUY, 30_000, 1.35000, 0.7, minute=0),
            submit("X1", SELL, 30_000, role="EXIT"),
            fill("X1", SELL, 10_000, 1.35100, 0.2, minute=1),
            fill("X1", SELL, 10_000, 1.35200, 0.3, minute=2),
            fill("X1", SELL, 10_000, 1.35300, 0.5, minute=3),
        ]
    )
    trades = list(run.coll(TRADES).values())
    assert len(trades) == 3
    pro_rata = [0.7 * 10_000 / 30_000 + c for c in (0.2, 0.3, 0.5)]
    assert sum(pro_rata) != 0.7 + 0.2 + 0.3 + 0.5  # the case discriminates
    assert sum(t["total_commission"] for t in trades) == run.operation["total_commission"]
    assert run.operation["total_commission"] == 0.7 + 0.2 + 0.3 + 0.5
    assert trades[0]["total_commission"] == approx(0.7 / 3 + 0.2)
    assert trades[2]["total_commission"] == approx(0.7 / 3 + 0.5)
    # gross 0.001 * 10k + 0.002 * 10k + 0.003 * 10k = 60; minus 1.7 commissions
    assert run.operation["total_pnl"] == approx(58.3)


def test_scale_in_after_partial_exit_never_allocates_more_entry_commission_than_paid() -> None:
    # BUY 10,000 (commission 1.0); SELL 9,000 -> share 1.0 * 9/10 = 0.9, 0.1 left
    # for the 1,000 still open. BUY 10,000 (commission 0): 11,000 open, 0.1 left.
    # SELL 10,000 must take at most the 0.1 left (0.1 * 10,000 / 11,000), and the
    # final SELL 1,000 the remainder; no share may be negative.
    run = Run(
        [
            created(),
            submit("E1", BUY, 10_000),
            fill("E1", BUY, 10_000, 1.40, 1.0, minute=0),
            submit("X1", SELL, 9_000, role="EXIT"),
            fill("X1", SELL, 9_000, 1.40, 0.0, minute=1),
            submit("E2", BUY, 10_000),
            fill("E2", BUY, 10_000, 1.40, 0.0, minute=2),
            submit("X2", SELL, 11_000, role="EXIT"),
            fill("X2", SELL, 10_000, 1.40, 0.0, minute=3),
            fill("X2", SELL, 1_000, 1.40, 0.0, minute=4),
        ]
    )
    trades = list(run.coll(TRADES).values())
    assert len(trades) == 3
    # What is true today (the totals still add up):
    assert sum(t["total_commission"] for t in trades) == approx(1.0)
    # What must hold: an entry commission share is never negative, and no more
    # than what was paid is allocated while the position is still open.
    assert all(t["total_commission"] >= 0.0 for t in trades), [
        t["total_commission"] for t in trades
    ]


def test_scale_in_averages_the_entry_price() -> None:
    # One entry order of 40,000 filled 10,000 @ 1.30000 (commission 0.26) then
    # 30,000 @ 1.30400 (commission 0.7824):
    #   average = (13,000 + 39,120) / 40,000 = 1.30300
    # Exit 40,000 @ 1.30500, commission 1.044:
    #   gross = 0.002 * 40,000 = 80.0; commission 2.0864; net 77.9136
    first = [
        created(),
        submit("E1", BUY, 40_000, order_type="LIMIT", limit_price=1.305),
        ev.OrderAccepted("E1", "IB-7"),
        fill("E1", BUY, 10_000, 1.30000, 0.26, minute=0),
    ]
    partial = Run(first)
    order = partial.coll(ORDERS)[submitted(partial.records, "E1").entry_id]
    assert order["status"] == "SUBMITTED"
    assert order["filled_quantity"] == 10_000
    assert order["avg_fill_price"] == 1.30000
    assert order["price"] == 1.305
    assert [o["client_order_id"] for o in partial.state.working_orders()] == ["E1"]

    run = Run(
        first
        + [
            fill("E1", BUY, 30_000, 1.30400, 0.7824, minute=5),
            submit("X1", SELL, 40_000, role="EXIT"),
            fill("X1", SELL, 40_000, 1.30500, 1.044, minute=60),
        ]
    )
    first_tx, second_tx, exit_tx = (run.fill_id(i) for i in range(3))
    order = run.coll(ORDERS)[submitted(run.records, "E1").entry_id]
    assert order["status"] == "FILLED"
    assert order["filled_quantity"] == 40_000
    assert order["avg_fill_price"] == approx(1.30300)
    assert order["commission"] == approx(1.0424)
    assert order["broker_order_id"] == "IB-7"
    assert order["filled_at"] == T0 + timedelta(minutes=5)
    assert run.state.working_orders() == []

    transactions = run.coll(TRANSACTIONS)
    assert transactions[first_tx]["transaction_role"] == "ENTRY"
    assert transactions[second_tx]["transaction_role"] == "ENTRY"
    assert transactions[second_tx]["position_id"] == first_tx
    assert list(run.coll(POSITIONS)) == [first_tx]

    trade = run.coll(TRADES)[exit_tx]
    assert trade["entry_price"] == approx(1.30300)
    assert trade["quantity"] == 40_000
    assert trade["gross_pnl"] == approx(80.0)
    assert trade["total_commission"] == approx(2.0864)
    assert trade["pnl"] == approx(77.9136)
    assert trade["entry_transaction_id"] == first_tx
    assert trade["entry_time"] == T0  # the position's opening, not the scale-in

    mid = Run(first + [fill("E1", BUY, 30_000, 1.30400, 0.7824, minute=5)])
    position = mid.coll(POSITIONS)[mid.fill_id(0)]
    assert position["quantity"] == 40_000
    assert position["entry_price"] == approx(1.30300)
    assert position["current_price"] == 1.30400


def test_operation_totals_over_several_trades() -> None:
    # LONG  10,000 1.40000 -> 1.40500, comm 0.28 + 0.281    net  49.439
    # SHORT 20,000 1.36000 -> 1.35250, comm 0.544 + 0.541   net 148.915
    # LONG  10,000 1.37000 -> 1.36800, comm 0.274 + 0.2736  net -20.5476
    # total 177.8064; commissions 2.1936; capital 100,177.8064; pct 0.001778064
    run = Run(
        [
            created(),
            submit("A", BUY, 10_000),
            fill("A", BUY, 10_000, 1.40000, 0.28, minute=0),
            submit("B", SELL, 10_000, role="EXIT"),
            fill("B", SELL, 10_000, 1.40500, 0.281, minute=60),
            submit("C", SELL, 20_000),
            fill("C", SELL, 20_000, 1.36000, 0.544, minute=120),
            submit("D", BUY, 20_000, role="EXIT"),
            fill("D", BUY, 20_000, 1.35250, 0.541, minute=180),
            submit("E", BUY, 10_000),
            fill("E", BUY, 10_000, 1.37000, 0.274, minute=240),
            submit("F", SELL, 10_000, role="STOP_LOSS"),
            fill("F", SELL, 10_000, 1.36800, 0.2736, minute=300),
        ]
    )
    trades = run.coll(TRADES)
    assert [t["pnl"] for t in trades.values()] == [
        approx(49.439),
        approx(148.915),
        approx(-20.5476),
    ]
    assert [t["position_type"] for t in trades.values()] == ["LONG", "SHORT", "LONG"]
    positions = run.coll(POSITIONS)
    assert list(positions) == [run.fill_id(0), run.fill_id(2), run.fill_id(4)]
    assert all(p["status"] == "CLOSED" for p in positions.values())
    op = run.operation
    assert op["trade_count"] == 3
    assert op["total_pnl"] == approx(177.8064)
    assert op["current_capital"] == approx(100_177.8064)
    assert op["total_pnl_pct"] == approx(0.001778064)
    assert op["total_commission"] == approx(2.1936)
    assert op["initial_capital"] == 100_000.0
    assert op["last_sequence_number"] == len(run.records)
    assert op["updated_at"] == run.records[-1].timestamp


# --------------------------------------------------------------------------- links


def test_ids_link_orders_transactions_positions_and_trades() -> None:
    run = Run(
        [
            created(),
            submit("E1", BUY, 10_000, stop_loss=1.395, take_profit=1.41),
            fill("E1", BUY, 10_000, 1.40000, 0.28, minute=0),
            submit(
                "SL",
                SELL,
                10_000,
                role="STOP_LOSS",
                order_type="STOP",
                stop_price=1.395,
                parent_client_order_id="E1",
                oco_group="G1",
            ),
            submit(
                "TP",
                SELL,
                10_000,
                role="TAKE_PROFIT",
                order_type="LIMIT",
                limit_price=1.41,
                parent_client_order_id="E1",
                oco_group="G1",
            ),
            fill("TP", SELL, 10_000, 1.41000, 0.282, minute=30),
            ev.OrderCancelled("SL", "oco"),
        ]
    )
    entry_order = submitted(run.records, "E1").entry_id
    sl_order, tp_order = (submitted(run.records, c).entry_id for c in ("SL", "TP"))
    entry_tx, exit_tx = run.fill_id(0), run.fill_id(1)

    orders = run.coll(ORDERS)
    assert orders[sl_order]["parent_order_id"] == entry_order
    assert orders[tp_order]["parent_order_id"] == entry_order
    assert orders[entry_order]["parent_order_id"] is None
    assert orders[sl_order]["price"] == 1.395 and orders[tp_order]["price"] == 1.41
    assert orders[sl_order]["status"] == "CANCELLED"
    assert orders[sl_order]["cancelled_at"] == run.records[-1].timestamp
    assert orders[sl_order]["reason"] == "oco"
    assert orders[tp_order]["status"] == "FILLED"

    transactions = run.coll(TRANSACTIONS)
    assert set(transactions) == {entry_tx, exit_tx}
    entry, exit_ = transactions[entry_tx], transactions[exit_tx]
    assert entry["transaction_role"] == "ENTRY" and exit_["transaction_role"] == "EXIT"
    assert entry["order_id"] == entry_order and exit_["order_id"] == tp_order
    assert entry["related_entry_transaction_id"] is None
    assert exit_["related_entry_transaction_id"] == entry_tx
    assert entry["position_id"] == exit_["position_id"] == entry_tx
    assert exit_["notes"] == "TAKE_PROFIT"
    assert entry["profit"] == 0.0
    # (1.41 - 1.40) * 10,000 = 100.0 gross, minus 0.562
    assert exit_["profit"] == approx(99.438)
    assert exit_["profit_pct"] == approx(99.438 / 14_000)

    assert list(run.coll(POSITIONS)) == [entry_tx]
    assert list(run.coll(TRADES)) == [exit_tx]


def test_order_lifecycle_statuses() -> None:
    run = Run(
        [
            created(),
            submit("A", BUY, 10_000, reason="signal"),
            ev.OrderAccepted("A", "IB-A"),
            ev.OrderCancelled("A", "timeout"),
            submit("B", BUY, 10_000),
            ev.OrderRejected("B", "margin"),
            submit("C", BUY, 10_000),
            fill("C", BUY, 10_000, 1.40000, 0.28, minute=0),
            ev.OrderAccepted("C", "IB-C"),  # late ack does not undo the fill
            ev.OrderCancelled("C", "too late"),  # a cancel after the fill is ignored
            submit("D", SELL, 10_000, role="EXIT"),
        ]
    )
    orders = {o["client_order_id"]: o for o in run.coll(ORDERS).values()}
    assert orders["A"]["status"] == "CANCELLED"
    assert orders["A"]["broker_order_id"] == "IB-A"
    assert orders["A"]["reason"] == "timeout"
    assert orders["B"]["status"] == "REJECTED"
    assert orders["B"]["reason"] == "margin"
    assert orders["B"]["cancelled_at"] is None
    assert orders["C"]["status"] == "FILLED"
    assert orders["C"]["cancelled_at"] is None
    assert orders["C"]["reason"] is None
    assert orders["D"]["status"] == "PENDING"
    assert [o["client_order_id"] for o in run.state.working_orders()] == ["D"]


def test_signals_and_rejected_data_are_kept_in_state() -> None:
    bar_time = T0 + timedelta(hours=3)
    run = Run(
        [
            created(),
            ev.SignalGenerated(
                "1 hour",
                {
                    "time": bar_time,
                    "open": 1.0,
                    "high": 1.0,
                    "low": 1.0,
                    "close": 1.0,
                    "volume": 0.0,
                },
                None,
                "flat",
                {},
                "none",
            ),
            ev.MarketDataRejected("USDCAD_1h.csv", [{"line": 3, "reason": "high < low"}]),
        ]
    )
    assert run.state.last_bar_time == bar_time
    assert run.state.rejected_data_files == {"USDCAD_1h.csv"}
    assert run.operation["last_sequence_number"] == 3


# --------------------------------------------------------------------------- errors


def _fold_raises(events: list[ev.Event], match: str, **kw: Any) -> None:
    op = str(ObjectId())
    with pytest.raises(ProjectionError, match=match):
        fold(op, make_records(events, operation_id=op, **kw))


def test_sequence_gap_is_rejected() -> None:
    op = str(ObjectId())
    state = OperationState(op)
    first, second, third = make_records(
        [created(), ev.OperationPaused(), ev.OperationResumed()], operation_id=op
    )
    apply(state, first)
    with pytest.raises(ProjectionError, match="expected sequence 2, got 3"):
        apply(state, third)
    apply(state, second)
    with pytest.raises(ProjectionError, match="expected sequence 3, got 2"):
        apply(state, second)  # the same record again


def test_first_record_must_be_sequence_one() -> None:
    _fold_raises([created()], "expected sequence 1, got 2", start=2)


def test_duplicate_execution_id_is_rejected() -> None:
    _fold_raises(
        [
            created(),
            submit("E1", BUY, 20_000),
            fill("E1", BUY, 10_000, 1.4, 0.28, minute=0, execution_id="X-1"),
            fill("E1", BUY, 10_000, 1.4, 0.28, minute=1, execution_id="X-1"),
        ],
        "execution X-1 recorded twice",
    )


def test_fill_for_unknown_order_is_rejected() -> None:
    _fold_raises(
        [created(), submit("E1", BUY, 10_000), fill("NOPE", BUY, 10_000, 1.4, 0.28, minute=0)],
        "unknown order NOPE",
    )


@pytest.mark.parametrize(
    "event",
    [ev.OrderAccepted("NOPE", "IB"), ev.OrderCancelled("NOPE", "x"), ev.OrderRejected("NOPE", "x")],
)
def test_report_for_unknown_order_is_rejected(event: ev.Event) -> None:
    _fold_raises([created(), event], "unknown order NOPE")


def test_order_submitted_twice_is_rejected() -> None:
    _fold_raises(
        [created(), submit("E1", BUY, 10_000), submit("E1", BUY, 10_000)], "E1 submitted twice"
    )


@pytest.mark.parametrize("side,other", [(BUY, SELL), (SELL, BUY)])
def test_a_fill_larger_than_the_open_position_reverses_it(side: str, other: str) -> None:
    # Open 10,000 @ 1.40 (commission 0.28); a 25,000 fill the other way @ 1.41
    # (commission 0.50) closes the 10,000 and opens 15,000 the other way, as a
    # broker's net position would: commission split 10/25 and 15/25.
    # LONG first: gross (1.41 - 1.40) * 10,000 = +100; SHORT first: -100.
    # net = gross - 0.28 - 0.50 * 10/25 = gross - 0.48
    run = Run(
        [
            created(),
            submit("E1", side, 10_000),
            fill("E1", side, 10_000, 1.40, 0.28, minute=0),
            submit("E2", other, 25_000),
            fill("E2", other, 25_000, 1.41, 0.50, minute=60),
        ]
    )
    [trade] = run.coll(TRADES).values()
    gross = 100.0 if side == BUY else -100.0
    assert trade["gross_pnl"] == pytest.approx(gross)
    assert trade["pnl"] == pytest.approx(gross - 0.48)
    assert trade["exit_reason"] == "REVERSAL"
    position = run.state.position
    assert position is not None and position.open_quantity == pytest.approx(15_000)
    assert position.side.value == ("SHORT" if side == BUY else "LONG")
    assert position.doc["entry_price"] == 1.41
    assert position.entry_commission == pytest.approx(0.30)
    transactions = run.coll(TRANSACTIONS).values()
    roles = sorted((t["transaction_role"], t["quantity"]) for t in transactions)
    assert roles == [("ENTRY", 10_000), ("ENTRY", 15_000), ("EXIT", 10_000)]
    assert {
        t["execution_id"].endswith("#reversal") for t in transactions if t["quantity"] == 15_000
    } == {True}
    assert run.operation["total_commission"] == pytest.approx(0.78)
    again = Run.__new__(Run)  # the same records fold to the same ids
    again.op, again.records = run.op, run.records
    again.state, again.documents = fold(run.op, run.records)
    assert again.documents == run.documents


def test_an_exit_beyond_what_is_left_after_a_partial_exit_reverses() -> None:
    run = Run(
        [
            created(),
            submit("E1", BUY, 10_000),
            fill("E1", BUY, 10_000, 1.4, 0.28, minute=0),
            submit("X1", SELL, 6_000, role="EXIT"),
            submit("X2", SELL, 6_000, role="EXIT"),
            fill("X1", SELL, 6_000, 1.41, 0.1, minute=1),
            fill("X2", SELL, 6_000, 1.41, 0.1, minute=2),
        ]
    )
    assert len(run.coll(TRADES)) == 2
    assert run.state.position is not None and run.state.position.side.value == "SHORT"
    assert run.state.position.open_quantity == pytest.approx(2_000)


def test_a_fill_larger_than_its_order_is_rejected() -> None:
    _fold_raises(
        [
            created(),
            submit("E1", BUY, 10_000),
            fill("E1", BUY, 10_000, 1.4, 0.28, minute=0),
            fill("E1", BUY, 5_000, 1.4, 0.14, minute=1),
        ],
        "over-fills",
    )


def test_a_fill_on_the_other_side_of_its_order_is_rejected() -> None:
    _fold_raises(
        [created(), submit("E1", BUY, 10_000), fill("E1", SELL, 10_000, 1.4, 0.28, minute=0)],
        "is a SELL but order",
    )


def test_exit_within_float_noise_of_the_open_quantity_closes_it() -> None:
    run = Run(
        [
            created(),
            submit("E1", BUY, 0.3),
            fill("E1", BUY, 0.1, 1.4, 0.0, minute=0),
            fill("E1", BUY, 0.2, 1.4, 0.0, minute=1),  # 0.1 + 0.2 = 0.30000000000000004
            submit("X1", SELL, 0.3, role="EXIT"),
            fill("X1", SELL, 0.3, 1.5, 0.0, minute=2),
        ]
    )
    assert run.state.position is None
    assert run.coll(POSITIONS)[run.fill_id(0)]["status"] == "CLOSED"


def test_operation_created_twice_is_rejected() -> None:
    _fold_raises([created(), created()], "created twice")


@pytest.mark.parametrize(
    "event",
    [
        ev.OperationPaused("x"),
        ev.OperationResumed(),
        ev.OperationCloseRequested(),
        ev.OperationClosed(),
        ev.OperationFailed("x"),
        ev.OperationUpdated({"quantity": 1.0}),
    ],
)
def test_event_before_creation_is_rejected(event: ev.Event) -> None:
    _fold_raises([event], "before OPERATION_CREATED")


# --------------------------------------------------------------------------- status


def test_status_transitions() -> None:
    op = str(ObjectId())
    events: list[ev.Event] = [
        created(),
        ev.OperationPaused("manual"),
        ev.OperationResumed(),
        ev.OperationFailed("no market data"),
        ev.OperationResumed("data back"),
        ev.OperationUpdated({"stop_loss_value": 2.5}),
        ev.OperationCloseRequested("user"),
        ev.OperationClosed("flat"),
    ]
    expected = [
        ("active", None),
        ("paused", "manual"),
        ("active", None),
        ("error", "no market data"),
        ("active", "data back"),
        ("active", "data back"),
        ("closing", "user"),
        ("closed", "flat"),
    ]
    records = make_records(events, operation_id=op)
    state = OperationState(op)
    for record, (status, reason) in zip(records, expected, strict=True):
        changes = apply(state, record)
        doc = changes[(OPERATIONS, op)]
        assert (doc["status"], doc["status_reason"]) == (status, reason), record.action_type
        assert state.status == status
        assert doc["last_sequence_number"] == record.sequence_number
        assert doc["updated_at"] == record.timestamp
        assert doc["created_at"] == records[0].timestamp
        if status != "closed":
            assert doc["closed_at"] is None
    assert doc["closed_at"] == records[-1].timestamp
    assert doc["stop_loss_value"] == 2.5
    assert doc["strategy_config"] == SPEC["strategy_config"]


def test_new_operation_starts_active_with_zero_totals() -> None:
    run = Run([created()])
    op = run.operation
    assert {k: op[k] for k in SPEC} == SPEC
    assert op["status"] == "active"
    assert op["current_capital"] == 100_000.0
    assert (op["total_pnl"], op["total_pnl_pct"], op["total_commission"], op["trade_count"]) == (
        0.0,
        0.0,
        0.0,
        0,
    )
    assert op["last_sequence_number"] == 1
    assert run.state.status == "active"


def test_returned_documents_are_snapshots() -> None:
    op = str(ObjectId())
    records = make_records(
        [
            created(),
            submit("E1", BUY, 10_000),
            fill("E1", BUY, 4_000, 1.4, 0.1, minute=0),
            fill("E1", BUY, 6_000, 1.5, 0.1, minute=1),
        ],
        operation_id=op,
    )
    state = OperationState(op)
    changes = [apply(state, r) for r in records]
    order_id = records[1].entry_id
    assert changes[1][(ORDERS, order_id)]["status"] == "PENDING"
    assert changes[2][(ORDERS, order_id)]["filled_quantity"] == 4_000
    assert changes[2][(POSITIONS, records[2].entry_id)]["quantity"] == 4_000
    assert changes[3][(ORDERS, order_id)]["status"] == "FILLED"
    assert changes[0][(OPERATIONS, op)]["last_sequence_number"] == 1


# --------------------------------------------------------------------------- property


@st.composite
def trading_sequences(draw: st.DrawFn) -> tuple[list[ev.Event], dict[str, Any]]:
    """A valid event sequence and what a model of it expects.

    Quantities are whole cents of a unit (the model counts in integers), so
    "never exit more than is open" is exact in the model.
    """
    events: list[ev.Event] = [created()]
    order_status: dict[str, str] = {}
    commissions: list[float] = []
    open_cents, side = 0, None  # side: "BUY" for LONG, "SELL" for SHORT
    n_exits = n_closes = 0
    counter = itertools.count(1)
    minute = itertools.count(0)
    price = st.integers(120_000, 150_000).map(lambda p: p / 100_000)
    commission = st.floats(0, 5, allow_nan=False, allow_infinity=False)

    def fills(coid: str, fill_side: str, parts: list[int]) -> None:
        for cents in parts:
            c = draw(commission)
            commissions.append(c)
            events.append(
                fill(
                    coid,
                    fill_side,
                    cents / 100,
                    draw(price),
                    c,
                    minute=next(minute),
                    execution_id=f"X{next(counter)}",
                )
            )

    def split(total: int) -> list[int]:
        cuts = sorted(draw(st.sets(st.integers(1, total - 1), max_size=2))) if total > 1 else []
        bounds = [0, *cuts, total]
        return [b - a for a, b in itertools.pairwise(bounds)]

    for _ in range(draw(st.integers(1, 25))):
        kinds = ["enter", "enter", "idle_order", "pause", "signal"]
        if open_cents:
            kinds += ["exit", "exit", "exit_all"]
        kind = draw(st.sampled_from(kinds))
        coid = f"C{next(counter)}"
        if kind == "enter":
            entry_side = side or draw(st.sampled_from([BUY, SELL]))
            if open_cents >= 9_000_000:
                continue
            cents = draw(st.integers(1, 2_000_000))
            parts = split(cents)
            filled = parts[: draw(st.integers(1, len(parts)))]
            events.append(submit(coid, entry_side, cents / 100, stop_loss=draw(st.none() | price)))
            if draw(st.booleans()):
                events.append(ev.OrderAccepted(coid, f"IB-{coid}"))
            fills(coid, entry_side, filled)
            if len(filled) < len(parts):
                events.append(ev.OrderCancelled(coid, "partial then cancelled"))
                order_status[coid] = "CANCELLED"
            else:
                order_status[coid] = "FILLED"
            open_cents += sum(filled)
            side = entry_side
        elif kind in ("exit", "exit_all"):
            assert side is not None
            cents = open_cents if kind == "exit_all" else draw(st.integers(1, open_cents))
            exit_side = SELL if side == BUY else BUY
            events.append(
                submit(
                    coid,
                    exit_side,
                    cents / 100,
                    role=draw(st.sampled_from(["EXIT", "STOP_LOSS", "TAKE_PROFIT"])),
                )
            )
            parts = split(cents)
            fills(coid, exit_side, parts)
            order_status[coid] = "FILLED"
            n_exits += len(parts)
            open_cents -= cents
            if open_cents == 0:
                side = None
                n_closes += 1
        elif kind == "idle_order":
            events.append(submit(coid, draw(st.sampled_from([BUY, SELL])), 1.0))
            if draw(st.booleans()):
                events.append(ev.OrderAccepted(coid, f"IB-{coid}"))
            if draw(st.booleans()):
                events.append(ev.OrderCancelled(coid, "cancelled"))
                order_status[coid] = "CANCELLED"
            else:
                events.append(ev.OrderRejected(coid, "rejected"))
                order_status[coid] = "REJECTED"
        elif kind == "pause":
            events.append(ev.OperationPaused("pause"))
            if draw(st.booleans()):
                events.append(ev.OperationResumed())
        else:
            events.append(ev.SignalGenerated("1 hour", {"time": T0}, None, "", {}, "none"))
    model = {
        "order_status": order_status,
        "commissions": commissions,
        "open_cents": open_cents,
        "side": side,
        "n_exits": n_exits,
        "n_closes": n_closes,
    }
    return events, model


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(trading_sequences())
def test_fold_invariants_on_random_valid_sequences(
    case: tuple[list[ev.Event], dict[str, Any]],
) -> None:
    events, model = case
    op = str(ObjectId())
    records = make_records(events, operation_id=op)

    # Incremental projection (snapshots of each change set) == rebuild.
    state = OperationState(op)
    accumulated: Changes = {}
    for record in records:
        accumulated.update(copy.deepcopy(apply(state, record)))
    final_state, documents = fold(op, records)
    assert accumulated == documents
    assert state == final_state

    operation = documents[(OPERATIONS, op)]
    trades = docs(documents, TRADES)
    positions = docs(documents, POSITIONS)
    transactions = docs(documents, TRANSACTIONS)

    # P/L adds up.
    assert math.isclose(
        sum(t["pnl"] for t in trades.values()), operation["total_pnl"], rel_tol=1e-9, abs_tol=1e-6
    )
    assert operation["current_capital"] == operation["initial_capital"] + operation["total_pnl"]
    assert operation["trade_count"] == len(trades) == model["n_exits"]
    by_position: dict[str, list[float]] = defaultdict(list)
    for trade in trades.values():
        by_position[trade["position_id"]].append(trade["pnl"])
        assert math.isclose(
            trade["pnl"], trade["gross_pnl"] - trade["total_commission"], rel_tol=1e-9, abs_tol=1e-9
        )
    for position_id, position in positions.items():
        assert math.isclose(
            position["realized_pnl"], sum(by_position[position_id]), rel_tol=1e-9, abs_tol=1e-6
        )

    # Commissions add up: every commission paid is in a trade or still
    # waiting, unallocated, on the open position.
    assert _close(operation["total_commission"], math.fsum(model["commissions"]))
    open_position = final_state.position
    unallocated = (
        open_position.entry_commission - open_position.allocated_commission
        if open_position
        else 0.0
    )
    assert _close(
        sum(t["total_commission"] for t in trades.values()) + unallocated,
        operation["total_commission"],
    )

    # Positions follow the model.
    assert sum(p["status"] == "CLOSED" for p in positions.values()) == model["n_closes"]
    open_docs = [p for p in positions.values() if p["status"] == "OPEN"]
    if model["open_cents"]:
        assert open_position is not None and len(open_docs) == 1
        assert math.isclose(open_position.open_quantity, model["open_cents"] / 100, rel_tol=1e-9)
        assert open_position.side.entry_side.value == model["side"]
        assert open_docs[0]["_id"] == open_position.entry_transaction_id
    else:
        assert open_position is None and open_docs == []
    for position in positions.values():
        if position["status"] == "CLOSED":
            assert position["quantity"] == 0.0 and position["closed_at"] is not None

    # Links.
    for trade_id, trade in trades.items():
        exit_tx = transactions[trade_id]
        assert exit_tx["transaction_role"] == "EXIT"
        assert exit_tx["related_entry_transaction_id"] == trade["entry_transaction_id"]
        assert trade["position_id"] == trade["entry_transaction_id"]
        assert transactions[trade["position_id"]]["transaction_role"] == "ENTRY"
        assert exit_tx["profit"] == trade["pnl"]
    for tx in transactions.values():
        assert tx["position_id"] in positions

    # Orders end in the status the model expects.
    orders = {o["client_order_id"]: o for o in docs(documents, ORDERS).values()}
    assert {c: o["status"] for c, o in orders.items()} == model["order_status"]
