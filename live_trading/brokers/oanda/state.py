"""``OANDAState``: what the mixins of :class:`~.client.OANDABroker` share.

The attributes are set in ``OANDABroker.__init__``; the methods are defined by
one mixin and called by another. Declared here, once, so that each mixin is
type-checked against the broker it is part of (nothing here runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import BrokerReport, OrderAck, OrderRequest
from live_trading.domain.values import BarSize
from live_trading.engine.ports import ConnectionState, ReportListener

from .config import OANDAConfig
from .tracking import Tracked


class OANDAState:
    """Declarations only: the shared state and cross-mixin methods."""

    config: OANDAConfig
    bar_poll_interval_s: float
    on_connection_event: Callable[[str, ConnectionState], None] | None
    _client: httpx.AsyncClient | None
    _state: ConnectionState
    _listener: ReportListener | None
    _orders: dict[str, Tracked]  # client order id -> tracked order
    _by_ext: dict[str, str]  # OANDA client extension id -> client order id
    _accounts: set[str]
    _last_tx: str | None
    _seen_tx: set[str]
    _gated: set[str]  # ext ids whose submit/modify is in flight
    _cancel_requested: dict[str, str]  # ext id -> cid, untracked orders
    _specs: dict[str, InstrumentSpec]
    _units_precision: dict[str, int]
    _protect_tasks: set[asyncio.Task[Any]]
    _sync_lock: asyncio.Lock
    _wake: asyncio.Event
    _poller: asyncio.Task[Any] | None
    _bar_tasks: dict[tuple[str, BarSize], asyncio.Task[Any]]
    _closing: bool

    if TYPE_CHECKING:

        def _acct(self, path: str) -> str: ...
        def _require_connected(self) -> None: ...
        async def _call(
            self,
            method: str,
            path: str,
            *,
            call: str,
            idempotent: bool | None = None,
            **kwargs: Any,
        ) -> tuple[int, Any]: ...
        async def _get_ok(self, path: str, *, call: str, **kwargs: Any) -> tuple[int, Any]: ...
        async def _formats(self, asset: str) -> tuple[int, int]: ...
        def _ext_id(self, request: OrderRequest) -> str: ...
        def _track(self, request: OrderRequest, dependent_kind: str | None = None) -> Tracked: ...
        def _untrack(self, tracked: Tracked) -> None: ...
        async def _send_new(
            self, tracked: Tracked, body: dict[str, Any], call: str
        ) -> OrderAck: ...
        async def _submit_child(self, request: OrderRequest) -> OrderAck: ...
        async def _deliver(self, reports: list[BrokerReport]) -> None: ...
        async def _transactions_since(
            self, start: str, call: str = "executions_since"
        ) -> list[dict[str, Any]]: ...
        def _set_state(self, state: ConnectionState, reason: str) -> None: ...
        async def _replace_client(self) -> None: ...
        def _protect_later(self, parent: Tracked) -> None: ...
        def _children(self, parent_cid: str) -> list[Tracked]: ...
        async def instrument_spec(self, asset: str) -> InstrumentSpec: ...
