"""The trade log fold, its chart view and its snapshot, on hand-made journals.

Expected prices, points and P/L are written out or recomputed here from the
fills (never read back from the projection).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from live_trading.domain import events as ev
from live_trading.domain.events import event_data
from live_trading.domain.projection import JournalRecord
from live_trading.tradelog import (
    TradeLogState,
    apply,
    build_trades,
    directory_name,
    open_trade_view,
    parse_interval,
    parse_symbol,
    trade_events,
)
from live_trading.tradelog.fold import line_key
from live_trading.tradelog.snapshot import render_snapshot

SPEC: dict[str, Any] = {
    "asset": "USD-CAD",
    "bar_sizes": ["1 hour"],
    "primary_bar_size": "1 hour",
    "strategy_name": "MomentumStrategy",
    "strategy_config": {"fast_period": 10, "slow_period": 30},
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
T0 = datetime(2025, 1, 15, 4, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
QTY = 10_000.0
FEE_BPS = 0.2


def fee(price: float, quantity: float = QTY) -> float:
    return price * quantity * FEE_BPS / 1e4


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def bar(i: int, close: float) -> dict[str, Any]:
    return {
        "time": T0 + i * HOUR,
        "open": close - 0.0002,
        "high": close + 0.0005,
        "low": close - 0.0006,
        "close": close,
        "volume": 0.0,
    }


class Journal:
    """Builds one operation's journal records and folds them as they come."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.operation_id = str(ObjectId())
        self.state = TradeLogState(self.operation_id)
        self.records: list[JournalRecord] = []
        self.events: list = []
        self.orders = 0
        self.add(ev.OperationCreated(spec or SPEC))

    def add(self, event: ev.Event, *, at: datetime | None = None, source: str = "engine") -> list:
        seq = len(self.records) + 1
        record = JournalRecord(
            entry_id=str(ObjectId()),
            operation_id=self.operation_id,
            sequence_number=seq,
            action_type=event.ACTION_TYPE,
            action_data=event_data(event),
            timestamp=at or (T0 + timedelta(days=400, seconds=seq)),
            source=source,
            event_id=str(uuid.uuid4()),
        )
        self.records.append(record)
        produced = apply(self.state, record)
        self.events.extend(produced)
        return produced

    def signal(self, target: str | None, reason: str, at_bar: int, close: float) -> None:
        recent = [
            bar(i, close - 0.0001 * (at_bar - i)) for i in range(max(0, at_bar - 4), at_bar + 1)
        ]
        self.add(
            ev.SignalGenerated(
                "1 hour",
                recent[-1],
                target,
                reason,
                {"atr": 0.0012, "sma_fast": close},
                "open",
                recent,
            )
        )

    def bracket(self, side: str, stop: float, target: float) -> tuple[str, str, str]:
        entry, sl, tp = (self.cid() for _ in range(3))
        exit_side = "SELL" if side == "BUY" else "BUY"
        self.add(
            ev.OrderSubmitted(
                entry, "ENTRY", side, "MARKET", QTY, stop_loss=stop, take_profit=target
            )
        )
        self.add(
            ev.OrderSubmitted(
                sl,
                "STOP_LOSS",
                exit_side,
                "STOP",
                QTY,
                stop_price=stop,
                parent_client_order_id=entry,
                oco_group=f"OCO-{entry}",
            )
        )
        self.add(
            ev.OrderSubmitted(
                tp,
                "TAKE_PROFIT",
                exit_side,
                "LIMIT",
                QTY,
                limit_price=target,
                parent_client_order_id=entry,
                oco_group=f"OCO-{entry}",
            )
        )
        return entry, sl, tp

    def cid(self) -> str:
        self.orders += 1
        return f"LT-{self.operation_id}-{self.orders}"

    def fill(self, cid: str, side: str, price: float, at: datetime, quantity: float = QTY) -> list:
        return self.add(
            ev.OrderFilled(
                f"X{uuid.uuid4().hex[:8]}",
                cid,
                f"B-{cid}",
                side,
                quantity,
                price,
                fee(price, quantity),
                at,
            )
        )

    def exit_order(self, side: str, reason: str, source: str = "engine") -> str:
        cid = self.cid()
        self.add(ev.OrderSubmitted(cid, "EXIT", side, "MARKET", QTY, reason=reason), source=source)
        return cid

    def lines(self) -> list[dict[str, Any]]:
        return [e.line for e in self.events]


def only(events: list) -> dict[str, Any]:
    assert len(events) == 1, events
    return events[0].line


# --------------------------------------------------------------------------- entries, exits


