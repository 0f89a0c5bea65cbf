"""Broker calls of the order manager, each turned into the events to journal.

What a call's outcome means for the journal:

* submit: an ack -> ORDER_ACCEPTED or ORDER_REJECTED (the venue's refusal);
  ``ConnectionError`` (certainly not sent) -> ORDER_REJECTED "broker
  unreachable"; ``OrderOutcomeUnknown`` or ``BrokerTimeout`` (sent, answer
  lost) -> ORDER_OUTCOME_UNKNOWN: the order stays in flight until
  reconciliation settles it from the venue's records. Never "rejected" for
  an order the venue may have taken.
* a bracket sent as one unit (:class:`~.ports.BracketBroker`), or several
  requests in one call (:class:`~.ports.BatchBroker`): the same, for each
  (a lost answer leaves all of them in flight).
* cancel: REQUESTED -> nothing yet (the venue's ``OrderCancelled`` report
  follows); NOT_FOUND / ALREADY_DONE / not sent -> ORDER_CANCEL_FAILED with
  the reason; sent but answer lost -> ORDER_OUTCOME_UNKNOWN.
* fills since: the venue's own record of fills, read when the journal may
  lag it (a fill report still on its way); nothing when it does not answer.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from live_trading.domain import events as ev
from live_trading.domain.orders import CancelAck, CancelOutcome, Execution, OrderAck, OrderRequest

from .ports import BatchBroker, BracketBroker, Broker, BrokerTimeout, OrderOutcomeUnknown

log = logging.getLogger("live_trading.engine")

NOT_FOUND_REASON = "not found at the venue"
ALREADY_DONE_REASON = "already filled or cancelled at the venue"


async def submit(broker: Broker, request: OrderRequest) -> ev.Event:
    """Send ``request``; the event that records the outcome."""
    cid = request.client_order_id
    try:
        ack = await broker.submit_order(request)
    except OrderOutcomeUnknown as error:
        log.warning("order %s: outcome unknown: %s", cid, error)
        return ev.OrderOutcomeUnknown(cid, error.call, error.detail)
    except BrokerTimeout as error:
        log.warning("order %s: outcome unknown: %s", cid, error)
        return ev.OrderOutcomeUnknown(cid, error.call, str(error))
    except ConnectionError as error:
        log.error("order %s not sent: %s", cid, error)
        return ack_event(OrderAck(cid, None, False, f"broker unreachable: {error}"))
    return ack_event(ack)


def sending_units(
    requests: list[OrderRequest], *, brackets_whole: bool
) -> list[list[OrderRequest]]:
    """``requests`` in sending units: with ``brackets_whole`` (the broker is
    a :class:`~.ports.BracketBroker`) an entry followed by its two children
    is one unit; every other request is a unit of its own."""
    units: list[list[OrderRequest]] = []
    index = 0
    while index < len(requests):
        first, rest = requests[index], requests[index + 1 : index + 3]
        if (
            brackets_whole
            and first.parent_client_order_id is None
            and len(rest) == 2
            and all(r.parent_client_order_id == first.client_order_id for r in rest)
        ):
            units.append([first, *rest])
            index += 3
        else:
            units.append([first])
            index += 1
    return units


async def submit_bracket(broker: BracketBroker, legs: list[OrderRequest]) -> list[ev.Event]:
    """Send an entry and its stop-loss and take-profit as one unit; the
    events that record the outcome of each leg."""
    entry, stop_loss, take_profit = legs
    try:
        acks = await broker.submit_bracket(entry, stop_loss, take_profit)
    except (OrderOutcomeUnknown, BrokerTimeout) as error:
        log.warning("bracket %s: outcome unknown: %s", entry.client_order_id, error)
        detail = error.detail if isinstance(error, OrderOutcomeUnknown) else str(error)
        return [
            ev.OrderOutcomeUnknown(leg.client_order_id, "submit_bracket", detail) for leg in legs
        ]
    except ConnectionError as error:
        log.error("bracket %s not sent: %s", entry.client_order_id, error)
        return [
            ack_event(OrderAck(leg.client_order_id, None, False, f"broker unreachable: {error}"))
            for leg in legs
        ]
    return [ack_event(ack) for ack in acks]


async def cancel(broker: Broker, client_order_id: str) -> list[ev.Event]:
    """Ask the venue to cancel ``client_order_id``; the events to journal
    ([] when the cancel was taken: its report follows)."""
    try:
        ack = await broker.cancel_order(client_order_id)
    except (OrderOutcomeUnknown, BrokerTimeout, ConnectionError) as error:
        return _cancel_not_answered(client_order_id, error)
    return _cancel_answered(client_order_id, ack)


async def cancel_many(broker: BatchBroker, client_order_ids: list[str]) -> list[list[ev.Event]]:
    """:func:`cancel` for each id in one call (one commit at the paper
    broker); the events to journal, per id."""
    try:
        acks = await broker.cancel_orders(client_order_ids)
    except (OrderOutcomeUnknown, BrokerTimeout, ConnectionError) as error:
        return [_cancel_not_answered(cid, error) for cid in client_order_ids]
    return [_cancel_answered(cid, ack) for cid, ack in zip(client_order_ids, acks, strict=True)]


async def submit_many(broker: BatchBroker, requests: list[OrderRequest]) -> list[ev.Event]:
    """:func:`submit` for each request in one call (one commit at the paper
    broker); the events that record the outcomes, in order."""
    try:
        acks = await broker.submit_orders(requests)
    except (OrderOutcomeUnknown, BrokerTimeout) as error:
        log.warning("orders %s: outcome unknown: %s", requests[0].client_order_id, error)
        detail = error.detail if isinstance(error, OrderOutcomeUnknown) else str(error)
        return [
            ev.OrderOutcomeUnknown(r.client_order_id, "submit_orders", detail) for r in requests
        ]
    except ConnectionError as error:
        log.error("orders %s not sent: %s", requests[0].client_order_id, error)
        unreachable = f"broker unreachable: {error}"
        return [ack_event(OrderAck(r.client_order_id, None, False, unreachable)) for r in requests]
    return [ack_event(ack) for ack in acks]


def _cancel_not_answered(client_order_id: str, error: Exception) -> list[ev.Event]:
    if isinstance(error, OrderOutcomeUnknown):
        log.warning("cancel of %s: outcome unknown: %s", client_order_id, error)
        return [ev.OrderOutcomeUnknown(client_order_id, error.call, error.detail)]
    if isinstance(error, BrokerTimeout):
        log.warning("cancel of %s: outcome unknown: %s", client_order_id, error)
        return [ev.OrderOutcomeUnknown(client_order_id, error.call, str(error))]
    log.error("cancel of %s not sent: %s", client_order_id, error)
    return [ev.OrderCancelFailed(client_order_id, "UNREACHABLE", f"broker unreachable: {error}")]


def _cancel_answered(client_order_id: str, ack: CancelAck) -> list[ev.Event]:
    outcome = getattr(ack, "outcome", CancelOutcome.REQUESTED)  # None: an old adapter
    if outcome == CancelOutcome.NOT_FOUND:
        log.warning("cancel of %s: %s", client_order_id, NOT_FOUND_REASON)
        return [
            ev.OrderCancelFailed(
                client_order_id, str(outcome), _with_detail(NOT_FOUND_REASON, ack.reason)
            )
        ]
    if outcome == CancelOutcome.ALREADY_DONE:
        return [
            ev.OrderCancelFailed(
                client_order_id, str(outcome), _with_detail(ALREADY_DONE_REASON, ack.reason)
            )
        ]
    return []


async def fills_since(
    broker: Broker, account: str, after_execution_id: str | None, client_order_ids: Collection[str]
) -> list[Execution] | None:
    """The venue's fills of ``client_order_ids`` after ``after_execution_id``
    (oldest first); None when the venue did not answer (logged)."""
    try:
        executions = await broker.executions_since(account, after_execution_id)
    except (BrokerTimeout, ConnectionError) as error:
        log.warning("fills of %s since %s not read: %s", account, after_execution_id, error)
        return None
    return [e for e in executions if e.client_order_id in client_order_ids]


def _with_detail(reason: str, detail: str) -> str:
    return f"{reason} ({detail})" if detail else reason


def ack_event(ack: OrderAck) -> ev.Event:
    if ack.accepted and ack.broker_order_id:
        return ev.OrderAccepted(ack.client_order_id, ack.broker_order_id)
    return ev.OrderRejected(ack.client_order_id, ack.reason or "rejected")
