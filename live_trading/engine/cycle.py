"""Trading cycles: the engine's scheduled (and manual) look at every active
operation, apart from the bar-driven runners.

A cycle, for each operation with status ``active`` and a running engine:

1. fetches the price (the broker's quote when the engine trades on the
   broker's market data, else the close of the last bar the engine
   processed) and journals ``PRICE_EVENT``;
2. evaluates the open position's stop-loss / take-profit triggers
   (``TRIGGER_EVALUATED``) and the guardrails (``GUARDRAIL_EVALUATED``),
   see :mod:`live_trading.domain.cycle`;
3. when a trigger no working order holds, or the emergency stop-loss, calls
   for it, closes the position at market: ``ORDER_SUBMITTED`` and then the
   broker's ``ORDER_FILLED`` (the execution) and the position's update.

Every entry it makes carries the cycle's ``source``: ``worker`` for the
scheduler, ``api/manual`` for ``POST /v1/trading/cycle`` (with the user).
Bar-driven trading by the runners is journaled with source ``engine``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

from live_trading.data.alignment import close_time
from live_trading.domain import events as ev
from live_trading.domain.cycle import (
    FLATTEN,
    CyclePrice,
    evaluate_guardrails,
    evaluate_triggers,
)
from live_trading.domain.values import utc_now

from .errors import InvalidStateError, OperationNotFoundError
from .ports import ConnectionState
from .trading_engine import TradingEngine, _object_id

log = logging.getLogger("live_trading.cycle")

WORKER_SOURCE = "worker"
QUOTE_TIMEOUT_S = 10.0


class TradingCycles:
    """Runs cycles over the engine's operations, ``concurrency`` operations
    at a time (one cycle at a time)."""

    def __init__(
        self,
        engine: TradingEngine,
        *,
        quotes_from_broker: bool,
        max_position_size: float | None,
        concurrency: int = 32,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.engine = engine
        self.concurrency = concurrency
        self.quotes_from_broker = quotes_from_broker
        self.max_position_size = max_position_size
        self._lock = asyncio.Lock()

    async def run_cycle(self, source: str, user: str | None = None) -> dict[str, Any]:
        """One cycle over every active operation; returns what it did
        (``cycle_id``, ``source``, ``started_at``, ``finished_at``,
        ``operations``: one result each)."""
        async with self._lock:
            return await self._cycle(list(self.engine.runners), source, user)

    async def run_cycle_for_position(
        self, position_id: str, source: str, user: str | None = None
    ) -> dict[str, Any]:
        """One cycle over the operation holding the open position ``position_id``.

        Raises:
            OperationNotFoundError: no such position.
            InvalidStateError: the position is closed.
        """
        position = await self.engine.read_models.position(_object_id(position_id, "position"))
        if position is None:
            raise OperationNotFoundError(f"no position {position_id}")
        if not position.is_open:
            raise InvalidStateError(f"position {position_id} is closed: nothing to evaluate")
        async with self._lock:
            return await self._cycle([position.operation_id], source, user)

    async def _cycle(
        self, operation_ids: list[str], source: str, user: str | None
    ) -> dict[str, Any]:
        cycle_id = uuid.uuid4().hex[:12]
        started = utc_now()
        gate = asyncio.Semaphore(self.concurrency)

        async def one(operation_id: str) -> dict[str, Any]:
            async with gate:  # a busy operation holds one slot, not the whole cycle
                return await self._guarded(operation_id, cycle_id, source, user)

        results = list(await asyncio.gather(*(one(op) for op in operation_ids)))
        return {
            "cycle_id": cycle_id,
            "source": source,
            "started_at": started,
            "finished_at": utc_now(),
            "operations": results,
            "errors": sum(1 for r in results if r["status"] == "error"),
        }

    async def _guarded(
        self, operation_id: str, cycle_id: str, source: str, user: str | None
    ) -> dict[str, Any]:
        try:
            return await self._operation(operation_id, cycle_id, source, user)
        except Exception as error:  # noqa: BLE001 - one operation must not stop the rest
            log.exception("cycle %s: operation %s failed", cycle_id, operation_id)
            return {
                "operation_id": operation_id,
                "status": "error",
                "detail": f"{type(error).__name__}: {error}",
            }

    async def _operation(
        self, operation_id: str, cycle_id: str, source: str, user: str | None
    ) -> dict[str, Any]:
        runner = self.engine.runners.get(operation_id)
        state = await self.engine.journal.state(operation_id)
        result: dict[str, Any] = {"operation_id": operation_id, "asset": None, "status": "skipped"}
        if state.status != "active" or runner is None or runner.orders is None:
            result["detail"] = f"not trading (status {state.status})"
            return result
        asset = runner.asset.name
        result["asset"] = asset
        price = await self._price(runner, asset)
        if price is None:
            result["detail"] = "no price yet (no bar processed, no quote)"
            return result
        async with runner.lock:
            return {**result, **await self._evaluate(runner, price, cycle_id, source, user)}

    async def _evaluate(
        self,
        runner,
        price: tuple[CyclePrice, datetime, str],
        cycle_id: str,
        source: str,
        user: str | None,
    ) -> dict[str, Any]:
        quote, price_time, price_source = price
        journal = self.engine.journal
        state = await journal.state(runner.operation_id)
        if state.status != "active":
            return {"status": "skipped", "detail": f"not trading (status {state.status})"}
        trigger = evaluate_triggers(state, quote)
        connected = self.engine.deps.broker.connection_state is ConnectionState.CONNECTED
        checks, guard_action = evaluate_guardrails(
            state, quote, broker_connected=connected, max_position_size=self.max_position_size
        )
        events = [
            ev.PriceEvent(
                cycle_id,
                runner.asset.name,
                quote.last,
                price_time,
                price_source,
                quote.bid,
                quote.ask,
            ),
            ev.TriggerEvaluated(
                cycle_id,
                trigger.price,
                trigger.position_side,
                trigger.stop_loss,
                trigger.take_profit,
                trigger.triggered,
                trigger.action,
            ),
            ev.GuardrailEvaluated(cycle_id, checks, all(c["passed"] for c in checks), guard_action),
        ]
        records = await journal.record(runner.operation_id, events, source=source, user=user)
        actions = []
        if state.position is not None and FLATTEN in (trigger.action, guard_action):
            reason = (
                f"{trigger.triggered} level crossed with no working order"
                if trigger.action == FLATTEN
                else "emergency stop-loss guardrail"
            )
            await runner.orders.flatten(f"cycle: {reason}", source, user)
            await runner.settle(source)  # fills when the feed has ended
            actions.append(f"flatten: {reason}")
        return {
            "status": "done",
            "price": quote.last,
            "price_source": price_source,
            "triggered": trigger.triggered,
            "trigger_action": trigger.action,
            "guardrails_passed": all(c["passed"] for c in checks),
            "actions": actions,
            "sequence_numbers": [records[0].sequence_number, records[-1].sequence_number],
        }

    async def _price(self, runner, asset: str) -> tuple[CyclePrice, datetime, str] | None:
        """The broker's quote (when trading on broker data), else the last bar's close."""
        broker = self.engine.deps.broker
        get_quote = getattr(broker, "get_market_quote", None)  # brokers with market data
        if self.quotes_from_broker and get_quote is not None:
            try:
                quote = await asyncio.wait_for(get_quote(asset), QUOTE_TIMEOUT_S)
                return CyclePrice(quote.mid, quote.bid, quote.ask), quote.time, "broker_quote"
            except Exception as error:  # noqa: BLE001 - fall back to the last bar
                log.warning("quote for %s failed (%s); using the last bar", asset, error)
        bar = runner.last_bar
        if bar is None:
            return None
        return CyclePrice(bar.close), close_time(bar, runner.bar_size), "last_bar"
