"""Connection of :class:`~.client.IBKRBroker`: connect, sync, reconnect.

*Connected means synced.* The state becomes CONNECTED only once the socket
handshake and the sync (positions, open orders, completed orders, the
day's executions) have all been answered completely: ``connectAsync`` is
called with ``raiseSyncErrors=True`` and the whole under
``connect_timeout_s``. A partial sync (a request timed out) keeps the state
RECONNECTING, is reported through ``on_connection_event`` (the engine
journals it) and is retried with ``reconnect_backoff_s``.

* Socket loss: RECONNECTING, then reconnect + sync with backoff; fills made
  while away (in the sync's executions) are delivered, each once.
* IB 1100 (IB lost its link to its servers, socket still up): RECONNECTING;
  1101 / 1102 (restored): executions and open orders are requested again
  (fills during the gap were never pushed) and only then CONNECTED; after
  1101 ("data lost") real-time bar subscriptions are renewed.
* IB 326 (client id in use): the connection fails with a message naming
  the ``client_id`` setting.
* Order ids: TWS's ``nextValidId`` may roll back after the nightly restart;
  the adapter never hands out an id at or below the highest it has used
  or seen (``_max_order_id``); orders are matched by ``orderRef`` anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from live_trading.engine.ports import BrokerTimeout, ConnectionState

from .deadlines import within
from .state import IBKRState

log = logging.getLogger(__name__)

CLIENT_ID_IN_USE = 326
LINK_LOST, LINK_RESTORED_DATA_LOST, LINK_RESTORED = 1100, 1101, 1102


class PartialSync(ConnectionError):
    """The socket is up but part of the start-up sync got no answer."""


class ClientIdInUse(ConnectionError):
    """TWS refused the connection: another API client uses this client id."""


class ConnectionManager(IBKRState):
    """Mixin of IBKRBroker (uses its ``_ib``, ``config``, ``_set_state``)."""

    def _backoff(self, attempt: int) -> float:
        backoff = self.config.reconnect_backoff_s
        return backoff[min(attempt, len(backoff) - 1)]

    async def _open(self) -> None:
        """Handshake + complete sync, or raise (PartialSync, ClientIdInUse,
        BrokerTimeout, OSError, ConnectionError); never leaves a half-open
        connection behind."""
        c = self.config
        self._client_id_refused = False
        try:
            await within(
                "connect",
                self._ib.connectAsync(
                    c.host,
                    c.port,
                    clientId=c.client_id,
                    timeout=c.request_timeout_s,
                    account=c.account or "",
                    raiseSyncErrors=True,
                ),
                c.connect_timeout_s,
            )
        except BaseException as error:
            self._ib.disconnect()
            raise self._explain(error) from error
        self._ib.client.updateReqId(self._max_order_id + 1)  # ids never roll back

    def _explain(self, error: BaseException) -> BaseException:
        if self._client_id_refused:
            return ClientIdInUse(
                f"IB error 326: client id {self.config.client_id} is already in use by "
                f"another API client of {self.config.host}:{self.config.port}; set "
                "IBKR_CLIENT_ID (IBKRConfig.client_id) to an id no other client uses"
            )
        if isinstance(error, ConnectionError) and error.args and isinstance(error.args[0], list):
            return PartialSync("partial sync: " + "; ".join(map(str, error.args[0])))
        return error

    async def connect(self) -> None:
        """Connect and synchronise (see the module doc). Fills IB already has
        are recorded (see ``executions``) but not delivered: recovery reads
        them.

        Raises:
            ConnectionError: TWS / Gateway cannot be reached, refused the
                client id, or did not complete the sync in
                ``connect_attempts`` tries.
        """
        self._closing = False
        self._start_reports()
        self._set_state(ConnectionState.CONNECTING, "connect")
        self._connecting = True
        try:
            await self._connect_attempts()
        finally:
            self._connecting = False
        self._set_state(ConnectionState.CONNECTED, "connected and synced")
        self._resync(deliver=False)

    async def _connect_attempts(self) -> None:
        attempts = max(1, self.config.connect_attempts)
        for attempt in range(attempts):
            try:
                await self._open()
                break
            except PartialSync as error:
                self._set_state(ConnectionState.RECONNECTING, f"{error} (attempt {attempt + 1})")
                if attempt + 1 < attempts:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                self._fail_connect(error)
            except (BrokerTimeout, OSError, ConnectionError) as error:
                self._fail_connect(error)

    def _fail_connect(self, error: BaseException):
        self._set_state(ConnectionState.DISCONNECTED, f"connect failed: {error}")
        raise ConnectionError(
            f"cannot connect to IB at {self.config.host}:{self.config.port}: {error}"
        ) from error

    async def disconnect(self) -> None:
        self._closing = True
        for task in (self._reconnect_task, self._restore_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._reconnect_task = self._restore_task = None
        await self._close_bar_subscriptions()
        self._ib.disconnect()
        await self._stop_reports()
        self._set_state(ConnectionState.DISCONNECTED, "disconnect requested")

    def _on_disconnected(self) -> None:
        if self._closing or self._connecting:
            return
        if self._reconnect_task is not None and not self._reconnect_task.done():
            return  # a reconnect attempt's own failure
        self._start_reconnect("socket to TWS/Gateway lost")

    def _start_reconnect(self, reason: str) -> None:
        self._set_state(ConnectionState.RECONNECTING, reason)
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(
                self._reconnect_loop(), name="ibkr-reconnect"
            )

    async def _reconnect_loop(self) -> None:
        attempt = 0
        while not self._closing:
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1
            try:
                await self._open()
            except Exception as error:  # noqa: BLE001 - keep trying
                self._set_state(
                    ConnectionState.RECONNECTING, f"reconnect attempt {attempt} failed: {error}"
                )
                continue
            self._set_state(
                ConnectionState.CONNECTED, f"reconnected and synced after {attempt} attempt(s)"
            )
            self._resync(deliver=True)
            self._resubscribe_bars()
            return

    def _on_error(self, req_id: int, code: int, message: str, contract) -> None:
        if code == CLIENT_ID_IN_USE:
            self._client_id_refused = True
            log.error("IB 326: client id %s in use", self.config.client_id)
        elif code == LINK_LOST:
            self._set_state(ConnectionState.RECONNECTING, f"IB {code}: {message}")
        elif code in (LINK_RESTORED_DATA_LOST, LINK_RESTORED):
            if self._restore_task is None or self._restore_task.done():
                self._restore_task = asyncio.get_running_loop().create_task(
                    self._restore_link(code, message), name="ibkr-restore"
                )
        else:
            self._on_request_error(req_id, code, message)

    async def _restore_link(self, code: int, message: str) -> None:
        """After 1101/1102: re-read executions and open orders, then CONNECTED."""
        attempt = 0
        timeout = self.config.request_timeout_s
        while not self._closing and self._ib.isConnected():
            try:
                await within("executions", self._ib.reqExecutionsAsync(), timeout)
                await within("open_orders", self._ib.reqOpenOrdersAsync(), timeout)
            except Exception as error:  # noqa: BLE001 - stays RECONNECTING, retried
                self._set_state(
                    ConnectionState.RECONNECTING, f"IB {code}: re-sync failed ({error}), retrying"
                )
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            self._set_state(
                ConnectionState.CONNECTED,
                f"IB {code}: {message}; executions and open orders re-read",
            )
            self._resync(deliver=True)
            if code == LINK_RESTORED_DATA_LOST:
                self._resubscribe_bars()
            return
