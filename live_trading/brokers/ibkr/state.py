"""``IBKRState``: what the mixins of :class:`~.client.IBKRBroker` share.

The attributes are set in ``IBKRBroker.__init__``; the methods are defined by
one mixin and called by another. Declared here, once, so that each mixin is
type-checked against the broker it is part of (nothing here runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ib_async import IB, Trade

from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import Execution, OrderRequest
from live_trading.engine.ports import ConnectionState, ReportListener

from .config import IBKRConfig


class IBKRState:
    """Declarations only: the shared state and cross-mixin methods."""

    config: IBKRConfig
    on_connection_event: Callable[[str, ConnectionState], None] | None
    _ib: IB
    _listener: ReportListener | None
    _state: ConnectionState
    _closing: bool
    _connecting: bool
    _hooked: bool
    _client_id_refused: bool
    _queue: asyncio.Queue[Any] | None
    _consumer: asyncio.Task[Any] | None
    _reconnect_task: asyncio.Task[Any] | None
    _restore_task: asyncio.Task[Any] | None
    _max_order_id: int  # highest IB orderId used or seen: never reused
    _known: dict[str, Execution]  # execId -> fill, arrival order
    _reported: set[str]  # execIds delivered to the listener
    _commissions: dict[str, float]  # execId -> commission (quote ccy)
    _requests: dict[str, OrderRequest]
    _broker_ids: dict[str, str]
    _cancel_reported: set[str]
    _submitting: dict[str, asyncio.Event]
    _bar_subs: dict[Any, Any]  # (asset, BarSize) -> bar subscription
    _qualified_contracts: dict[str, Any]  # asset -> Contract with conId
    _specs: dict[str, InstrumentSpec]  # asset -> InstrumentSpec
    bar_errors: dict[Any, str]  # (asset, BarSize) -> last IB error on its bars

    if TYPE_CHECKING:

        def _set_state(self, state: ConnectionState, reason: str) -> None: ...
        def _require_connected(self) -> None: ...
        def _resync(self, *, deliver: bool) -> None: ...
        def _resubscribe_bars(self) -> None: ...
        def _remember_broker_id(self, ref: str, trade: Trade) -> None: ...
        def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None: ...
        def _on_disconnected(self) -> None: ...
        def _on_request_error(self, req_id: int, code: int, message: str) -> None: ...
        def _trade_of(self, client_order_id: str) -> Trade | None: ...
        async def _working_trade(self, client_order_id: str, call: str) -> Trade | None: ...
        async def _find_open_at_venue(self, client_order_id: str, call: str) -> Trade | None: ...
        def _start_reports(self) -> None: ...
        async def _stop_reports(self) -> None: ...
        async def _close_bar_subscriptions(self) -> None: ...