def test_long_entry_records_the_fill_levels_and_signal() -> None:
    j = Journal()
    j.signal("LONG", "SMA(10) crossed above SMA(30)", at_bar=5, close=1.4350)
    entry, _, _ = j.bracket("BUY", 1.4320, 1.4410)
    fill_at = T0 + 6 * HOUR
    line = only(j.fill(entry, "BUY", 1.43507, fill_at))
    fill_record = j.records[-1]
    assert line == {
        "type": "entry",
        "time": iso(fill_at),
        "tradeId": fill_record.entry_id,
        "operationId": j.operation_id,
        "sequence": fill_record.sequence_number,
        "side": "LONG",
        "price": 1.43507,
        "quantity": QTY,
        "initialStopPrice": 1.4320,
        "targetPrice": 1.4410,
        "snapshotFile": f"entry_20250115T100000Z_{fill_record.entry_id}.md",
        "context": "SMA(10) crossed above SMA(30)",
    }
    assert j.events[0].directory == "trades_USDCAD_1h"
    assert open_trade_view(j.state) == {
        "tradeId": fill_record.entry_id,
        "operationId": j.operation_id,
        "entryTime": iso(fill_at),
        "entryPrice": 1.43507,
        "currentStopPrice": 1.4320,
        "initialStopPrice": 1.4320,
        "side": "LONG",
        "targetPrice": 1.4410,
        "quantity": QTY,
    }


def test_stop_move_then_stop_exit_of_a_long() -> None:
    j = Journal()
    j.signal("LONG", "up", at_bar=5, close=1.4350)
    entry, old_sl, _ = j.bracket("BUY", 1.4320, 1.4410)
    j.fill(entry, "BUY", 1.4351, T0 + 6 * HOUR)
    trade_id = j.records[-1].entry_id
    moved_at = T0 + timedelta(days=400, hours=1)
    new_sl = j.cid()
    line = only(
        j.add(
            ev.OrderSubmitted(
                new_sl,
                "STOP_LOSS",
                "SELL",
                "STOP",
                QTY,
                stop_price=1.4340,
                parent_client_order_id=entry,
            ),
            at=moved_at,
        )
    )
    assert line == {
        "type": "stop_move",
        "time": iso(moved_at),
        "tradeId": trade_id,
        "operationId": j.operation_id,
        "sequence": j.records[-1].sequence_number,
        "side": "LONG",
        "price": 1.4340,
    }
    assert open_trade_view(j.state)["currentStopPrice"] == 1.4340
    assert open_trade_view(j.state)["initialStopPrice"] == 1.4320
    # the same stop again is no move
    assert (
        j.add(
            ev.OrderSubmitted(
                j.cid(),
                "STOP_LOSS",
                "SELL",
                "STOP",
                QTY,
                stop_price=1.4340,
                parent_client_order_id=entry,
            )
        )
        == []
    )
    j.add(ev.OrderCancelled(old_sl, "replaced"))
    out = only(j.fill(new_sl, "SELL", 1.4340, T0 + 9 * HOUR))
    expected_pnl = (1.4340 - 1.4351) * QTY - fee(1.4351) - fee(1.4340)
    assert out["type"] == "exit" and out["tradeId"] == trade_id
    assert out["closeReason"] == "stop" and out["closePrice"] == 1.4340
    assert out["time"] == iso(T0 + 9 * HOUR)
    assert out["points"] == pytest.approx(1.4340 - 1.4351, abs=1e-12)
    assert out["pnl"] == pytest.approx(expected_pnl, abs=1e-9)
    assert out["remainingQuantity"] == 0.0
    assert open_trade_view(j.state) is None


def test_short_take_profit_exit() -> None:
    j = Journal()
    j.signal("SHORT", "SMA(10) crossed below SMA(30)", at_bar=3, close=1.4500)
    entry, _, tp = j.bracket("SELL", 1.4530, 1.4440)
    j.fill(entry, "SELL", 1.4499, T0 + 4 * HOUR)
    out = only(j.fill(tp, "BUY", 1.4440, T0 + 8 * HOUR))
    assert out["side"] == "SHORT" and out["closeReason"] == "take_profit"
    assert out["points"] == pytest.approx(1.4499 - 1.4440, abs=1e-12)
    assert out["pnl"] == pytest.approx(
        (1.4499 - 1.4440) * QTY - fee(1.4499) - fee(1.4440), abs=1e-9
    )


