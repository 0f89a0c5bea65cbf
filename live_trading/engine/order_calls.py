"""Broker calls of the order manager, each turned into the events to journal.

What a call's outcome means for the journal:

* submit: an ack -> ORDER_ACCEPTED or ORDER_REJECTED (the venue's refusal);
  ``ConnectionError`` (certainly not sent) -> ORDER_REJECTED "broker
  unreachable"; ``OrderOutcomeUnknown`` or ``BrokerTimeout`` (sent, answer
  lost) -> ORDER_OUTCOME_UNKNOWN: the order stays in flight until
  reconciliation settles it from the venue's records. Never "rejected" for
  an order the venue may have taken.
* a bracket sent as one unit (:class:`~.ports.BracketBroker`): the same, for
  each of its three legs (a lost answer leaves all three in flight).
* cancel: REQUESTED -> nothing yet (the venue's ``OrderCancelled`` report
  follows); NOT_FOUND / ALREADY_DONE / not sent -> ORDER_CANCEL_FAILED with
  the reason; sent but answer lost -> ORDER_OUTCOME_UNKNOWN.
"""

from __future__ import annotations

import logging

from live_trading.domain import events as ev
from live_trading.domain.orders import CancelOutcome, OrderAck, OrderRequest

from .ports import BracketBroker, Broker, BrokerTimeout, OrderOutcomeUnknown

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


async def submit_bracket(broker: BracketBroker, legs: list[OrderRequest]) -> list[ev.Event]:
    """Send an entry and its stop-loss and take-profit as one unit; the
    events that record the outcome of each leg."""
    entry, stop_loss, take_profit = legs
    try:
        acks = await broker.submit_bracket(entry, stop_loss, take_profit)
    except (OrderOutcomeUnknown, BrokerTimeout) as error:
        log.warning("bracket %s: outcome unknown: %s", entry.client_order_id, error)
        detail = error.detail if isinstance(error, OrderOutcomeUnknown) else str(error)
        return [ev.OrderOutcomeUnknown(leg.client_order_id, "submit_bracket", detail)
                for leg in legs]
    except ConnectionError as error:
        log.error("bracket %s not sent: %s", entry.client_order_id, error)
        return [ack_event(OrderAck(leg.client_order_id, None, False,
                                   f"broker unreachable: {error}")) for leg in legs]
    return [ack_event(ack) for ack in acks]


async def cancel(broker: Broker, client_order_id: str) -> list[ev.Event]:
    """Ask the venue to cancel ``client_order_id``; the events to journal
    ([] when the cancel was taken: its report follows)."""
    try:
        ack = await broker.cancel_order(client_order_id)
    except OrderOutcomeUnknown as error:
        log.warning("cancel of %s: outcome unknown: %s", client_order_id, error)
        return [ev.OrderOutcomeUnknown(client_order_id, error.call, error.detail)]
    except BrokerTimeout as error:
        log.warning("cancel of %s: outcome unknown: %s", client_order_id, error)
        return [ev.OrderOutcomeUnknown(client_order_id, error.call, str(error))]
    except ConnectionError as error:
        log.error("cancel of %s not sent: %s", client_order_id, error)
        return [ev.OrderCancelFailed(client_order_id, "UNREACHABLE",
                                     f"broker unreachable: {error}")]
    outcome = getattr(ack, "outcome", CancelOutcome.REQUESTED)  # None: an old adapter
    if outcome == CancelOutcome.NOT_FOUND:
        log.warning("cancel of %s: %s", client_order_id, NOT_FOUND_REASON)
        return [ev.OrderCancelFailed(client_order_id, str(outcome),
                                     _with_detail(NOT_FOUND_REASON, ack.reason))]
    if outcome == CancelOutcome.ALREADY_DONE:
        return [ev.OrderCancelFailed(client_order_id, str(outcome),
                                     _with_detail(ALREADY_DONE_REASON, ack.reason))]
    return []


def _with_detail(reason: str, detail: str) -> str:
    return f"{reason} ({detail})" if detail else reason


def ack_event(ack: OrderAck) -> ev.Event:
    if ack.accepted and ack.broker_order_id:
        return ev.OrderAccepted(ack.client_order_id, ack.broker_order_id)
    return ev.OrderRejected(ack.client_order_id, ack.reason or "rejected")
