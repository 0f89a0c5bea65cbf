"""The recovery report's parts: what recovery plans for one operation.

Built by :class:`~.recovery.RecoveryService` for ``live-trading recover``
(and its ``--dry-run``, where the report is the plan) and kept in
``recovery_reports``. Plain dicts of JSON-friendly values: quantities in base
units, prices in quote currency.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from live_trading.domain.projection import OperationState
from live_trading.domain.recovery import (
    BrokerView,
    ReconciliationPlan,
    decide_position,
    journal_position,
)


def plan_report(
    state: OperationState, view: BrokerView, plan: ReconciliationPlan
) -> dict[str, Any]:
    """What reconciling ``state`` with the broker's ``view`` will do: the
    orders in flight, the fills and orders to adopt, cancel or reject, and
    both positions."""
    spec = state.operation or {}
    return {
        "operation_id": state.operation_id,
        "asset": spec.get("asset"),
        "status": state.status,
        "mode": spec.get("crash_recovery_mode"),
        "last_sequence": state.last_sequence,
        "in_flight": [
            {
                "client_order_id": o["client_order_id"],
                "role": o["order_role"],
                "status": o["status"],
            }
            for o in state.working_orders()
        ],
        "fills_to_adopt": [e.execution_id for e in plan.adopt_fills],
        "unknown_fills": [e.execution_id for e in plan.foreign_fills],
        "orders_to_adopt": plan.adopt_orders,
        "orders_to_cancel": plan.cancel_in_journal,
        "orders_to_reject": plan.reject_in_journal,
        "broker_orders_to_cancel": plan.cancel_at_broker,
        "journal_position": journal_position(state),
        "broker_position": view.position,
    }


def position_plan(
    state: OperationState, mark: float | None, spec: dict[str, Any]
) -> list[dict[str, Any]]:
    """The crash-recovery decision for the open position at ``mark`` (the
    last primary bar's close; None: unknown), or [] when there is nothing to decide."""
    decision = decide_position(
        spec["crash_recovery_mode"], state, mark, spec["emergency_stop_loss_pct"]
    )
    if decision is None or state.position is None:
        return []
    doc = state.position.doc
    return [
        {
            "position_id": doc["_id"],
            "side": state.position.side.value,
            "quantity": state.position.open_quantity,
            "entry_price": doc["entry_price"],
            **asdict(decision),
        }
    ]