def test_manual_and_recovery_closes() -> None:
    j = Journal()
    j.signal("LONG", "up", at_bar=2, close=1.44)
    entry, _, _ = j.bracket("BUY", 1.43, 1.46)
    j.fill(entry, "BUY", 1.44, T0 + 3 * HOUR)
    manual = j.exit_order("SELL", "closed by hand", source="api/manual")
    assert only(j.fill(manual, "SELL", 1.445, T0 + 5 * HOUR))["closeReason"] == "manual"
    j.signal("SHORT", "down", at_bar=6, close=1.445)
    entry, _, _ = j.bracket("SELL", 1.455, 1.425)
    j.fill(entry, "SELL", 1.445, T0 + 7 * HOUR)
    recovery = j.exit_order("BUY", "crash recovery: CLOSE_ALL", source="recovery")
    out = only(j.fill(recovery, "BUY", 1.447, T0 + 8 * HOUR))
    assert out["closeReason"] == "recovery"
    assert out["points"] == pytest.approx(1.445 - 1.447, abs=1e-12)


def test_signal_reversal_exits_then_enters_with_the_new_context() -> None:
    j = Journal()
    j.signal("LONG", "first up", at_bar=2, close=1.44)
    entry, _, _ = j.bracket("BUY", 1.43, 1.46)
    j.fill(entry, "BUY", 1.44, T0 + 3 * HOUR)
    first_trade = j.records[-1].entry_id
    j.signal("SHORT", "then down", at_bar=9, close=1.442)
    exit_cid = j.exit_order("SELL", "signal: then down")
    new_entry, _, _ = j.bracket("SELL", 1.452, 1.422)
    assert j.state.open_trade.trade_id == first_trade  # the new bracket's SL is no stop move
    assert only(j.fill(exit_cid, "SELL", 1.4421, T0 + 10 * HOUR))["closeReason"] == "signal"
    line = only(j.fill(new_entry, "SELL", 1.4420, T0 + 10 * HOUR))
    assert line["type"] == "entry" and line["side"] == "SHORT"
    assert line["context"] == "then down" and line["tradeId"] != first_trade
    assert line["initialStopPrice"] == 1.452 and line["targetPrice"] == 1.422


def test_one_fill_reversing_a_position_gives_exit_then_entry() -> None:
    j = Journal()
    j.signal("LONG", "up", at_bar=2, close=1.44)
    entry, _, _ = j.bracket("BUY", 1.43, 1.46)
    j.fill(entry, "BUY", 1.44, T0 + 3 * HOUR)
    big = j.cid()
    j.add(ev.OrderSubmitted(big, "EXIT", "SELL", "MARKET", 2 * QTY, reason="flip"))
    out = j.fill(big, "SELL", 1.45, T0 + 4 * HOUR, quantity=2 * QTY)
    assert [e.line["type"] for e in out] == ["exit", "entry"]
    assert line_key(out[0].line) < line_key(out[1].line)
    assert out[0].line["pnl"] == pytest.approx(
        (1.45 - 1.44) * QTY - fee(1.44) - fee(1.45, 2 * QTY) / 2, abs=1e-9
    )
    assert out[1].line["side"] == "SHORT" and out[1].line["quantity"] == QTY


def test_partial_exits_close_the_trade_once() -> None:
    j = Journal()
    j.signal("LONG", "up", at_bar=2, close=1.44)
    entry, _, _ = j.bracket("BUY", 1.43, 1.46)
    j.fill(entry, "BUY", 1.44, T0 + 3 * HOUR)
    cid = j.exit_order("SELL", "closed by hand")
    first = only(j.fill(cid, "SELL", 1.45, T0 + 4 * HOUR, quantity=4000.0))
    second = only(j.fill(cid, "SELL", 1.46, T0 + 5 * HOUR, quantity=6000.0))
    assert first["remainingQuantity"] == pytest.approx(6000.0)
    assert second["remainingQuantity"] == 0.0
    [trade] = build_trades(j.lines())
    assert trade["closePrice"] == pytest.approx((1.45 * 4000 + 1.46 * 6000) / QTY, abs=1e-12)
    gross = (1.45 - 1.44) * 4000 + (1.46 - 1.44) * 6000
    assert trade["pnl"] == pytest.approx(
        gross - fee(1.44) - fee(1.45, 4000) - fee(1.46, 6000), abs=1e-9
    )
    assert trade["closeDateTime"] == iso(T0 + 5 * HOUR)


def test_trade_events_for_the_live_feed() -> None:
    j = Journal()
    j.signal("LONG", "up", at_bar=2, close=1.44)
    entry, _, _ = j.bracket("BUY", 1.43, 1.46)
    fill = ev.OrderFilled("E1", entry, "B1", "BUY", QTY, 1.44, fee(1.44), T0 + 3 * HOUR)
    record = JournalRecord(
        str(ObjectId()),
        j.operation_id,
        len(j.records) + 1,
        fill.ACTION_TYPE,
        event_data(fill),
        T0,
        "engine",
        str(uuid.uuid4()),
    )
    [event] = trade_events(j.state, record)
    assert event["type"] == "entry" and event["symbol"] == "USDCAD"
    assert event["interval"] == "1h" and event["tradeId"] == record.entry_id


