"""The trade log files and service: live writes equal a rebuild, byte for byte.

Real files in a temporary directory; the journal is an in-memory list of
hand-made records served through the two methods the service reads with.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from live_trading.domain import events as ev
from live_trading.domain.projection import JournalRecord
from live_trading.tradelog import TradeLogService
from live_trading.tradelog.files import TradeLogFiles
from tests.unit.test_trade_log import HOUR, T0, Journal


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


class MemoryJournal:
    """The journal reads the service makes, and its subscription."""

    def __init__(self) -> None:
        self.records: dict[str, list[JournalRecord]] = {}
        self.subscribers = []

    def subscribe(self, subscriber) -> None:
        self.subscribers.append(subscriber)

    def add(self, journal: Journal) -> None:
        self.records[journal.operation_id] = journal.records

    async def operation_ids(self) -> list[str]:
        return sorted(self.records)

    async def read(
        self, operation_id: str, after_sequence: int = 0, limit: int | None = None
    ) -> list[JournalRecord]:
        found = [
            r for r in self.records.get(operation_id, []) if r.sequence_number > after_sequence
        ]
        return found[:limit] if limit else found

    async def deliver(self, records: list[JournalRecord]) -> None:
        for subscriber in self.subscribers:
            await subscriber(records, {})


def service(root: Path, journal: MemoryJournal, mode: str = "trading") -> TradeLogService:
    settings = SimpleNamespace(mode=mode, trade_log_dir=root)
    return TradeLogService(settings, journal, journal)


def two_operations() -> tuple[Journal, Journal]:
    """Two operations on USD-CAD 1h whose trades interleave in time; B's
    first entry is earlier than A's last records."""
    a, b = Journal(), Journal()
    a.signal("LONG", "a up", at_bar=2, close=1.44)
    entry, sl, _ = a.bracket("BUY", 1.43, 1.46)
    a.fill(entry, "BUY", 1.44, T0 + 3 * HOUR)
    a.fill(sl, "SELL", 1.43, T0 + 9 * HOUR)
    a.signal("SHORT", "a down", at_bar=10, close=1.43)
    entry, _, _ = a.bracket("SELL", 1.44, 1.41)
    a.fill(entry, "SELL", 1.43, T0 + 11 * HOUR)
    b.signal("SHORT", "b down", at_bar=4, close=1.442)
    entry, _, tp = b.bracket("SELL", 1.45, 1.43)
    b.fill(entry, "SELL", 1.442, T0 + 5 * HOUR)
    b.add(
        ev.OrderSubmitted(
            b.cid(),
            "STOP_LOSS",
            "BUY",
            "STOP",
            10_000.0,
            stop_price=1.447,
            parent_client_order_id=entry,
        ),
        at=T0 + 6 * HOUR,
    )
    b.fill(tp, "BUY", 1.43, T0 + 12 * HOUR)
    return a, b


def test_files_written_in_any_order_equal_a_rebuild(tmp_path: Path) -> None:
    a, b = two_operations()
    live = TradeLogFiles(tmp_path / "live")
    for event in a.events + b.events:  # A first: B's lines must be merged in between
        live.write([event])
    live.write_current("trades_USDCAD_1h", [])
    rebuilt = TradeLogFiles(tmp_path / "rebuilt")
    rebuilt.replace_all(a.events + b.events, {})
    assert tree(tmp_path / "live") == tree(tmp_path / "rebuilt")
    lines = live.read_lines("trades_USDCAD_1h")
    assert len(lines) == len(a.events) + len(b.events) == 6
    times = [line["time"] for line in lines]
    assert times == sorted(times)
    assert [line["type"] for line in lines][:3] == ["entry", "entry", "stop_move"]
    snapshots = sorted(p.name for p in (tmp_path / "live" / "trades_USDCAD_1h").glob("*.md"))
    assert snapshots == sorted(line["snapshotFile"] for line in lines if line["type"] == "entry")


async def test_service_follows_the_journal_and_equals_a_rebuild(tmp_path: Path) -> None:
    a, b = two_operations()
    journal = MemoryJournal()
    journal.add(a)
    journal.records[a.operation_id] = a.records[:5]  # what was committed before start
    live = service(tmp_path / "live", journal)
    heard: list[dict] = []

    async def listener(events: list[dict]) -> None:
        heard.extend(events)

    live.listen(listener)
    await live.start()
    assert not (tmp_path / "live" / "trades_USDCAD_1h").exists()  # no entry yet
    journal.add(a)
    journal.add(b)
    await journal.deliver(a.records[5:8])
    await journal.deliver(a.records[6:7])  # a duplicate: ignored
    await journal.deliver(b.records[:2])
    await journal.deliver(a.records[-1:])  # after a gap: the rest is read first
    await journal.deliver(b.records[2:])
    rebuilt = service(tmp_path / "rebuilt", journal)
    await rebuilt.rebuild()
    assert tree(tmp_path / "live") == tree(tmp_path / "rebuilt")
    assert len(heard) == 6 and {e["symbol"] for e in heard} == {"USDCAD"}
    current = json.loads((tmp_path / "live" / "trades_USDCAD_1h" / "current.json").read_text())
    [open_trade] = current["trades"]
    assert open_trade["operationId"] == a.operation_id and open_trade["side"] == "SHORT"
    assert open_trade["entryPrice"] == 1.43 and open_trade["currentStopPrice"] == 1.44


async def test_start_repairs_lost_and_torn_writes(tmp_path: Path) -> None:
    a, b = two_operations()
    journal = MemoryJournal()
    journal.add(a)
    journal.add(b)
    first = service(tmp_path / "log", journal)
    await first.start()
    expected = tree(tmp_path / "log")
    index = tmp_path / "log" / "trades_USDCAD_1h" / "index.jsonl"
    text = index.read_text()
    index.write_text(text[: len(text) - 40])  # a crash mid-append
    next(iter((tmp_path / "log" / "trades_USDCAD_1h").glob("*.md"))).unlink()
    (tmp_path / "log" / "other.log").write_text("not ours")
    restarted = service(tmp_path / "log", journal)
    await restarted.start()
    assert {k: v for k, v in tree(tmp_path / "log").items() if k != "other.log"} == expected
    assert (tmp_path / "log" / "other.log").read_text() == "not ours"


async def test_simulation_mode_writes_nothing(tmp_path: Path) -> None:
    a, _ = two_operations()
    journal = MemoryJournal()
    journal.add(a)
    sim = service(tmp_path / "sim", journal, mode="simulation")
    await sim.start()
    assert await sim.rebuild() == {}
    assert not (tmp_path / "sim").exists()
    assert sim.states[a.operation_id].open_trade is not None
