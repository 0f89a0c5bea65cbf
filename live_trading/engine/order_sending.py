"""The venue side of an operation's order manager.

:class:`OrderSending` sends what a decision journaled (cancels first, then
orders; see :meth:`OrderSending._carry_out`) and journals every answer and
report of the venue: fills once per execution id, commissions, cancels.
:class:`~.order_manager.OrderManager` builds on it and makes the decisions.
Prices in quote currency, quantities in units of the base asset, times aware
UTC.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from live_trading.domain import events as ev
from live_trading.domain.orders import (
    BrokerReport,
    CancelOutcome,
    CommissionReport,
    Execution,
    OrderCancelled,
)
from live_trading.domain.projection import WORKING, OperationState, ProjectionError
from live_trading.domain.risk import daily_loss_breached
from live_trading.faults import fault_point
from live_trading.journal.service import JournalService

from . import order_calls
from .order_plans import FillsMark, _Plan, commission_event, fill_event, fills_mark, not_sent
from .ports import BatchBroker, BracketBroker, Broker

log = logging.getLogger("live_trading.engine")

HELD_COMMISSIONS = 1000  # commission reports waiting for their fill, per operation


class OrderSending:
    """Sends one operation's journaled decisions and journals the venue's answers."""

    def __init__(self, operation_id: str, journal: JournalService, broker: Broker) -> None:
        self.operation_id = operation_id
        self.journal = journal
        self.broker = broker
        self._held_commissions: OrderedDict[str, CommissionReport] = OrderedDict()
        # a decision's cancels being sent, and the venue's cancel reports of
        # them held for the decision's answer append (see _carry_out)
        self._deferring: set[str] = set()
        self._deferred: dict[str, ev.OrderCancelled] = {}
        # called with the operation id when the venue's records must settle
        # something (an outcome unknown, a cancel not found)
        self.request_reconcile: Callable[[str], None] | None = None

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
        elif isinstance(report, OrderCancelled) and self._working(state, report.client_order_id):
            if report.client_order_id in self._deferring:
                cancelled = ev.OrderCancelled(report.client_order_id, report.reason)
                self._deferred[report.client_order_id] = cancelled
                return
            await self.journal.record(
                self.operation_id,
                [ev.OrderCancelled(report.client_order_id, report.reason)],
                source="engine",
            )

    async def on_reports(self, reports: list[BrokerReport]) -> None:
        """Journal several reports of one broker call (a bar's fills and the
        cancels they cause) in one append, as :meth:`on_report` would one by
        one; commission reports, and a batch the projection refuses (a
        duplicate that raced in), go one by one."""
        state = await self.journal.state(self.operation_id)
        events: list[ev.Event] = []
        fills, ended = set(state.execution_ids), set()
        for report in reports:
            cid = report.client_order_id
            if isinstance(report, CommissionReport) or cid not in state.orders:
                return await self._one_by_one(reports)
            if isinstance(report, Execution) and report.execution_id not in fills:
                fills.add(report.execution_id)
                fault_point("before_fill_journal")
                events.append(fill_event(report))
                held = self._held_commissions.get(report.execution_id)
                events.extend([commission_event(held)] if held is not None else [])
            elif isinstance(report, OrderCancelled) and self._working(state, cid):
                if cid in self._deferring:
                    self._deferred[cid] = ev.OrderCancelled(cid, report.reason)
                elif cid not in ended:
                    ended.add(cid)
                    events.append(ev.OrderCancelled(cid, report.reason))
        if not events:
            return
        try:
            await self.journal.record(self.operation_id, events, source="engine")
        except ProjectionError as error:
            log.warning("reports journaled one by one: %s", error)
            return await self._one_by_one(reports)
        for event in events:
            if isinstance(event, ev.CommissionReported):
                self._held_commissions.pop(event.execution_id, None)
        if any(isinstance(e, ev.OrderFilled) for e in events):
            await self._check_daily_loss()

    async def _one_by_one(self, reports: list[BrokerReport]) -> None:
        for report in reports:
            await self.on_report(report)

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
        acks = await self._send_orders(plan)
        if acks:
            await self.journal.record(self.operation_id, acks, source=source, user=user)
            self._settle_soon(acks)

    async def _carry_out(
        self,
        plan: _Plan,
        cancels: list[str],
        before: FillsMark,
        source: str,
        user: str | None = None,
    ) -> bool:
        """Send a journaled decision: the cancels first, then, unless a fill
        has moved the position since it was decided (``before``, the
        :func:`fills_mark` of the state it was planned from), the plan's
        orders; every answer
        (the venue's cancel reports included) is journaled in one append.
        Returns False when overtaken: the orders were not sent (journaled
        cancelled, "not sent")."""
        answers: list[ev.Event] = []
        sent = True
        self._deferring.update(cancels)
        try:
            answers.extend(await self._send_cancels(cancels))
            if cancels:
                fault_point("after_broker_cancel")
            if plan.requests and fills_mark(await self.journal.state(self.operation_id)) != before:
                sent = False
                answers.extend(not_sent(plan))
            else:
                answers.extend(await self._send_orders(plan))
        finally:
            self._deferring.difference_update(cancels)
            held = [self._deferred.pop(cid) for cid in list(self._deferred) if cid in cancels]
            if held or answers:
                events = [*held, *answers]
                await self.journal.record(self.operation_id, events, source=source, user=user)
                self._settle_soon(events)
        return sent

    async def _send_orders(self, plan: _Plan) -> list[ev.Event]:
        """Send the plan's orders: all in one call to a :class:`BatchBroker`,
        a bracket as one unit to a :class:`BracketBroker`, else one by one;
        the events recording the answers."""
        if isinstance(self.broker, BatchBroker) and len(plan.requests) > 1:
            answers = await order_calls.submit_many(self.broker, plan.requests)
            fault_point("after_broker_submit")
            return answers
        acks: list[ev.Event] = []
        whole = isinstance(self.broker, BracketBroker)
        for unit in order_calls.sending_units(plan.requests, brackets_whole=whole):
            if len(unit) == 3 and isinstance(self.broker, BracketBroker):  # see _units
                acks.extend(await order_calls.submit_bracket(self.broker, unit))
            else:
                acks.append(await order_calls.submit(self.broker, unit[0]))
            fault_point("after_broker_submit")
        return acks

    async def _send_cancels(self, client_order_ids: list[str]) -> list[ev.Event]:
        """Cancel the orders still working (one call to a :class:`BatchBroker`,
        else one by one); the events of the cancels that did not take."""
        if not isinstance(self.broker, BatchBroker) or len(client_order_ids) < 2:
            return [e for cid in client_order_ids for e in await self._send_cancel(cid)]
        state = await self.journal.state(self.operation_id)
        todo = [cid for cid in client_order_ids if self._working(state, cid)]
        answers = await order_calls.cancel_many(self.broker, todo) if todo else []
        events: list[ev.Event] = []
        for cid, answer in zip(todo, answers, strict=True):
            events.extend(await self._after_cancel(cid, answer))
        return events

    def _settle_soon(self, events: list[ev.Event]) -> None:
        unsettled = any(
            isinstance(e, ev.OrderOutcomeUnknown)
            or (isinstance(e, ev.OrderCancelFailed) and e.outcome == "NOT_FOUND")
            for e in events
        )
        if unsettled and self.request_reconcile is not None:
            self.request_reconcile(self.operation_id)

    async def _send_cancel(self, client_order_id: str) -> list[ev.Event]:
        """Cancel at the venue (unless a parent's cancel or a report has
        ended the order already); the events of a cancel that did not take
        (see :func:`.order_calls.cancel`)."""
        state = await self.journal.state(self.operation_id)
        if not self._working(state, client_order_id):
            return []
        events = await order_calls.cancel(self.broker, client_order_id)
        return await self._after_cancel(client_order_id, events)

    async def _after_cancel(self, client_order_id: str, events: list[ev.Event]) -> list[ev.Event]:
        """``events`` of a cancel, less a failure the venue's reports have
        since made moot: an order found already done has its fills caught
        up first (its report may be on its way)."""
        state = await self.journal.state(self.operation_id)
        if any(
            isinstance(e, ev.OrderCancelFailed) and e.outcome == CancelOutcome.ALREADY_DONE
            for e in events
        ) and self._working(state, client_order_id):
            state = await self._catch_up_fills(state)  # filled: its report is on its way
        if not self._working(state, client_order_id):  # its report came meanwhile
            events = [e for e in events if not isinstance(e, ev.OrderCancelFailed)]
        return events

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

    def _working(self, state: OperationState, client_order_id: str) -> bool:
        """Working by the journal, and no cancel report held for it."""
        order = state.orders.get(client_order_id)
        working = order is not None and order["status"] in WORKING
        return working and client_order_id not in self._deferred
