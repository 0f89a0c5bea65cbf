"""The trading engine: the one facade the API and the CLI drive.

It owns one :class:`OperationRunner` per operation that is not closed,
routes broker reports to them by client order id, and carries out the
commands of users (create, update, pause, resume, close, close a position).
Every command is journaled with its ``source`` and ``user``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from live_trading.config import BrokerType, Settings
from live_trading.domain import events as ev
from live_trading.domain.orders import BrokerReport
from live_trading.journal.service import JournalService, UnknownOperationError

from .errors import InvalidStateError, OperationNotFoundError
from .instruments import check_quantity
from .kill_switch import KillSwitch, KillSwitchRun
from .monitor import EngineMonitor
from .order_manager import operation_of
from .ports import BatchReporter
from .read_models import ReadModels
from .runner import OperationRunner, RunnerDeps
from .specs import OperationCreate, OperationUpdate, resolve_spec, updated_spec

log = logging.getLogger("live_trading.engine")

RUNNING_STATUSES = ("active", "paused", "closing")


def _object_id(value: str, what: str) -> str:
    try:
        return str(ObjectId(value))
    except (InvalidId, TypeError):
        raise OperationNotFoundError(f"no {what} {value!r}") from None


class TradingEngine:
    def __init__(self, deps: RunnerDeps, settings: Settings, *, read_models: ReadModels) -> None:
        """``read_models``: what the engine queries of the read models (the
        open operations at start, a position by id)."""
        self.deps = deps
        self.settings = settings
        self.journal: JournalService = deps.journal
        self.read_models = read_models
        self.runners: dict[str, OperationRunner] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        # async (operation_id) -> report; set by the composition root
        self.reconciler: Callable[[str], Awaitable[dict[str, Any]]] | None = None
        self.uses_replay = True  # market data from replay files (else from the broker)
        self._background: set[asyncio.Task] = set()
        self._lost_connection = False
        self._stopping = False  # set by stop(): the broker's own goodbye is not journaled
        self._connection_lock = asyncio.Lock()
        self.monitor: EngineMonitor | None = None  # set by the composition root
        self._monitor_task: asyncio.Task | None = None
        self.kill_switch_runs = KillSwitch(self, concurrency=settings.kill_switch_concurrency)
        deps.broker.set_listener(self._route)
        if isinstance(deps.broker, BatchReporter):  # a bar's reports in one append
            deps.broker.set_batch_listener(self._route_many)

    async def start(self) -> None:
        """Start a runner for every open operation (the broker is connected
        and recovery has run: see :meth:`Services.start`)."""
        self._stopping = False
        for operation_id in await self.read_models.operation_ids(RUNNING_STATUSES):
            self._launch(operation_id)

    def on_connection_event(self, reason: str, state: str) -> None:
        """Broker adapter hook: journal the change on every running operation;
        after a reconnect, reconcile each of them with the broker. Ignored
        once :meth:`stop` began (the store may already be closed)."""
        if self._stopping:
            return
        task = asyncio.get_running_loop().create_task(self._connection_changed(reason, state))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _connection_changed(self, reason: str, state: str) -> None:
        """Journal the change on every running operation (changes one at a
        time, in the order reported); once CONNECTED again (the adapter's
        sync complete), reconcile each operation with the broker."""
        async with self._connection_lock:
            reconnected = state == "CONNECTED" and self._lost_connection
            self._lost_connection = state != "CONNECTED"
            for operation_id in list(self.runners):
                if (await self.journal.state(operation_id)).status not in RUNNING_STATUSES:
                    continue
                await self.journal.record(
                    operation_id,
                    [ev.BrokerConnectionChanged(self.deps.broker.name, str(state), reason)],
                    source="engine",
                )
                if reconnected:
                    await self._reconcile(operation_id)

    async def _reconcile(self, operation_id: str) -> None:
        if self.monitor is not None:
            await self.monitor.reconcile(operation_id)  # under the runner's lock
        elif self.reconciler is not None:
            await self.reconciler(operation_id)

    def start_monitor(self) -> None:
        """Run the monitor's periodic checks until :meth:`stop`."""
        if self.monitor is not None and self._monitor_task is None:
            self._monitor_task = asyncio.create_task(self.monitor.run(), name="engine-monitor")

    async def stop(self) -> None:
        """Cancel the runners, pending connection-change handlers and a
        kill-switch press in progress, then disconnect the broker."""
        self._stopping = True
        pending = [*self.tasks.values(), *self._background]
        if (press := self.kill_switch_runs.running_task()) is not None:
            pending.append(press)  # its operations' work stops with the engine
        if self._monitor_task is not None:
            pending.append(self._monitor_task)
            self._monitor_task = None
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self.tasks.clear()
        await self.deps.broker.disconnect()

    async def wait_idle(self) -> None:
        """Wait until every runner's feed has ended (for replays and tests)."""
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def last_price(self, operation_id: str) -> float | None:
        """Close of the last bar the operation's runner saw (quote currency)."""
        runner = self.runners.get(operation_id)
        return runner.last_bar.close if runner and runner.last_bar else None

    def _launch(self, operation_id: str) -> None:
        runner = OperationRunner(operation_id, self.deps)
        self.runners[operation_id] = runner
        self.tasks[operation_id] = asyncio.create_task(
            runner.run(), name=f"operation-{operation_id}"
        )

    async def _route(self, report: BrokerReport) -> None:
        operation_id = operation_of(report.client_order_id)
        runner = self.runners.get(operation_id or "")
        if runner is None or runner.orders is None:
            log.warning("broker report for %s has no runner", report.client_order_id)
            return
        await runner.orders.on_report(report)

    async def _route_many(self, reports: list[BrokerReport]) -> None:
        """Reports of one broker call, each operation's in one list, in order."""
        grouped: dict[str, list[BrokerReport]] = {}
        for report in reports:
            grouped.setdefault(operation_of(report.client_order_id) or "", []).append(report)
        for operation_id, own in grouped.items():
            runner = self.runners.get(operation_id)
            if runner is None or runner.orders is None:
                log.warning("broker reports for %s have no runner", operation_id or "?")
                continue
            await runner.orders.on_reports(own)

    async def _state(self, operation_id: str):
        operation_id = _object_id(operation_id, "operation")
        try:
            return await self.journal.state(operation_id)
        except UnknownOperationError:
            raise OperationNotFoundError(f"no operation {operation_id}") from None

    async def create_operation(
        self, body: OperationCreate, *, source: str, user: str | None = None
    ) -> str:
        """Validate, journal OPERATION_CREATED and start trading it.

        Raises:
            InvalidSpecError: a field is invalid (``quantity`` below the
                instrument's minimum order size too); nothing is journaled.
        """
        replay_dir = self.settings.resolved_replay_dir() if self.uses_replay else None
        simulation = self.settings.mode == "simulation"  # orders go to the simulator
        spec = resolve_spec(
            body,
            self.settings.risk_management,
            replay_dir,
            BrokerType.PAPER if simulation else self.settings.broker_type,
            self.settings.live_account and not simulation,
        )
        await check_quantity(self.deps.broker, spec["asset"], float(spec["quantity"]))
        operation_id = str(ObjectId())
        await self.journal.record(
            operation_id, [ev.OperationCreated(spec)], source=source, user=user, new_operation=True
        )
        self._launch(operation_id)
        return operation_id

    async def update_operation(
        self, operation_id: str, body: OperationUpdate, *, source: str, user: str | None = None
    ) -> dict:
        """Change settings; returns the changed fields (may be empty)."""
        state = await self._state(operation_id)
        if state.status == "closed":
            raise InvalidStateError("a closed operation cannot be changed")
        changes = updated_spec(state.operation, body, self.settings.risk_management)
        if "quantity" in changes:
            await check_quantity(
                self.deps.broker, state.operation["asset"], float(changes["quantity"])
            )
        if changes:
            await self.journal.record(
                state.operation_id, [ev.OperationUpdated(changes)], source=source, user=user
            )
        return changes

    @contextlib.asynccontextmanager
    async def _decision_boundary(self, operation_id: str) -> AsyncIterator[None]:
        """Hold the operation's runner lock (if it runs): a user's command
        waits for a decision in progress and takes effect between two."""
        runner = self.runners.get(operation_id)
        if runner is None:
            yield
            return
        async with runner.lock:
            yield

    async def pause(self, operation_id: str, *, source: str, user: str | None = None) -> None:
        """Stop opening positions (at the next decision boundary).

        Raises:
            OperationNotFoundError: no such operation.
            InvalidStateError: the operation is not active.
        """
        operation_id = _object_id(operation_id, "operation")
        async with self._decision_boundary(operation_id):
            state = await self._state(operation_id)
            if state.status != "active":
                raise InvalidStateError(
                    f"only an active operation can be paused (status: {state.status})"
                )
            await self.journal.record(
                state.operation_id, [ev.OperationPaused("paused")], source=source, user=user
            )

    async def resume(self, operation_id: str, *, source: str, user: str | None = None) -> None:
        """Trade again (at the next decision boundary).

        Raises:
            OperationNotFoundError: no such operation.
            InvalidStateError: the operation is neither paused nor in error.
        """
        operation_id = _object_id(operation_id, "operation")
        async with self._decision_boundary(operation_id):
            state = await self._state(operation_id)
            if state.status not in ("paused", "error"):
                raise InvalidStateError(
                    f"only a paused operation can be resumed (status: {state.status})"
                )
            await self.journal.record(
                state.operation_id, [ev.OperationResumed("resumed")], source=source, user=user
            )
        if state.operation_id not in self.tasks or self.tasks[state.operation_id].done():
            if self.runners.get(state.operation_id) is None or state.status == "error":
                self._launch(state.operation_id)

    async def close(self, operation_id: str, *, source: str, user: str | None = None) -> None:
        """Close an operation: flatten its position, then mark it closed."""
        state = await self._state(operation_id)
        if state.status == "closed":
            return
        runner = self.runners.get(state.operation_id)
        if runner is not None and runner.orders is not None:
            await runner.close(source, user)
            return
        if state.position is not None or state.working_orders():
            raise InvalidStateError("the operation has a position but no running engine")
        await self.journal.record(
            state.operation_id,
            [ev.OperationCloseRequested("close requested"), ev.OperationClosed("flat")],
            source=source,
            user=user,
        )

    async def kill_switch(
        self, *, source: str, user: str | None = None
    ) -> tuple[KillSwitchRun, bool]:
        """Flatten every position and pause every operation, concurrently;
        returns ``(run, joined)`` (see :class:`.kill_switch.KillSwitch`: a
        press while one runs joins it and journals nothing)."""
        return await self.kill_switch_runs.press(source=source, user=user)

    async def close_position(
        self, position_id: str, *, source: str, user: str | None = None
    ) -> str:
        """Close an open position at market; returns its operation id."""
        position = await self.read_models.position(_object_id(position_id, "position"))
        if position is None:
            raise OperationNotFoundError(f"no position {position_id}")
        if not position.is_open:
            raise InvalidStateError(f"position {position_id} is already closed")
        runner = self.runners.get(position.operation_id)
        if runner is None or runner.orders is None:
            raise InvalidStateError("the position's operation has no running engine")
        await runner.close_position(position.position_id, source, user)
        return position.operation_id
