"""Start-up recovery: replay, reconcile with the broker, apply recovery modes.

Run by ``live-trading recover`` and at the start of ``live-trading run``
before any runner starts. For every operation that is not closed:

1. load its state from the latest checkpoint and the journal after it, and
   bring its read models up to the last sequence number if they lag;
2. find what was in flight (orders PENDING or SUBMITTED);
3. reconcile with the broker (:func:`plan_reconciliation`): adopt missed
   fills once, adopt or cancel in-flight orders by client order id, cancel
   stray orders at the broker, compare positions; every difference is
   journaled as RECONCILIATION_MISMATCH with both views. A position that
   still differs afterwards halts the operation (status ``error``): it is
   never resolved silently;
4. apply the operation's crash_recovery_mode (:func:`decide_position`).

Every entry it writes has ``source: recovery``. Strategy state is rebuilt
when the runners start (from the last ``data_retention_bars`` bars). With
``dry_run`` nothing is written and nothing is sent: the report is the plan.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from live_trading.domain import events as ev
from live_trading.domain.projection import OperationState, fold
from live_trading.domain.recovery import (
    BrokerView,
    ReconciliationPlan,
    decide_position,
    execution_view,
    journal_position,
    plan_reconciliation,
    positions_agree,
)
from live_trading.domain.values import BarSize, utc_now
from live_trading.journal.service import JournalService

from . import order_calls
from .order_manager import OrderManager, fill_event
from .ports import Broker, BrokerTimeout
from .read_models import BarStore, JournalStore, ReadModels
from .recovery_report import plan_report, position_plan

log = logging.getLogger("live_trading.recovery")

SOURCE = "recovery"
OPEN_STATUSES = ("active", "paused", "closing")
REPORTS = "recovery_reports"
NOT_AT_VENUE = "not at the venue"


class RecoveryService:
    def __init__(
        self,
        journal: JournalService,
        journal_store: JournalStore,
        broker: Broker,
        market_data: BarStore,
        retention_days: int,
        *,
        read_models: ReadModels,
    ) -> None:
        """``read_models``: where the read models' progress is read and the
        reports are kept."""
        self.journal = journal
        self.store = journal_store
        self.read_models = read_models
        self.broker = broker
        self.market_data = market_data
        self.retention_days = retention_days
        # operations whose last reconciliation was deferred, with the reason
        self.pending: dict[str, str] = {}

    async def run(self, *, dry_run: bool = False) -> dict[str, Any]:
        """Recover every open operation; return (and, unless dry, save) the report."""
        report: dict[str, Any] = {"started_at": utc_now(), "dry_run": dry_run}
        report["archived_entries"] = 0 if dry_run else await self.archive_closed()
        operations = []
        for operation_id in await self.store.operation_ids():
            state = await self.journal.load_state(operation_id)
            if state.status in OPEN_STATUSES:
                operations.append(await self._recover(state, dry_run))
        report["operations"] = operations
        report["finished_at"] = utc_now()
        if not dry_run:
            await self.read_models.save_recovery_report(report)
        return report

    async def reconcile(self, operation_id: str) -> dict[str, Any]:
        """Reconcile one running operation with the broker (after a reconnect,
        and periodically): adopt missed fills, resolve orders, halt on a
        position mismatch; no crash-recovery mode is applied. When the broker
        does not answer completely (timeout, unreachable), RECONCILIATION_DEFERRED
        is journaled and ``{"deferred": reason}`` returned: nothing is concluded
        from a missing answer; the operation stays in :attr:`pending`."""
        state = await self.journal.state(operation_id)
        spec = state.operation or {}
        view = await self._view_or_defer(operation_id, spec["asset"], state.last_execution_id)
        if view is None:
            return {"operation_id": operation_id, "deferred": self.pending[operation_id]}
        plan = plan_reconciliation(state, view)
        result = plan_report(state, view, plan)
        await self._reconcile(operation_id, state, plan)
        state = await self.journal.state(operation_id)
        ours = journal_position(state)
        if not positions_agree(ours, view.position):
            await self._mismatch(
                operation_id,
                "position",
                spec["asset"],
                {"quantity": ours},
                {"quantity": view.position},
                "operation halted",
            )
            await self.journal.record(
                operation_id,
                [
                    ev.OperationFailed(
                        f"position mismatch: journal {ours:g}, broker {view.position:g}"
                    )
                ],
                source=SOURCE,
            )
        return result

    async def _view_or_defer(
        self, operation_id: str, asset: str, last_execution_id: str | None, *, dry_run: bool = False
    ) -> BrokerView | None:
        """The broker's view, or None (journaled, unless ``dry_run``) when a
        call timed out or the broker is unreachable."""
        try:
            view = await self._broker_view(operation_id, asset, last_execution_id)
        except (BrokerTimeout, ConnectionError) as error:
            reason = f"{type(error).__name__}: {error}"
            log.warning("operation %s: reconciliation deferred: %s", operation_id, reason)
            self.pending[operation_id] = reason
            if not dry_run:
                await self.journal.record(
                    operation_id, [ev.ReconciliationDeferred(reason)], source=SOURCE
                )
            return None
        self.pending.pop(operation_id, None)
        return view

    async def _recover(self, state: OperationState, dry_run: bool) -> dict[str, Any]:
        op = state.operation_id
        spec = state.operation or {}
        if not dry_run:
            await self._catch_up(state)
            self.journal.forget(op)
            state = await self.journal.state(op)
        view = await self._view_or_defer(
            op, spec["asset"], state.last_execution_id, dry_run=dry_run
        )
        if view is None:  # the engine's monitor reconciles it once the broker answers
            return {"operation_id": op, "status": state.status, "deferred": self.pending[op]}
        plan = plan_reconciliation(state, view)
        mark = await self._mark(op, spec)
        result = plan_report(state, view, plan)
        if dry_run:
            result["positions"] = position_plan(state, mark, spec)
            return result
        await self.journal.record(
            op,
            [
                ev.RecoveryStarted(
                    spec["crash_recovery_mode"],
                    state.last_sequence,
                    [o["client_order_id"] for o in state.working_orders()],
                )
            ],
            source=SOURCE,
        )
        await self._reconcile(op, state, plan)
        state = await self.journal.state(op)
        result["positions"] = position_plan(state, mark, spec)
        result["resumed"] = await self._settle_position(state, view, mark, spec)
        result["status"] = (await self.journal.state(op)).status
        return result

    async def _catch_up(self, state: OperationState) -> None:
        """Rewrite the operation's read models if they lag behind its journal."""
        if await self.read_models.projected_sequence(state.operation_id) == state.last_sequence:
            return
        log.warning(
            "operation %s: read models behind the journal; re-projecting", state.operation_id
        )
        _, documents = fold(state.operation_id, await self.store.read(state.operation_id))
        await self.store.write_documents(documents)

    async def _broker_view(
        self, operation_id: str, asset: str, last_execution_id: str | None
    ) -> BrokerView:
        """Open orders, fills since the last one the journal knows, position."""
        orders = await self.broker.open_orders(operation_id)
        executions = await self.broker.executions_since(operation_id, last_execution_id)
        positions = await self.broker.positions(operation_id)
        return BrokerView(
            {o.client_order_id: o for o in orders if o.asset == asset},
            [e for e in executions if e.asset == asset],
            positions.get(asset, 0.0),
        )

    async def _mark(self, operation_id: str, spec: dict[str, Any]) -> float | None:
        bars = await self.market_data.last_bars(operation_id, BarSize(spec["primary_bar_size"]), 1)
        return bars[-1].close if bars else None

    async def _reconcile(self, op: str, state: OperationState, plan: ReconciliationPlan) -> None:
        for execution in plan.adopt_fills:
            if execution.execution_id in state.execution_ids:
                continue  # its report was journaled meanwhile
            order = state.orders[execution.client_order_id]
            events: list[ev.Event] = [
                ev.ReconciliationMismatch(
                    "fill",
                    execution.execution_id,
                    {"order_status": order["status"], "fill": None},
                    execution_view(execution),
                    "fill adopted",
                )
            ]
            if order["status"] == "PENDING":
                events.append(
                    ev.OrderAccepted(execution.client_order_id, execution.broker_order_id)
                )
            events.append(fill_event(execution))
            await self.journal.record(op, events, source=SOURCE)
            state = await self.journal.state(op)
        for execution in plan.foreign_fills:
            await self._mismatch(
                op,
                "fill",
                execution.execution_id,
                {"order": None},
                execution_view(execution),
                "not adopted: unknown order",
            )
        await self._resolve_orders(op, plan)

    async def _resolve_orders(self, op: str, plan: ReconciliationPlan) -> None:
        state = await self.journal.state(op)
        for cid in plan.adopt_orders:
            events = [
                ev.ReconciliationMismatch(
                    "order", cid, {"status": "PENDING"}, {"status": "working"}, "order adopted"
                ),
                ev.OrderAccepted(cid, await self._broker_order_id(op, cid)),
            ]
            await self.journal.record(op, events, source=SOURCE)
        for cid in plan.cancel_in_journal:
            status = state.orders[cid]["status"]
            reason = (
                "never reached the broker"
                if status == "PENDING"
                else "no longer working at the broker"
            )
            await self.journal.record(
                op,
                [
                    ev.ReconciliationMismatch(
                        "order",
                        cid,
                        {"status": status},
                        {"status": "not working"},
                        f"cancelled: {reason}",
                    ),
                    ev.OrderCancelled(cid, reason),
                ],
                source=SOURCE,
            )
        for cid in plan.reject_in_journal:
            await self.journal.record(
                op,
                [
                    ev.ReconciliationMismatch(
                        "order",
                        cid,
                        {"status": "PENDING", "outcome_unknown": True},
                        {"status": "not at the venue"},
                        f"rejected: {NOT_AT_VENUE}",
                    ),
                    ev.OrderRejected(cid, NOT_AT_VENUE),
                ],
                source=SOURCE,
            )
        for cid in plan.cancel_at_broker:
            known = state.orders.get(cid)
            await self._mismatch(
                op,
                "unknown_order",
                cid,
                {"status": known["status"] if known else None},
                {"status": "working"},
                "cancelled at the broker",
            )
            events = await order_calls.cancel(self.broker, cid)
            if events:  # never silent: a cancel that did not take is journaled
                await self.journal.record(op, events, source=SOURCE)

    async def _broker_order_id(self, op: str, cid: str) -> str:
        try:
            return await self.broker.broker_order_id(cid) or f"unknown:{cid}"
        except (BrokerTimeout, ConnectionError) as error:
            log.warning("broker id of %s not known now: %s", cid, error)
            return f"unknown:{cid}"

    async def _mismatch(
        self, op: str, kind: str, key: str, journal_view: dict, broker_view: dict, resolution: str
    ) -> None:
        await self.journal.record(
            op,
            [ev.ReconciliationMismatch(kind, key, journal_view, broker_view, resolution)],
            source=SOURCE,
        )

    async def _settle_position(
        self, state: OperationState, view: BrokerView, mark: float | None, spec: dict[str, Any]
    ) -> bool:
        """Halt on a position mismatch, else apply the recovery mode."""
        op, mode = state.operation_id, spec["crash_recovery_mode"]
        ours = journal_position(state)
        if not positions_agree(ours, view.position):
            reason = f"position mismatch: journal {ours:g}, broker {view.position:g}"
            await self._mismatch(
                op,
                "position",
                spec["asset"],
                {"quantity": ours},
                {"quantity": view.position},
                "operation halted",
            )
            await self.journal.record(
                op,
                [ev.OperationFailed(reason), ev.RecoveryCompleted(mode, [reason], False)],
                source=SOURCE,
            )
            return False
        actions: list[str] = []
        decision = decide_position(mode, state, mark, spec["emergency_stop_loss_pct"])
        closing = state.status == "closing"
        if closing or (decision is not None and decision.action == "close"):
            why = "operation closing" if closing or decision is None else decision.reason
            manager = OrderManager(op, spec["asset"], self.journal, self.broker)
            if await manager.flatten(f"crash recovery: {why}", SOURCE):
                actions.append(f"close position: {why}")
        elif decision is not None:
            actions.append(f"keep position: {decision.reason}")
        await self.journal.record(op, [ev.RecoveryCompleted(mode, actions, True)], source=SOURCE)
        return True

    async def archive_closed(self) -> int:
        """Move journal entries of closed operations older than the retention
        period to ``journal_archive`` (nothing is deleted)."""
        cutoff = utc_now() - timedelta(days=self.retention_days)
        moved = 0
        for operation_id in await self.store.operation_ids():
            state = await self.journal.load_state(operation_id)
            if state.status == "closed":
                moved += await self.store.archive_entries(operation_id, cutoff)
        return moved
