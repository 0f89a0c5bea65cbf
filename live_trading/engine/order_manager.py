"""Order management for one operation: signals and requests to broker orders.

Write-ahead: every order is journaled as ORDER_SUBMITTED (with its client
order id) *before* the broker is called, and the broker's answer is journaled
after. Fills and cancellations come back through :meth:`on_report`; a fill
whose execution id is already in the journal is ignored.

The journal entries and broker requests themselves are built in
:mod:`.order_plans` (re-exported here: ``client_order_id``, ``operation_of``,
``fill_event``, ...).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from live_trading.domain import events as ev
from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import (
    BrokerReport,
    CancelOutcome,
    CommissionReport,
    Execution,
    OrderCancelled,
    OrderRole,
)
from live_trading.domain.projection import WORKING, OperationState, ProjectionError
from live_trading.domain.risk import (
    daily_loss_breached,
    entries_blocked,
    position_too_large,
    utc_day,
)
from live_trading.domain.values import Bar, BarSize, PositionSide
from live_trading.faults import fault_point
from live_trading.journal.service import JournalService
from live_trading.strategies import Signal

from . import order_calls
from .order_plans import (
    _Plan,
    _signal_event,
    _SignalContext,
    bar_data,
    client_order_id,
    commission_event,
    fill_event,
    operation_of,
    plan_entry,
    plan_exit,
)
from .ports import BracketBroker, Broker

__all__ = [
    "HELD_COMMISSIONS",
    "PROTECTIVE_ROLES",
    "OrderManager",
    "bar_data",
    "client_order_id",
    "commission_event",
    "fill_event",
    "operation_of",
]

log = logging.getLogger("live_trading.engine")

PROTECTIVE_ROLES = (OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT)
HELD_COMMISSIONS = 1000  # commission reports waiting for their fill, per operation


class OrderManager:
    def __init__(
        self,
        operation_id: str,
        asset: str,
        journal: JournalService,
        broker: Broker,
        max_position_size: float | None = None,
    ) -> None:
        self.operation_id = operation_id
        self.asset = asset
        self.journal = journal
        self.broker = broker
        self.max_position_size = max_position_size
        self._held_commissions: OrderedDict[str, CommissionReport] = OrderedDict()
        # the asset's tick / lot / minimum (set by the runner from the broker;
        # None: prices and quantities are sent as computed)
        self.instrument: InstrumentSpec | None = None
        # called with the operation id when the venue's records must settle
        # something (an outcome unknown, a cancel not found)
        self.request_reconcile: Callable[[str], None] | None = None

    async def on_signal(
        self,
        signal: Signal,
        bar: Bar,
        bar_size: str,
        atr: float | None,
        source: str = "engine",
        recent_bars: list[Bar] | None = None,
    ) -> None:
        """Act on a strategy signal: close the open position if it is on the
        other side, open the wanted one with its stop-loss and take-profit.
        ``recent_bars`` (the last primary bars up to ``bar``, oldest first) are
        journaled with the signal as its audit trail."""
        state = await self.journal.state(self.operation_id)
        if any(o["order_role"] in ("ENTRY", "EXIT") for o in state.working_orders()):
            state = await self._catch_up_fills(state)  # their fills may be on their way
        current = state.position.side if state.position else None
        target = PositionSide(signal.target) if signal.target else None
        context = _SignalContext(signal, bar, bar_size, recent_bars or [])
        if target == current:
            await self._cancel_unfilled_entries(state, context, source)
            return
        if state.status != "active":
            await self._journal_signal(context, f"ignored: operation {state.status}", source)
            return
        if not state.working_orders():  # the decision and its intents in one append
            plan, decision = self._plan(state, state.last_sequence + 1, context, atr)
            plan.events.insert(0, _signal_event(context, decision))
            await self._execute(plan, source)
            return
        # the cause first: the decision, then the cancels it needs, then its orders
        _, decision = self._plan(state, state.last_sequence + 1, context, atr)
        await self._journal_signal(context, decision, source)
        await self._cancel_working(state, exclude_roles=(), source=source)
        # a fill may have been journaled during the cancels (a stop-loss that
        # filled at the venue first): act on the state as it is now
        state = await self.journal.state(self.operation_id)
        if target == (state.position.side if state.position else None):
            return  # the fills in the journal say what happened meanwhile
        plan, _ = self._plan(state, state.last_sequence, context, atr)
        await self._execute(plan, source)

    def _plan(
        self, state: OperationState, seq: int, context: _SignalContext, atr: float | None
    ) -> tuple[_Plan, str]:
        """The orders a signal decides from ``state`` (the exit of a position
        on the other side, the entry bracket or a risk rule's refusal), with
        sequence numbers after ``seq``; returns the plan and the decision."""
        signal, bar = context.signal, context.bar
        current = state.position.side if state.position else None
        target = PositionSide(signal.target) if signal.target else None
        plan = _Plan(self.operation_id, self.asset)
        if current is not None:
            seq = plan_exit(state, plan, seq, f"signal: {signal.reason}")
        refusal = self._risk_refusal(state, plan, target, bar, context.bar_size)
        if refusal:
            return plan, f"{'close ' + current.value + '; ' if current else ''}{refusal}"
        return plan, plan_entry(state, plan, seq, signal, current, bar, atr, self.instrument)

    async def _cancel_unfilled_entries(
        self, state: OperationState, context: _SignalContext, source: str
    ) -> None:
        """The strategy wants the position already held (or flat while flat):
        an entry still waiting to fill (a LIMIT or STOP) is no longer wanted."""
        pending = [o for o in state.working_orders() if o["order_role"] == OrderRole.ENTRY]
        if not pending:
            return
        await self._journal_signal(context, "cancel unfilled entry", source)
        for order in pending:
            await self._cancel(order["client_order_id"], source)

    def _risk_refusal(
        self,
        state: OperationState,
        plan: _Plan,
        target: PositionSide | None,
        bar: Bar,
        bar_size: str,
    ) -> str | None:
        """Why an entry to ``target`` is refused by a risk rule (None: allowed);
        a rule that fires now is added to the plan's journal entries."""
        if target is None:
            return None
        day = utc_day(bar.time + BarSize(bar_size).duration)
        if entries_blocked(state, day):
            return f"entry refused: max_daily_loss reached on {day}"
        quantity = float((state.operation or {})["quantity"])
        if position_too_large(quantity, self.max_position_size):
            plan.events.append(
                ev.RiskRuleTriggered(
                    "max_position_size", "entry refused", self.max_position_size, quantity
                )
            )
            return f"entry refused: {quantity:g} exceeds max_position_size"
        return None

    async def flatten(self, reason: str, source: str, user: str | None = None) -> bool:
        """Cancel working orders and close the open position at market.

        Returns True if there is a position to close (an exit is working).
        """
        state = await self.journal.state(self.operation_id)
        await self._cancel_working(state, exclude_roles=(OrderRole.EXIT,), source=source)
        state = await self.journal.state(self.operation_id)
        if state.position is None:
            return False
        if any(o["order_role"] == OrderRole.EXIT for o in state.working_orders()):
            return True
        plan = _Plan(self.operation_id, self.asset)
        plan_exit(state, plan, state.last_sequence, reason)
        await self._execute(plan, source, user)
        return True

    async def on_report(self, report: BrokerReport) -> None:
        """Journal a broker report (fills once per execution id; a commission
        report once per execution and amount, see :meth:`_on_commission`)."""
        state = await self.journal.state(self.operation_id)
        order = state.orders.get(report.client_order_id)
        if order is None:
            log.warning("report for unknown order %s ignored", report.client_order_id)
            return
        if isinstance(report, CommissionReport):
            await self._on_commission(state, report)
        elif isinstance(report, Execution):
            if report.execution_id in state.execution_ids:
                return
            fault_point("before_fill_journal")
            events: list[ev.Event] = [fill_event(report)]
            held = self._held_commissions.pop(report.execution_id, None)
            if held is not None:
                events.append(commission_event(held))
            try:
                await self.journal.record(self.operation_id, events, source="engine")
            except ProjectionError as error:
                log.error("fill %s not journaled: %s", report.execution_id, error)
                return
            await self._check_daily_loss()
        elif isinstance(report, OrderCancelled) and order["status"] in WORKING:
            await self.journal.record(
                self.operation_id,
                [ev.OrderCancelled(report.client_order_id, report.reason)],
                source="engine",
            )

    async def _on_commission(self, state: OperationState, report: CommissionReport) -> None:
        """Journal COMMISSION_REPORTED for a fill the journal has, unless the
        fill already carries that commission (a repeated report). A report
        that arrives before its fill is held (in memory, at most
        ``HELD_COMMISSIONS``) and journaled with the fill."""
        if report.execution_id not in state.execution_ids:
            log.info("commission for execution %s held until its fill arrives", report.execution_id)
            self._held_commissions[report.execution_id] = report
            while len(self._held_commissions) > HELD_COMMISSIONS:
                _, dropped = self._held_commissions.popitem(last=False)
                log.warning(
                    "commission for execution %s dropped: its fill never came", dropped.execution_id
                )
            return
        fill = state.fills.get(report.execution_id)
        if fill is not None and fill["commission"] == report.commission:
            return
        await self.journal.record(self.operation_id, [commission_event(report)], source="engine")
        await self._check_daily_loss()

    async def _check_daily_loss(self) -> None:
        """Fire max_daily_loss once per UTC day when closed P/L reaches -limit."""
        state = await self.journal.state(self.operation_id)
        limit = (state.operation or {}).get("max_daily_loss")
        if daily_loss_breached(state, limit) and state.entries_blocked_day != state.pnl_day:
            await self.journal.record(
                self.operation_id,
                [
                    ev.RiskRuleTriggered(
                        "max_daily_loss",
                        "no new positions until the next UTC day",
                        limit,
                        state.pnl_today,
                        state.pnl_day,
                    )
                ],
                source="engine",
            )

    async def _execute(self, plan: _Plan, source: str, user: str | None = None) -> None:
        if not plan.events:
            return
        await self.journal.record(self.operation_id, plan.events, source=source, user=user)
        fault_point("after_intent")
        acks: list[ev.Event] = []
        whole = isinstance(self.broker, BracketBroker)
        for unit in order_calls.sending_units(plan.requests, brackets_whole=whole):
            if len(unit) == 3 and isinstance(self.broker, BracketBroker):  # see _units
                acks.extend(await order_calls.submit_bracket(self.broker, unit))
            else:
                acks.append(await order_calls.submit(self.broker, unit[0]))
            fault_point("after_broker_submit")
        if acks:
            await self.journal.record(self.operation_id, acks, source=source, user=user)
            self._settle_soon(acks)

    def _settle_soon(self, events: list[ev.Event]) -> None:
        unsettled = any(
            isinstance(e, ev.OrderOutcomeUnknown)
            or (isinstance(e, ev.OrderCancelFailed) and e.outcome == "NOT_FOUND")
            for e in events
        )
        if unsettled and self.request_reconcile is not None:
            self.request_reconcile(self.operation_id)

    async def _cancel(self, client_order_id: str, source: str) -> None:
        """Cancel at the venue; journal a cancel that did not take (see
        :func:`.order_calls.cancel`)."""
        events = await order_calls.cancel(self.broker, client_order_id)
        state = await self.journal.state(self.operation_id)
        if any(
            isinstance(e, ev.OrderCancelFailed) and e.outcome == CancelOutcome.ALREADY_DONE
            for e in events
        ) and self._working(state, client_order_id):
            state = await self._catch_up_fills(state)  # filled: its report is on its way
        if not self._working(state, client_order_id):  # its report came meanwhile
            events = [e for e in events if not isinstance(e, ev.OrderCancelFailed)]
        if events:
            await self.journal.record(self.operation_id, events, source=source)
            self._settle_soon(events)

    async def _catch_up_fills(self, state: OperationState) -> OperationState:
        """Journal the fills the venue has made of our orders since the
        journal's last one, before deciding on the position: a fill report
        may still be on its way (a polled feed, a reconnect) when the venue
        has already filled the order. Duplicates of reports are ignored
        (by execution id); a venue that does not answer asks for a
        reconciliation. Returns the state after."""
        fills = await order_calls.fills_since(
            self.broker, self.operation_id, state.last_execution_id, state.orders
        )
        if fills is None and self.request_reconcile is not None:
            self.request_reconcile(self.operation_id)
        for execution in fills or []:
            await self.on_report(execution)
        return await self.journal.state(self.operation_id)

    @staticmethod
    def _working(state: OperationState, client_order_id: str) -> bool:
        order = state.orders.get(client_order_id)
        return order is not None and order["status"] in WORKING

    async def _cancel_working(
        self, state: OperationState, exclude_roles: tuple[OrderRole, ...], source: str = "engine"
    ) -> None:
        """Cancel the working orders not in ``exclude_roles`` (one a cancel
        of its parent has already ended is skipped)."""
        for order in state.working_orders():
            cid = order["client_order_id"]
            if order["order_role"] in exclude_roles:
                continue
            if self._working(await self.journal.state(self.operation_id), cid):
                await self._cancel(cid, source)

    async def _journal_signal(self, context: _SignalContext, decision: str, source: str) -> None:
        event = _signal_event(context, decision)
        await self.journal.record(self.operation_id, [event], source=source)