# --------------------------------------------------------------------------- chart view


def test_view_markers_and_stop_segments() -> None:
    j = Journal()
    j.signal("SHORT", "down", at_bar=2, close=1.45)
    entry, _, _ = j.bracket("SELL", 1.46, 1.43)
    opened = T0 + 3 * HOUR
    j.fill(entry, "SELL", 1.45, opened)
    moved = T0 + 5 * HOUR
    sl = j.cid()
    j.add(
        ev.OrderSubmitted(
            sl, "STOP_LOSS", "BUY", "STOP", QTY, stop_price=1.455, parent_client_order_id=entry
        ),
        at=moved,
    )
    closed = T0 + 7 * HOUR
    j.fill(sl, "BUY", 1.455, closed)
    j.signal("LONG", "up", at_bar=8, close=1.44)
    entry2, _, _ = j.bracket("BUY", 1.43, 1.46)
    opened2 = T0 + 9 * HOUR
    j.fill(entry2, "BUY", 1.44, opened2)
    first, second = build_trades(j.lines())

    def ts(moment: datetime) -> int:
        return int(moment.timestamp())

    assert first["markers"][0] == {
        "time": ts(opened),
        "position": "aboveBar",
        "shape": "arrowDown",
        "color": "#ef5350",
        "text": "SHORT @ 1.45",
    }
    assert first["markers"][1]["time"] == ts(closed)
    assert first["markers"][1]["color"] == "#ef5350"  # a loss
    assert first["stopSegments"] == [
        {"startTime": ts(opened), "endTime": ts(moved), "price": 1.46},
        {"startTime": ts(moved), "endTime": ts(closed), "price": 1.455},
    ]
    assert first["points"] == pytest.approx(1.45 - 1.455, abs=1e-12)
    assert second["closeDateTime"] is None and second["pnl"] is None
    assert second["stopSegments"] == [{"startTime": ts(opened2), "endTime": None, "price": 1.43}]
    assert [t["tradeId"] for t in build_trades(j.lines(), since=opened2)] == [second["tradeId"]]
    assert build_trades(j.lines(), since=opened2 + timedelta(seconds=1)) == []


# --------------------------------------------------------------------------- snapshot


def test_snapshot_holds_bars_indicators_levels_signal_and_operation() -> None:
    j = Journal()
    j.signal("LONG", "SMA(10) crossed above SMA(30)", at_bar=5, close=1.4350)
    entry, _, _ = j.bracket("BUY", 1.4320, 1.4410)
    [event] = j.fill(entry, "BUY", 1.43507, T0 + 6 * HOUR)
    text = render_snapshot(event.line, event.snapshot)
    assert "SMA(10) crossed above SMA(30)" in text and "MomentumStrategy" in text
    assert "| slow_period | 30 |" in text and "| atr | 0.0012 |" in text
    for i in range(1, 6):  # the five recent bars, the signal bar marked
        row = bar(i, 1.4350 - 0.0001 * (5 - i))
        assert (
            f"| {iso(row['time'])} | {row['open']:.10g} | {row['high']:.10g} | "
            f"{row['low']:.10g} | {row['close']:.10g} |" in text
        )
    assert f"| {iso(T0 + 5 * HOUR)} | 1.4348 | 1.4355 | 1.4344 | 1.435 | 0 | signal |" in text
    assert f"| stop-loss | 1.432 | {1.4320 - 1.43507:.10g} |" in text
    assert render_snapshot(event.line, event.snapshot) == text  # deterministic


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("text", ["USD-CAD", "usd-cad", " USD/CAD ", "USD_CAD", "usdcad"])
def test_symbols(text: str) -> None:
    assert parse_symbol(text).name == "USD-CAD"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1h", "1h"),
        ("1 hour", "1h"),
        ("1hour", "1h"),
        ("60", "1h"),
        ("5 mins", "5m"),
        ("5min", "5m"),
        ("1d", "1d"),
        ("1440", "1d"),
        ("4 HOURS", "4h"),
    ],
)
def test_intervals(text: str, code: str) -> None:
    assert parse_interval(text).code == code


@pytest.mark.parametrize("text", ["2h", "hour", "", "61"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


@pytest.mark.parametrize("text", ["USD", "US-CAD-X", "", "EURUSDX"])
def test_bad_symbols(text: str) -> None:
    with pytest.raises(ValueError, match="symbol"):
        parse_symbol(text)


def test_directory_name() -> None:
    assert directory_name("EUR-USD", "5 mins") == "trades_EURUSD_5m"
    assert directory_name("usd-cad", "1h") == "trades_USDCAD_1h"
