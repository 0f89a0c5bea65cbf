"""The paper broker's batch calls (``submit_orders``, ``cancel_orders``):
each answer is what the single call would give, the whole call is one store
commit, and a call whose commit fails did nothing."""

from __future__ import annotations

import pytest

from live_trading.brokers.paper import InMemoryPaperStore, PaperBroker, PaperChanges
from live_trading.domain.orders import CancelOutcome, OrderCancelled, OrderStatus
from live_trading.domain.values import Side
from live_trading.engine.ports import BatchBroker

from .test_paper_broker import ACC, Recorder, bar, limit, order, stop


class CountingStore(InMemoryPaperStore):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0
        self.down = False

    async def commit(self, changes: PaperChanges) -> None:
        if self.down:
            raise ConnectionError("store down")
        self.commits += 1
        await super().commit(changes)


async def _broker() -> tuple[PaperBroker, CountingStore, Recorder]:
    store = CountingStore()
    broker = PaperBroker(store=store)
    recorder = Recorder()
    broker.set_listener(recorder)
    await broker.connect()
    return broker, store, recorder


def _bracket(cid: str) -> list:
    oco = f"OCO-{cid}"
    return [
        order(cid),
        stop(f"{cid}-SL", Side.SELL, 1.30, parent_client_order_id=cid, oco_group=oco),
        limit(f"{cid}-TP", Side.SELL, 1.40, parent_client_order_id=cid, oco_group=oco),
    ]


async def test_a_bracket_and_an_exit_are_accepted_in_one_commit() -> None:
    broker, store, _ = await _broker()
    assert isinstance(broker, BatchBroker)
    acks = await broker.submit_orders([order("X", Side.SELL), *_bracket("E")])
    assert [a.accepted for a in acks] == [True] * 4
    assert store.commits == 1
    children = [broker.state.orders[c] for c in ("E-SL", "E-TP")]
    assert [c.active for c in children] == [False, False], "children wait for their parent"
    fresh = PaperBroker(store=store)
    await fresh.connect()
    assert [r.client_order_id for r in await fresh.open_orders(ACC)] == ["X", "E", "E-SL", "E-TP"]


async def test_each_request_is_judged_as_alone_and_refusals_do_not_stop_the_rest() -> None:
    broker, _, _ = await _broker()
    await broker.submit_order(order("A"))
    acks = await broker.submit_orders(
        [order("A"), order("B", qty=0.0), limit("C-TP", Side.SELL, 1.4, parent_client_order_id="N")]
        + [order("D")]
    )
    assert [a.accepted for a in acks] == [False, False, False, True]
    assert "duplicate" in acks[0].reason and "unknown parent" in acks[2].reason


async def test_cancels_of_a_bracket_are_one_commit_and_reported_after_it() -> None:
    broker, store, recorder = await _broker()
    await broker.submit_orders(_bracket("E"))
    await broker.on_bar(ACC, "USD-CAD", bar(0, 1.35, 1.36, 1.34, 1.35))
    await broker.on_bar(ACC, "USD-CAD", bar(1, 1.35, 1.36, 1.34, 1.35))  # entry filled
    before = store.commits
    acks = await broker.cancel_orders(["E-SL", "E-TP", "E", "nope"])
    assert [a.outcome for a in acks] == [
        CancelOutcome.REQUESTED,
        CancelOutcome.REQUESTED,
        CancelOutcome.ALREADY_DONE,
        CancelOutcome.NOT_FOUND,
    ]
    assert store.commits == before + 1
    cancelled = [r.client_order_id for r in recorder.reports if isinstance(r, OrderCancelled)]
    assert cancelled == ["E-SL", "E-TP"]
    assert await broker.open_orders(ACC) == []


async def test_a_child_ended_by_its_parents_cancel_in_the_same_call_is_already_done() -> None:
    broker, _, recorder = await _broker()
    await broker.submit_orders(_bracket("E"))
    acks = await broker.cancel_orders(["E", "E-SL", "E-TP"])
    assert [a.outcome for a in acks] == [CancelOutcome.REQUESTED] + [CancelOutcome.ALREADY_DONE] * 2
    reasons = {r.client_order_id: r.reason for r in recorder.reports}
    assert reasons == {
        "E": "cancelled by request",
        "E-SL": "parent cancelled",
        "E-TP": "parent cancelled",
    }


async def test_a_failed_commit_does_nothing() -> None:
    broker, store, recorder = await _broker()
    await broker.submit_orders(_bracket("E"))
    store.down = True
    with pytest.raises(ConnectionError):
        await broker.cancel_orders(["E", "E-SL"])
    with pytest.raises(ConnectionError):
        await broker.submit_orders([order("F"), order("G")])
    assert recorder.reports == []
    assert {cid: o.status for cid, o in broker.state.orders.items()} == {
        "E": OrderStatus.SUBMITTED,
        "E-SL": OrderStatus.SUBMITTED,
        "E-TP": OrderStatus.SUBMITTED,
    }


async def test_orders_of_several_accounts_are_taken_one_by_one() -> None:
    broker, store, _ = await _broker()
    acks = await broker.submit_orders([order("A"), order("B", account="op-2")])
    assert [a.accepted for a in acks] == [True, True] and store.commits == 2
    acks = await broker.cancel_orders(["A", "B"])
    assert [a.outcome for a in acks] == [CancelOutcome.REQUESTED] * 2 and store.commits == 4
