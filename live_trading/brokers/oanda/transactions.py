"""The transaction feed of :class:`~.client.OANDABroker`: reports from
``GET /transactions/sinceid``, polled every ``config.poll_interval_s`` and
at once after each submit, cancel or modify.

* Exactly once, in order: each transaction's reports are delivered to the
  listener *before* it is marked seen and ``lastTransactionID`` moves past
  it; a failure in between means it is read again, never lost.
* Reports of an order whose submit or modify is still in flight are held
  back (the feed stops at that transaction until the call returns), so an
  ack always precedes its order's reports; the call itself never waits for
  the feed.
* A fill of an entry with held bracket children is delivered first; the
  children are placed afterwards, in the background (see :mod:`.brackets`).
* Watchdog: no complete answer for ``config.transaction_timeout_s`` (20 s)
  -> the HTTP client is replaced (RECONNECTING) and the feed catches up
  from the last transaction id it delivered. CONNECTED again only after a
  complete sync (see :meth:`TransactionFeed._resync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from live_trading.domain.orders import BrokerReport, OrderCancelled, OrderStatus
from live_trading.engine.ports import BrokerTimeout, ConnectionState

from . import parsing as p
from .state import OANDAState

log = logging.getLogger(__name__)

_CREATES = ("MARKET_ORDER", "LIMIT_ORDER", "STOP_ORDER", "STOP_LOSS_ORDER", "TAKE_PROFIT_ORDER")


class TransactionFeed(OANDAState):
    """Mixin of OANDABroker: the poller, its watchdog and its reports."""

    async def sync(self) -> None:
        """Read new transactions now and deliver their reports.

        Raises:
            ConnectionError, BrokerTimeout: OANDA did not answer completely.
        """
        async with self._sync_lock:
            for tx in await self._transactions_since(self._last_tx or "1"):
                tx_id = str(tx["id"])
                if tx_id in self._seen_tx:
                    self._last_tx = tx_id
                    continue
                if _ext_of(tx) in self._gated:
                    return  # its order's call has not returned yet: next time
                try:
                    reports = self._on_transaction(tx)
                except (KeyError, TypeError, ValueError):  # malformed: never block the feed
                    log.exception("OANDA transaction %s could not be read; skipped", tx_id)
                    reports = []
                await self._deliver(reports)
                self._seen_tx.add(tx_id)
                self._last_tx = tx_id

    async def _poll_loop(self) -> None:
        # A flag as well as the cancel: Python 3.11's wait_for can swallow a
        # cancellation that races with the wait's own completion.
        last_ok = time.monotonic()
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_s)
            self._wake.clear()
            if self._closing:
                return
            try:
                if self._state != ConnectionState.CONNECTED:
                    await self._resync()
                else:
                    await self.sync()
                last_ok = time.monotonic()
            except (ConnectionError, BrokerTimeout) as error:
                silent = time.monotonic() - last_ok
                self._set_state(ConnectionState.RECONNECTING, f"transaction feed failed: {error}")
                if silent >= self.config.transaction_timeout_s:
                    log.warning("OANDA transaction feed silent for %.0f s: reconnecting", silent)
                    await self._replace_client()
                    last_ok = time.monotonic()
                await asyncio.sleep(self.config.backoff_s(0))
            except Exception:
                log.exception("OANDA transaction poll failed")

    async def _resync(self) -> None:
        """Connected means synced: open orders, the transactions since the
        last one delivered and the open trades, each read completely; only
        then CONNECTED. Raises on any failure (the caller retries)."""
        await self._get_ok(self._acct("/pendingOrders"), call="connect")
        await self.sync()
        await self._get_ok(self._acct("/openTrades"), call="connect")
        self._set_state(ConnectionState.CONNECTED, f"synced up to transaction {self._last_tx}")

    def _on_transaction(self, tx: dict[str, Any]) -> list[BrokerReport]:
        kind = tx.get("type")
        ext = _ext_of(tx)
        tracked = self._orders.get(self._by_ext.get(ext, ""))
        if kind in _CREATES:
            if tracked is not None and tracked.status in (
                OrderStatus.PENDING,
                OrderStatus.SUBMITTED,
            ):
                tracked.broker_order_id = str(tx["id"])
                if tx.get("tradeID"):
                    tracked.trade_id = str(tx["tradeID"])
            return []
        if kind == "ORDER_CANCEL" and tracked is None and ext in self._cancel_requested:
            return [
                OrderCancelled(
                    self._cancel_requested.pop(ext),
                    str(tx["orderID"]),
                    str(tx.get("reason", "")),
                    p.parse_time(tx["time"]),
                )
            ]
        if (
            kind not in ("ORDER_FILL", "ORDER_CANCEL")
            or tracked is None
            or tracked.status == OrderStatus.REJECTED
        ):
            return []
        if kind == "ORDER_FILL":
            return self._on_fill(tracked, tx)
        return self._on_cancel(tracked, tx)

    def _on_fill(self, tracked: Any, tx: dict[str, Any]) -> list[BrokerReport]:
        tracked.status = OrderStatus.FILLED
        opened = tx.get("tradeOpened") or {}
        if opened.get("tradeID"):
            tracked.trade_id = str(opened["tradeID"])
        self._protect_later(tracked)
        return [p.fill_to_execution(tx, tracked.request.client_order_id, tracked.request.account)]

    def _on_cancel(self, tracked: Any, tx: dict[str, Any]) -> list[BrokerReport]:
        if (
            tx.get("reason") == "CLIENT_REQUEST_REPLACED"
            or str(tx.get("orderID")) != tracked.broker_order_id
        ):
            return []  # the old half of a replacement
        cid = tracked.request.client_order_id
        tracked.status = OrderStatus.CANCELLED
        moment = p.parse_time(tx["time"])
        reports: list[BrokerReport] = [
            OrderCancelled(cid, str(tx["orderID"]), str(tx.get("reason", "")), moment)
        ]
        for child in self._children(cid):
            if child.held:
                child.held = False
                child.status = OrderStatus.CANCELLED
                reports.append(
                    OrderCancelled(
                        child.request.client_order_id, None, "parent order cancelled", moment
                    )
                )
        return reports

    async def _deliver(self, reports: list[BrokerReport]) -> None:
        if self._listener is None:
            return
        for report in reports:
            try:
                await self._listener(report)
            except Exception:
                log.exception("report listener failed on %s", type(report).__name__)

    async def _transactions_since(
        self, start: str, call: str = "executions_since"
    ) -> list[dict[str, Any]]:
        """Every transaction after id ``start``, oldest first (paged)."""
        out: list[dict[str, Any]] = []
        cursor = start
        while True:
            _, body = await self._get_ok(
                self._acct("/transactions/sinceid"), call=call, params={"id": cursor}
            )
            found = body.get("transactions", [])
            out.extend(found)
            last = str(body.get("lastTransactionID", cursor))
            if not found or int(found[-1]["id"]) >= int(last):
                return out
            cursor = str(found[-1]["id"])


def _ext_of(tx: dict[str, Any]) -> str:
    """Our client id on a transaction: fills and cancels carry
    ``clientOrderID``, order creations ``clientExtensions.id``."""
    return tx.get("clientOrderID") or (tx.get("clientExtensions") or {}).get("id") or ""
