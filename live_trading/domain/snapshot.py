"""Snapshots of :class:`OperationState`, for projection checkpoints.

A checkpoint stores the state folded up to a sequence number, so loading an
operation reads the checkpoint and only the journal entries after it, not
the whole journal. ``state_from_snapshot(state_to_snapshot(s))`` equals ``s``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .projection import OpenPosition, OperationState
from .values import PositionSide


def state_to_snapshot(state: OperationState) -> dict[str, Any]:
    """A plain (BSON-encodable) dict of ``state``."""
    position = state.position
    return {
        "operation_id": state.operation_id,
        "last_sequence": state.last_sequence,
        "operation": state.operation,
        "orders": list(state.orders.values()),
        "position": None
        if position is None
        else {
            "doc": position.doc,
            "side": position.side.value,
            "entry_transaction_id": position.entry_transaction_id,
            "entry_quantity": position.entry_quantity,
            "entry_commission": position.entry_commission,
            "allocated_commission": position.allocated_commission,
        },
        "execution_ids": sorted(state.execution_ids),
        "last_execution_id": state.last_execution_id,
        "last_bar_time": state.last_bar_time,
        "rejected_data_files": sorted(state.rejected_data_files),
        "pnl_day": state.pnl_day,
        "pnl_today": state.pnl_today,
        "entries_blocked_day": state.entries_blocked_day,
        "stale_bar_sizes": sorted(state.stale_bar_sizes),
        "fills": [{"execution_id": k, **v} for k, v in state.fills.items()],
        "recent_docs": [{"key": k, "doc": v} for k, v in state.recent_docs.items()],
    }


def state_from_snapshot(snapshot: dict[str, Any]) -> OperationState:
    position = snapshot.get("position")
    return OperationState(
        operation_id=snapshot["operation_id"],
        last_sequence=snapshot["last_sequence"],
        operation=dict(snapshot["operation"]) if snapshot.get("operation") else None,
        orders={o["client_order_id"]: dict(o) for o in snapshot.get("orders", [])},
        position=None
        if position is None
        else OpenPosition(
            doc=dict(position["doc"]),
            side=PositionSide(position["side"]),
            entry_transaction_id=position["entry_transaction_id"],
            entry_quantity=position["entry_quantity"],
            entry_commission=position["entry_commission"],
            allocated_commission=position["allocated_commission"],
        ),
        execution_ids=set(snapshot.get("execution_ids", [])),
        last_execution_id=snapshot.get("last_execution_id"),
        last_bar_time=snapshot.get("last_bar_time"),
        rejected_data_files=set(snapshot.get("rejected_data_files", [])),
        pnl_day=snapshot.get("pnl_day"),
        pnl_today=snapshot.get("pnl_today", 0.0),
        entries_blocked_day=snapshot.get("entries_blocked_day"),
        stale_bar_sizes=set(snapshot.get("stale_bar_sizes", [])),
        fills=OrderedDict((f["execution_id"], _fill(f)) for f in snapshot.get("fills", [])),
        recent_docs={d["key"]: dict(d["doc"]) for d in snapshot.get("recent_docs", [])},
    )


def _fill(item: dict[str, Any]) -> dict[str, Any]:
    fill = {k: v for k, v in item.items() if k != "execution_id"}
    fill["parts"] = [dict(p) for p in fill.get("parts", [])]
    return fill
