"""COMMISSION_REPORTED: a commission reported after its fill sets the fill's
commission and corrects the order, transaction, trade and operation P/L.

Every expected amount is recomputed here from prices, quantities and
commissions, independently of the fold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from live_trading.domain import events as ev
from live_trading.domain.projection import (
    ORDERS,
    POSITIONS,
    TRADES,
    TRANSACTIONS,
    ProjectionError,
    apply,
    fold,
)
from live_trading.domain.snapshot import state_from_snapshot, state_to_snapshot
from live_trading.domain.state import RECENT_FILLS
from live_trading.tradelog.fold import TradeLogState, latest_lines
from live_trading.tradelog.fold import apply as trade_log_apply

from .test_projection import BUY, SELL, T0, approx, created, fill, make_records, submit

OP = "665f1f77bcf86cd799439011"


def commission(execution_id: str, coid: str, amount: float) -> ev.CommissionReported:
    return ev.CommissionReported(execution_id, coid, amount, T0 + timedelta(hours=5))


def _round_trip(entry_commission: float = 0.0) -> list[ev.Event]:
    """Long 10 000 at 1.3500, sold at 1.3600, both fills reported with the
    commission ``entry_commission`` / 0.0 first."""
    return [
        created(),
        submit("E", BUY, 10_000),
        fill("E", BUY, 10_000, 1.35, entry_commission, minute=1, execution_id="X-E"),
        submit("S", SELL, 10_000, role="EXIT"),
        fill("S", SELL, 10_000, 1.36, 0.0, minute=2, execution_id="X-S"),
    ]


def _docs(events: list[ev.Event]) -> tuple[Any, dict]:
    state, documents = fold(OP, make_records(events, operation_id=OP))
    by_collection: dict[str, list[dict]] = {}
    for (collection, _), doc in documents.items():
        by_collection.setdefault(collection, []).append(doc)
    return state, by_collection


def test_commissions_reported_after_the_fills_are_charged_to_the_trade() -> None:
    events = [*_round_trip(), commission("X-E", "E", 2.5), commission("X-S", "S", 3.0)]
    state, docs = _docs(events)
    gross = (1.36 - 1.35) * 10_000
    [trade] = docs[TRADES]
    assert trade["total_commission"] == approx(5.5)
    assert trade["pnl"] == approx(gross - 5.5)
    assert trade["pnl_pct"] == approx((gross - 5.5) / (1.35 * 10_000))
    operation = state.operation
    assert operation["total_commission"] == approx(5.5)
    assert operation["total_pnl"] == approx(gross - 5.5)
    assert operation["current_capital"] == approx(100_000 + gross - 5.5)
    assert state.pnl_today == approx(gross - 5.5)
    orders = {o["client_order_id"]: o for o in docs[ORDERS]}
    assert (orders["E"]["commission"], orders["S"]["commission"]) == (2.5, 3.0)
    txs = {t["execution_id"]: t for t in docs[TRANSACTIONS]}
    assert (txs["X-E"]["commission"], txs["X-S"]["commission"]) == (2.5, 3.0)
    assert txs["X-S"]["profit"] == approx(gross - 5.5)
    [position] = docs[POSITIONS]
    assert position["realized_pnl"] == approx(gross - 5.5)


def test_the_same_report_twice_changes_nothing_and_a_new_amount_replaces() -> None:
    once = _docs([*_round_trip(), commission("X-S", "S", 3.0)])[0]
    twice = _docs([*_round_trip(), commission("X-S", "S", 3.0), commission("X-S", "S", 3.0)])[0]
    assert twice.operation["total_pnl"] == approx(once.operation["total_pnl"])
    assert twice.operation["total_commission"] == approx(3.0)
    corrected = _docs([*_round_trip(), commission("X-S", "S", 3.0), commission("X-S", "S", 1.0)])[0]
    assert corrected.operation["total_commission"] == approx(1.0)
    assert corrected.operation["total_pnl"] == approx((1.36 - 1.35) * 10_000 - 1.0)


def test_an_entry_commission_before_the_exit_is_charged_when_it_closes() -> None:
    events = [
        created(),
        submit("E", BUY, 10_000),
        fill("E", BUY, 10_000, 1.35, 0.0, minute=1, execution_id="X-E"),
        commission("X-E", "E", 2.0),
        submit("S", SELL, 10_000, role="EXIT"),
        fill("S", SELL, 10_000, 1.36, 1.0, minute=2, execution_id="X-S"),
    ]
    _, docs = _docs(events)
    [trade] = docs[TRADES]
    assert trade["total_commission"] == approx(3.0)
    assert trade["pnl"] == approx(100.0 - 3.0)


def test_a_reversal_fill_splits_its_late_commission_pro_rata() -> None:
    events = [
        created(),
        submit("E", BUY, 10_000),
        fill("E", BUY, 10_000, 1.35, 0.0, minute=1, execution_id="X-E"),
        submit("R", SELL, 30_000),
        fill("R", SELL, 30_000, 1.34, 0.0, minute=2, execution_id="X-R"),
        commission("X-R", "R", 6.0),
    ]
    state, docs = _docs(events)
    [trade] = docs[TRADES]
    assert trade["total_commission"] == approx(2.0)  # a third of the fill closes
    assert trade["pnl"] == approx((1.34 - 1.35) * 10_000 - 2.0)
    assert state.position.entry_commission == approx(4.0)  # the rest opened the short
    assert state.operation["total_commission"] == approx(6.0)


def test_a_commission_for_a_fill_the_journal_lacks_cannot_be_folded() -> None:
    records = make_records([created(), commission("NOPE", "E", 1.0)], operation_id=OP)
    state = fold(OP, records[:1])[0]
    with pytest.raises(ProjectionError):
        apply(state, records[1])


def test_snapshot_keeps_what_late_commissions_need() -> None:
    events = _round_trip()
    records = make_records([*events, commission("X-S", "S", 3.0)], operation_id=OP)
    state = fold(OP, records[:-1])[0]
    restored = state_from_snapshot(state_to_snapshot(state))
    assert restored == state
    assert apply(restored, records[-1]) == apply(state, records[-1])


def test_only_the_last_fills_are_kept() -> None:
    events: list[ev.Event] = [created()]
    for i in range(RECENT_FILLS + 5):
        side = BUY if i % 2 == 0 else SELL
        events += [
            submit(f"O{i}", side, 1.0),
            fill(f"O{i}", side, 1.0, 1.3, 0.0, minute=i, execution_id=f"X{i}"),
        ]
    state = _docs(events)[0]
    assert len(state.fills) == RECENT_FILLS
    assert "X0" not in state.fills
    assert len(state.recent_docs) <= 3 * RECENT_FILLS
    total = state.operation["total_pnl"]
    after = _docs([*events, commission("X0", "O0", 9.0)])[0]
    assert after.operation["total_pnl"] == total  # too old: folds to nothing


def test_trade_log_emits_the_exit_again_with_the_corrected_pnl() -> None:
    state = TradeLogState(OP)
    lines = []
    for record in make_records([*_round_trip(), commission("X-S", "S", 3.0)], operation_id=OP):
        lines += [event.line for event in trade_log_apply(state, record)]
    exits = [line for line in lines if line["type"] == "exit"]
    assert len(exits) == 2
    assert exits[1]["pnl"] == approx((1.36 - 1.35) * 10_000 - 3.0)
    [final] = [line for line in latest_lines(lines) if line["type"] == "exit"]
    assert final["pnl"] == exits[1]["pnl"]


def test_an_entry_commission_after_the_close_goes_to_the_last_trade() -> None:
    events = [*_round_trip(), commission("X-E", "E", 4.0)]
    state, docs = _docs(events)
    [trade] = docs[TRADES]
    assert trade["pnl"] == approx(100.0 - 4.0)
    assert state.operation["total_pnl"] == approx(100.0 - 4.0)
    [position] = docs[POSITIONS]
    assert position["realized_pnl"] == approx(100.0 - 4.0)
