"""Reports of :class:`~.client.IBKRBroker`: fills, commissions, cancellations.

* A fill is reported when its ``execDetails`` arrives, with commission 0.0:
  it never waits for the commission. IB's ``commissionReport`` (usually
  milliseconds later, sometimes seconds, sometimes never) follows as a
  :class:`~live_trading.domain.orders.CommissionReport` that sets the
  fill's commission. A fill replayed by ``reqExecutions`` (after a
  reconnect) whose report is already in is delivered with it.
* Each ``execId`` is reported once (a duplicate ``execDetails`` is
  dropped), each commission once.
* The broker id of an order is IB's ``permId`` from its first
  ``orderStatus`` or ``openOrder``, whichever comes first.
* Reports go to the listener one at a time, in the order IB produced them,
  from one consumer task; reports of an order being submitted are held
  until ``submit_order`` has returned its ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging

from live_trading.domain.orders import CommissionReport, OrderCancelled
from live_trading.domain.values import utc_now

from .parsing import ORDER_REF_PREFIX, broker_order_id_of, fill_to_execution, perm_id_of
from .state import IBKRState

_ARRIVAL = itertools.count()  # ties in the report queue keep arrival order

log = logging.getLogger(__name__)

DONE_CANCELLED = ("Cancelled", "ApiCancelled", "Inactive")


class ReportStream(IBKRState):
    """Mixin of IBKRBroker (uses its ``_ib``, ``config`` and bookkeeping)."""

    def _hook(self) -> None:
        if self._hooked:
            return
        ib = self._ib
        ib.execDetailsEvent += self._on_exec_details
        ib.orderStatusEvent += self._on_order_status
        ib.openOrderEvent += self._on_order_status
        ib.disconnectedEvent += self._on_disconnected
        ib.errorEvent += self._on_error
        wrapper_report = ib.wrapper.commissionReport

        def commission_report(report) -> None:  # every report, trade known or not
            wrapper_report(report)
            self._on_commission(report)

        # ib_async has no event for the commission of a trade it does not know:
        # chain onto its wrapper's callback instead.
        ib.wrapper.commissionReport = commission_report  # type: ignore[method-assign,assignment]
        self._hooked = True

    def _start_reports(self) -> None:
        self._hook()
        if self._queue is None:
            self._queue = asyncio.PriorityQueue()
            self._consumer = asyncio.create_task(self._consume(), name="ibkr-reports")

    async def _stop_reports(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(BaseException):
                await self._consumer
            self._consumer = None
            self._queue = None

    def _remember_broker_id(self, ref: str, trade) -> None:
        perm = perm_id_of(trade)
        if perm:
            self._broker_ids[ref] = broker_order_id_of(perm, trade.order.orderId)
        else:
            self._broker_ids.setdefault(ref, broker_order_id_of(0, trade.order.orderId))
        self._max_order_id = max(self._max_order_id, trade.order.orderId or 0)

    def _on_exec_details(self, trade, fill) -> None:
        self._on_fill(fill, deliver=True)

    def _on_fill(self, fill, *, deliver: bool) -> None:
        ex = fill.execution
        if not ex.orderRef.startswith(ORDER_REF_PREFIX) or ex.execId in self._known:
            return  # not ours, or seen already (duplicate execDetails, replay)
        self._max_order_id = max(self._max_order_id, ex.orderId or 0)
        commission = self._commissions.get(ex.execId, 0.0)
        execution = fill_to_execution(fill, commission, self.config.contracts)
        self._known[ex.execId] = execution
        self._broker_ids[ex.orderRef] = execution.broker_order_id
        if deliver:
            self._reported.add(ex.execId)
            self._enqueue(ex.orderRef, execution)

    def _on_commission(self, report) -> None:
        exec_id, commission = report.execId, float(report.commission)
        if not exec_id or self._commissions.get(exec_id) == commission:
            return  # duplicate report
        self._commissions[exec_id] = commission
        execution = self._known.get(exec_id)
        if execution is None:
            return  # not ours, or before its fill: applied when the fill comes
        self._known[exec_id] = dataclasses.replace(execution, commission=commission)
        if exec_id in self._reported:
            self._enqueue(
                execution.client_order_id,
                CommissionReport(exec_id, execution.client_order_id, commission, utc_now()),
            )

    def _on_order_status(self, trade) -> None:
        ref = trade.order.orderRef
        if not ref or not ref.startswith(ORDER_REF_PREFIX):
            return
        self._remember_broker_id(ref, trade)
        status = trade.orderStatus.status
        if (
            status in DONE_CANCELLED
            and ref not in self._cancel_reported
            and ref not in self._submitting
        ):
            self._cancel_reported.add(ref)
            self._enqueue(
                ref, OrderCancelled(ref, self._broker_ids.get(ref), reason_of(trade), utc_now())
            )

    def _resync(self, *, deliver: bool) -> None:
        """Re-read ib_async's view after a sync: order ids and fills (fills
        not seen yet are delivered when ``deliver``, else only recorded)."""
        for trade in self._ib.trades():
            ref = trade.order.orderRef
            if ref and ref.startswith(ORDER_REF_PREFIX):
                self._remember_broker_id(ref, trade)
        for fill in sorted(self._ib.fills(), key=lambda f: f.execution.time):
            report = fill.commissionReport
            if report.execId:
                self._commissions.setdefault(report.execId, float(report.commission))
            self._on_fill(fill, deliver=deliver)
        if deliver:  # orders cancelled while we were away (completed orders)
            for trade in self._ib.trades():
                if trade.order.orderRef in self._requests:
                    self._on_order_status(trade)

    def _enqueue(self, ref: str, report) -> None:
        """Queue a report for the listener: in arrival order, except that
        commission reports wait behind fills and order statuses (a commission
        is only queued once its fill was, so it never overtakes it), so that a
        fill is never journaled late because a commission was being journaled."""
        if self._queue is not None:
            rank = 1 if isinstance(report, CommissionReport) else 0
            self._queue.put_nowait((rank, next(_ARRIVAL), ref, report))

    async def _consume(self) -> None:
        queue = self._queue
        assert queue is not None  # _start_reports makes the queue before this task
        while True:
            _rank, _arrival, ref, report = await queue.get()
            try:
                gate = self._submitting.get(ref)
                if gate is not None:
                    await gate.wait()
                if self._listener is not None:
                    await self._listener(report)
            except Exception:
                log.exception("report listener failed on %r", report)
            finally:
                queue.task_done()

    async def drain(self) -> None:
        """Wait until every report received so far has been delivered."""
        if self._queue is not None:
            await self._queue.join()


def reason_of(trade) -> str:
    for entry in reversed(trade.log):
        if entry.errorCode or entry.message:
            return entry.message
    return f"order {trade.orderStatus.status}"
