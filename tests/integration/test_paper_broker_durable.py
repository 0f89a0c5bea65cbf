"""The paper broker's book in MongoDB survives a restart, atomically."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from live_trading.brokers.paper import MongoPaperStore, PaperBroker, PaperChanges
from live_trading.domain.orders import OrderStatus
from live_trading.domain.values import Side
from tests.conftest import unique_db
from tests.unit.test_paper_broker import ACC, ASSET, CFG, Recorder, bar, limit, order, stop

OTHER = "op-2"


class CrashAfterFirstWrites(MongoPaperStore):
    """Fails inside the transaction, after orders and executions were
    written: as if the process died mid-batch."""

    async def write_executions(self, changes: PaperChanges, session: AsyncClientSession) -> None:
        await super().write_executions(changes, session)
        raise RuntimeError("crash inside the transaction")


@pytest.fixture
async def client(mongo_url: str) -> AsyncIterator[AsyncMongoClient]:
    mongo = AsyncMongoClient(mongo_url, tz_aware=True)
    yield mongo
    await mongo.close()


async def start(
    client: AsyncMongoClient, db: str, store_type: type[MongoPaperStore] = MongoPaperStore
) -> tuple[PaperBroker, Recorder]:
    """A fresh broker process over database ``db``, connected."""
    broker = PaperBroker(CFG, store=store_type(client, db))
    rec = Recorder()
    broker.set_listener(rec)
    await broker.connect()
    return broker, rec


async def accepted(broker: PaperBroker, request) -> str:
    ack = await broker.submit_order(request)
    assert ack.accepted, ack.reason
    return ack.broker_order_id


async def book(broker: PaperBroker, account: str = ACC) -> tuple:
    return (
        await broker.open_orders(account),
        await broker.executions(account),
        await broker.positions(account),
    )


async def test_book_survives_a_new_broker_instance(client: AsyncMongoClient) -> None:
    db = unique_db()
    first, _ = await start(client, db)
    await first.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4010, 1.3990, 1.4000))
    await accepted(first, order("m", Side.BUY, 1000))
    await accepted(first, order("x", Side.SELL, 400, account=OTHER))
    await first.on_bar(ACC, ASSET, bar(1, 1.3950, 1.3960, 1.3940, 1.3950))
    await accepted(first, limit("e", Side.BUY, 1.3800))
    await accepted(first, stop("sl", Side.SELL, 1.3700, parent_client_order_id="e", oco_group="g"))
    await accepted(first, limit("tp", Side.SELL, 1.4000, parent_client_order_id="e", oco_group="g"))

    second, rec = await start(client, db)
    assert second.state == first.state
    assert await book(second) == await book(first)
    assert await book(second, OTHER) == await book(first, OTHER)
    assert [o.client_order_id for o in await second.open_orders(ACC)] == ["e", "sl", "tp"]
    assert [second.state.orders[c].active for c in ("e", "sl", "tp")] == [True, False, False]
    (fill,) = await second.executions(ACC)
    assert fill.time == bar(1, 0, 0, 0, 0).time and fill.time.utcoffset() == timedelta(0)
    assert fill.time.tzinfo is not None and fill.time.astimezone(UTC) == fill.time
    assert await second.positions(ACC) == {ASSET: 1000}
    assert second.state.last_bars[(ACC, ASSET)] == bar(1, 1.3950, 1.3960, 1.3940, 1.3950)

    # Children stay inactive after the restart until their parent fills.
    await second.on_bar(ACC, ASSET, bar(2, 1.3900, 1.4100, 1.3810, 1.3900))
    assert rec.reports == []
    await second.on_bar(ACC, ASSET, bar(3, 1.3850, 1.3870, 1.3790, 1.3820))
    assert [f.client_order_id for f in rec.fills()] == ["e"]
    third, _ = await start(client, db)
    assert [third.state.orders[c].active for c in ("sl", "tp")] == [True, True]
    await third.on_bar(ACC, ASSET, bar(4, 1.3900, 1.4050, 1.3850, 1.4000))
    assert await third.positions(ACC) == {ASSET: 1000}
    assert [f.client_order_id for f in await third.executions(ACC)] == ["m", "e", "tp"]
    assert await third.open_orders(ACC) == []


async def test_replayed_bar_is_ignored_after_restart(client: AsyncMongoClient) -> None:
    db = unique_db()
    first, _ = await start(client, db)
    await accepted(first, order("m1"))
    await first.on_bar(ACC, ASSET, bar(5, 1.4000, 1.4100, 1.3900, 1.4050))

    second, rec = await start(client, db)
    await accepted(second, order("m2"))
    await second.on_bar(ACC, ASSET, bar(5, 1.4000, 1.4100, 1.3900, 1.4050))  # replayed
    await second.on_bar(ACC, ASSET, bar(4, 1.3000, 1.3100, 1.2900, 1.3050))  # older
    assert rec.reports == []
    assert [f.client_order_id for f in await second.executions(ACC)] == ["m1"]
    await second.on_bar(OTHER, ASSET, bar(0, 1.5, 1.5, 1.5, 1.5))  # other pair: own clock
    await second.on_bar(ACC, ASSET, bar(6, 1.4200, 1.4300, 1.4100, 1.4250))
    assert [f.client_order_id for f in rec.fills()] == ["m2"]
    assert rec.fills()[0].time == bar(6, 0, 0, 0, 0).time


async def test_failed_commit_leaves_nothing_and_reports_nothing(
    client: AsyncMongoClient,
) -> None:
    db = unique_db()
    good, _ = await start(client, db)
    await good.on_bar(ACC, ASSET, bar(0, 1.4000, 1.4010, 1.3990, 1.4000))
    await accepted(good, order("e"))
    await accepted(good, stop("sl", Side.SELL, 1.3900, parent_client_order_id="e", oco_group="g"))
    before = (await start(client, db))[0].state

    crashing, rec = await start(client, db, CrashAfterFirstWrites)
    with pytest.raises(RuntimeError, match="crash"):
        await crashing.on_bar(ACC, ASSET, bar(1, 1.4000, 1.4050, 1.3800, 1.4000))
    assert rec.reports == []
    assert crashing.state == before  # the in-memory book is untouched as well
    with pytest.raises(RuntimeError, match="crash"):
        await crashing.on_bar(ACC, ASSET, bar(1, 1.4000, 1.4050, 1.3800, 1.4000))
    with pytest.raises(RuntimeError, match="crash"):
        await crashing.submit_order(order("late"))

    after, rec2 = await start(client, db)
    assert after.state == before
    raw = client.get_database(db)
    assert await raw["executions"].count_documents({}) == 0
    assert await raw["orders"].count_documents({"status": OrderStatus.FILLED.value}) == 0
    assert await raw["orders"].count_documents({"client_order_id": "late"}) == 0
    # The bar was never applied, so showing it again applies it once.
    await after.on_bar(ACC, ASSET, bar(1, 1.4000, 1.4050, 1.3800, 1.4000))
    assert [f.client_order_id for f in rec2.fills()] == ["e", "sl"]


async def test_ids_stay_unique_across_restarts(client: AsyncMongoClient) -> None:
    db = unique_db()
    broker_ids, exec_ids = [], []
    for run in range(3):
        broker, rec = await start(client, db)
        for i in range(4):
            broker_ids.append(await accepted(broker, order(f"r{run}-{i}")))
        await broker.on_bar(ACC, ASSET, bar(run, 1.4, 1.41, 1.39, 1.4))
        exec_ids.extend(f.execution_id for f in rec.fills())
        dup = await broker.submit_order(order("r0-0"))
        assert not dup.accepted and "duplicate" in dup.reason
    assert len(set(broker_ids)) == 12 and len(set(exec_ids)) == 12
    final, _ = await start(client, db)
    assert [o.sequence for o in final.state.orders.values()] == list(range(12))
    assert [f.execution_id for f in await final.executions(ACC)] == exec_ids


async def test_executions_since(client: AsyncMongoClient) -> None:
    db = unique_db()
    first, _ = await start(client, db)
    for i in range(3):
        await accepted(first, order(f"m{i}"))
        await accepted(first, order(f"o{i}", account=OTHER))
        await first.on_bar(ACC, ASSET, bar(i, 1.4, 1.41, 1.39, 1.4))
        await first.on_bar(OTHER, ASSET, bar(i, 1.4, 1.41, 1.39, 1.4))
    second, _ = await start(client, db)
    fills = await second.executions(ACC)
    assert [f.client_order_id for f in fills] == ["m0", "m1", "m2"]
    assert await second.executions_since(ACC, None) == fills
    assert await second.executions_since(ACC, fills[0].execution_id) == fills[1:]
    assert await second.executions_since(ACC, fills[2].execution_id) == []
    assert await second.executions_since(ACC, "unknown") == fills
    other_first = (await second.executions(OTHER))[0].execution_id
    assert await second.executions_since(ACC, other_first) == fills  # not ACC's


async def test_collections_have_unique_indexes(client: AsyncMongoClient) -> None:
    db = unique_db()
    await start(client, db)
    raw = client.get_database(db)
    unique = {}
    for name in ("orders", "executions", "positions", "last_bars"):
        info = await raw[name].index_information()
        unique[name] = sorted(
            tuple(k for k, _ in i["key"]) for i in info.values() if i.get("unique")
        )
    assert unique == {
        "orders": [("broker_order_id",), ("client_order_id",), ("sequence",)],
        "executions": [("account", "index"), ("execution_id",)],
        "positions": [("account", "asset")],
        "last_bars": [("account", "asset")],
    }


class HeldCommits(MongoPaperStore):
    """Holds each commit of the accounts in ``held`` until ``release`` is set."""

    held: set[str] = set()
    release: asyncio.Event

    async def commit(self, changes: PaperChanges) -> None:
        accounts = {o.request.account for o in changes.orders.values()}
        if accounts & self.held:
            await self.release.wait()
        await super().commit(changes)


async def test_one_accounts_commit_does_not_hold_up_another(client: AsyncMongoClient) -> None:
    """Calls are serialised per account: while one operation's durable commit
    is pending, another operation's orders are accepted, filled and stored,
    and orders submitted concurrently still get distinct sequence numbers."""
    db = unique_db()
    HeldCommits.held, HeldCommits.release = {ACC}, asyncio.Event()
    broker, rec = await start(client, db, HeldCommits)
    held = asyncio.create_task(broker.submit_order(order("held")))
    await asyncio.sleep(0.05)
    assert not held.done()
    await asyncio.wait_for(accepted(broker, order("free", account=OTHER)), 10)
    await asyncio.wait_for(broker.on_bar(OTHER, ASSET, bar(0, 1.4, 1.41, 1.39, 1.4)), 10)
    assert [f.client_order_id for f in rec.fills()] == ["free"] and not held.done()
    HeldCommits.release.set()
    assert (await held).accepted
    again, _ = await start(client, db)
    assert sorted(o.sequence for o in again.state.orders.values()) == [0, 1]
    assert await again.positions(OTHER) == {ASSET: 1000.0}
    assert [o.client_order_id for o in await again.open_orders(ACC)] == ["held"]
