"""Order management for one operation: signals and requests to broker orders.

Write-ahead, one append per decision: everything a signal (or a flatten)
decides is journaled in one append, in one transaction, *before* the broker
is called: the signal, an ORDER_CANCEL_REQUESTED for each working order it
cancels, an ORDER_SUBMITTED (with its client order id) for the exit and for
each leg of the entry bracket. Then the cancels are sent, then the orders,
and every answer is journaled in one more append
(:meth:`OrderSending._carry_out`). A fill that moves the position while the
cancels are sent overtakes the decision: its orders are not sent (journaled
cancelled, "not sent") and are planned again from the state after the fill.
Fills and cancellations come back through :meth:`on_report`; a fill whose
execution id is already in the journal is ignored.

The journal entries and broker requests themselves are built in
:mod:`.order_plans` (re-exported here: ``client_order_id``, ``operation_of``,
``fill_event``, ...).
"""

from __future__ import annotations

import logging

from live_trading.domain import events as ev
from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import OrderRole
from live_trading.domain.projection import OperationState
from live_trading.domain.risk import entries_blocked, position_too_large, utc_day
from live_trading.domain.values import Bar, BarSize, PositionSide
from live_trading.faults import fault_point
from live_trading.journal.service import JournalService
from live_trading.strategies import Signal

from .order_plans import (
    UNFILLED_ENTRY,
    _Plan,
    _signal_event,
    _SignalContext,
    bar_data,
    cancel_intents,
    client_order_id,
    commission_event,
    fill_event,
    fills_mark,
    operation_of,
    plan_entry,
    plan_exit,
)
from .order_sending import HELD_COMMISSIONS, OrderSending
from .ports import Broker

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


class OrderManager(OrderSending):
    def __init__(
        self,
        operation_id: str,
        asset: str,
        journal: JournalService,
        broker: Broker,
        max_position_size: float | None = None,
    ) -> None:
        super().__init__(operation_id, journal, broker)
        self.asset = asset
        self.max_position_size = max_position_size
        # the asset's tick / lot / minimum (set by the runner from the broker;
        # None: prices and quantities are sent as computed)
        self.instrument: InstrumentSpec | None = None

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
        journaled with the signal as its audit trail.

        One decision, one append (see :meth:`_decide`): the signal, the
        cancels of the working orders, the exit and the entry bracket are
        journaled together before the broker is called."""
        state = await self.journal.state(self.operation_id)
        if any(o["order_role"] in ("ENTRY", "EXIT") for o in state.working_orders()):
            state = await self._catch_up_fills(state)  # their fills may be on their way
        current = state.position.side if state.position else None
        target = PositionSide(signal.target) if signal.target else None
        context = _SignalContext(signal, bar, bar_size, recent_bars or [])
        if target == current:
            pending = [o for o in state.working_orders() if o["order_role"] == OrderRole.ENTRY]
            if pending:  # an entry still waiting to fill is no longer wanted
                await self._decide(state, context, source, pending, decision=UNFILLED_ENTRY)
            return
        if state.status != "active":
            await self._journal_signal(context, f"ignored: operation {state.status}", source)
            return
        await self._decide(state, context, source, state.working_orders(), atr=atr)

    async def _decide(
        self,
        state: OperationState,
        context: _SignalContext,
        source: str,
        cancels: list[dict],
        *,
        atr: float | None = None,
        decision: str | None = None,
    ) -> None:
        """Journal a signal's decision in one append (the signal, then the
        intent to cancel each of ``cancels``, then the orders it plans from
        ``state``, or none with a given ``decision``) and carry it out
        (:meth:`_carry_out`). Overtaken by a fill during the cancels, the
        orders are planned again from the state after it."""
        cids = [o["client_order_id"] for o in cancels]
        before = fills_mark(state)  # the state object moves on with the journal
        first = state.last_sequence + 1 + len(cids)  # the signal, then the cancels
        if decision is None:
            plan, decision = self._plan(state, first, context, atr)
        else:
            plan = _Plan(self.operation_id, self.asset)
        cause = f"signal: {context.signal.reason}"
        plan.events[:0] = [_signal_event(context, decision), *cancel_intents(cids, cause)]
        await self.journal.record(self.operation_id, plan.events, source=source)
        fault_point("after_intent")
        if await self._carry_out(plan, cids, before, source):
            return
        state = await self.journal.state(self.operation_id)
        target = PositionSide(context.signal.target) if context.signal.target else None
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

    async def flatten(
        self,
        reason: str,
        source: str,
        user: str | None = None,
        head: list[ev.Event] | None = None,
    ) -> bool:
        """Cancel the working orders and close the open position at market,
        in one append (``head``, e.g. a pause, then the intent to cancel each
        working order, then the exit) carried out by :meth:`_carry_out`.

        Returns True if there is a position to close (an exit is working).
        """
        state = await self.journal.state(self.operation_id)
        working = state.working_orders()
        cids = [o["client_order_id"] for o in working if o["order_role"] != OrderRole.EXIT]
        exiting, before = len(cids) < len(working), fills_mark(state)
        events = [*(head or []), *cancel_intents(cids, reason)]
        plan = _Plan(self.operation_id, self.asset)
        if state.position is not None and not exiting:
            plan_exit(state, plan, state.last_sequence + len(events), reason)
        plan.events[:0] = events
        if plan.events:
            await self.journal.record(self.operation_id, plan.events, source=source, user=user)
            fault_point("after_intent")
            if not await self._carry_out(plan, cids, before, source, user):  # a fill came meanwhile
                return await self.flatten(reason, source, user)
        state = await self.journal.state(self.operation_id)
        return state.position is not None

    async def _journal_signal(self, context: _SignalContext, decision: str, source: str) -> None:
        event = _signal_event(context, decision)
        await self.journal.record(self.operation_id, [event], source=source)
