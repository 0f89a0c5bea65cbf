"""Group commit of the paper broker's store: concurrent commits of several
accounts share one transaction; a merged batch that fails is committed one
by one, so one caller's failure fails only that caller; every caller returns
only once its changes are committed."""

from __future__ import annotations

import asyncio

import pytest

from live_trading.brokers.paper import GroupCommitPaperStore, InMemoryPaperStore, PaperBroker
from live_trading.brokers.paper.book import PaperChanges

from .test_paper_broker import order


class _Inner(InMemoryPaperStore):
    """Counts transactions; refuses any batch holding a poisoned order."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[set[str]] = []
        self.poison: set[str] = set()

    async def commit(self, changes: PaperChanges) -> None:
        await asyncio.sleep(0.01)  # a transaction takes a while: others queue
        if self.poison & set(changes.orders):
            raise ConnectionError("refused")
        self.batches.append(set(changes.orders))
        await super().commit(changes)


async def test_commits_of_many_accounts_waiting_together_share_one_transaction() -> None:
    inner = _Inner()
    broker = PaperBroker(store=GroupCommitPaperStore(inner))
    await broker.connect()
    acks = await asyncio.gather(
        *(broker.submit_order(order(f"O{i}", account=f"op-{i}")) for i in range(50))
    )
    assert all(a.accepted for a in acks)
    assert len(inner.batches) <= 2, "50 waiting commits, one or two transactions"
    assert set().union(*inner.batches) == {f"O{i}" for i in range(50)}
    fresh = PaperBroker(store=inner)
    await fresh.connect()
    assert len(fresh.state.orders) == 50, "every acknowledged order is in the store"


async def test_a_failed_group_fails_only_the_caller_whose_changes_were_refused() -> None:
    inner = _Inner()
    inner.poison = {"O3"}
    broker = PaperBroker(store=GroupCommitPaperStore(inner))
    await broker.connect()
    results = await asyncio.gather(
        *(broker.submit_order(order(f"O{i}", account=f"op-{i}")) for i in range(6)),
        return_exceptions=True,
    )
    assert isinstance(results[3], ConnectionError)
    assert [getattr(r, "accepted", None) for i, r in enumerate(results) if i != 3] == [True] * 5
    assert "O3" not in broker.state.orders and len(broker.state.orders) == 5
    assert set().union(*inner.batches) == {f"O{i}" for i in range(6)} - {"O3"}


async def test_a_lone_commit_is_committed_at_once() -> None:
    inner = _Inner()
    store = GroupCommitPaperStore(inner)
    await store.commit(PaperChanges())
    assert inner.batches == [set()] and store.transactions == 1


async def test_a_cancelled_caller_waits_for_its_transaction() -> None:
    inner = _Inner()
    store = GroupCommitPaperStore(inner)
    broker = PaperBroker(store=store)
    await broker.connect()
    task = asyncio.create_task(broker.submit_order(order("O1")))
    await asyncio.sleep(0.001)  # in the transaction
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert inner.batches == [{"O1"}], "the transaction ran to its end"
