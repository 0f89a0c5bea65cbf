"""The transaction feed of :class:`~.client.OANDABroker`: reports from
``GET /transactions/sinceid``, and the fills and positions they make."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from live_trading.domain.orders import BrokerReport, Execution, OrderCancelled, OrderStatus
from live_trading.domain.values import Side
from live_trading.engine.ports import ConnectionState

from . import parsing as p
from .rest import prefix_of

log = logging.getLogger(__name__)

FLAT_EPSILON = 1e-9


class TransactionFeed:
    """Mixin of OANDABroker: the poller and the queries built on transactions."""

    async def sync(self) -> None:
        """Read new transactions now and deliver their reports."""
        await self._deliver(await self._collect())

    async def _poll_loop(self) -> None:
        # A flag as well as the cancel: Python 3.11's wait_for can swallow a
        # cancellation that races with the wait's own completion.
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval_s)
            self._wake.clear()
            if self._closing:
                return
            try:
                reports = await self._collect()
            except ConnectionError as error:
                if self._state == ConnectionState.CONNECTED:
                    log.warning("OANDA unreachable (%s); retrying", error)
                self._state = ConnectionState.RECONNECTING
                continue
            except Exception:
                log.exception("OANDA transaction poll failed")
                continue
            self._state = ConnectionState.CONNECTED
            await self._deliver(reports)

    async def _collect(self) -> list[BrokerReport]:
        async with self._sync_lock:
            reports: list[BrokerReport] = []
            for tx in await self._transactions_since(self._last_tx or "1"):
                tx_id = str(tx["id"])
                self._last_tx = tx_id
                if tx_id in self._seen_tx:
                    continue
                self._seen_tx.add(tx_id)
                reports.extend(await self._on_transaction(tx))
            return reports

    async def _on_transaction(self, tx: dict[str, Any]) -> list[BrokerReport]:
        kind = tx.get("type")
        if kind in ("STOP_LOSS_ORDER", "TAKE_PROFIT_ORDER"):
            ext = (tx.get("clientExtensions") or {}).get("id")
            tracked = self._orders.get(self._by_ext.get(ext or "", ""))
            if tracked is not None:
                tracked.broker_order_id = str(tx["id"])
                tracked.trade_id = str(tx.get("tradeID"))
                tracked.status = OrderStatus.SUBMITTED
            return []
        if kind not in ("ORDER_FILL", "ORDER_CANCEL"):
            return []
        tracked = self._orders.get(self._by_ext.get(tx.get("clientOrderID") or "", ""))
        if tracked is None or tracked.status == OrderStatus.REJECTED:
            return []
        cid = tracked.request.client_order_id
        if kind == "ORDER_FILL":
            tracked.status = OrderStatus.FILLED
            opened = tx.get("tradeOpened") or {}
            if opened.get("tradeID"):
                tracked.trade_id = str(opened["tradeID"])
            reports: list[BrokerReport] = [
                p.fill_to_execution(tx, cid, tracked.request.account)]
            reports.extend(await self._release_children(tracked))
            return reports
        if tx.get("reason") == "CLIENT_REQUEST_REPLACED" \
                or str(tx.get("orderID")) != tracked.broker_order_id:
            return []  # the old half of a replacement
        tracked.status = OrderStatus.CANCELLED
        time = p.parse_time(tx["time"])
        reports = [OrderCancelled(cid, str(tx["orderID"]), str(tx.get("reason", "")), time)]
        for child in self._children(cid):
            if child.held:
                child.held = False
                child.status = OrderStatus.CANCELLED
                reports.append(OrderCancelled(child.request.client_order_id, None,
                                              "parent order cancelled", time))
        return reports

    async def _deliver(self, reports: list[BrokerReport]) -> None:
        if self._listener is None:
            return
        for report in reports:
            try:
                await self._listener(report)
            except Exception:
                log.exception("report listener failed on %s", type(report).__name__)

    async def _transactions_since(self, start: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = start
        while True:
            _, body = await self._get_ok(self._acct("/transactions/sinceid"),
                                         params={"id": cursor})
            found = body.get("transactions", [])
            out.extend(found)
            last = str(body.get("lastTransactionID", cursor))
            if not found or int(found[-1]["id"]) >= int(last):
                return out
            cursor = str(found[-1]["id"])

    async def executions(self, account: str) -> list[Execution]:
        """Fills of ``account`` since ``config.first_transaction_id``."""
        return await self.executions_since(account, None)

    async def executions_since(self, account: str, after_execution_id: str | None
                               ) -> list[Execution]:
        """Fills of ``account`` (``ORDER_FILL`` transactions of its orders)
        after the transaction ``after_execution_id``; from
        ``config.first_transaction_id`` when it is None or not an id."""
        self._accounts.add(account)
        start = after_execution_id if after_execution_id and after_execution_id.isdigit() \
            else self.config.first_transaction_id
        prefix = prefix_of(account)
        out = []
        for tx in await self._transactions_since(start):
            ext = tx.get("clientOrderID") or ""
            if tx.get("type") == "ORDER_FILL" and ext.startswith(prefix):
                out.append(p.fill_to_execution(tx, self._by_ext.get(ext, ext[len(prefix):]),
                                               account))
        return out

    async def broker_order_id(self, client_order_id: str) -> str | None:
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            return tracked.broker_order_id
        for account in sorted(self._accounts):
            ext = client_order_id if client_order_id.startswith(prefix_of(account)) \
                else prefix_of(account) + client_order_id
            status, body = await self._call("GET", self._acct(f"/orders/@{ext}"))
            if status == 200:
                return str(body["order"]["id"])
        return None

    async def positions(self, account: str) -> dict[str, float]:
        """Net signed units per asset from ``account``'s fills (OANDA's own
        positions mix every user of the shared account: see
        :meth:`account_positions`)."""
        net: dict[str, float] = {}
        for fill in await self.executions(account):
            signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
            net[fill.asset] = net.get(fill.asset, 0.0) + signed
        return {a: q for a, q in net.items() if abs(q) > FLAT_EPSILON}

    async def account_positions(self) -> dict[str, float]:
        """Net signed units per asset of the whole OANDA account (open trades)."""
        _, body = await self._get_ok(self._acct("/openTrades"))
        net: dict[str, float] = {}
        for trade in body.get("trades", []):
            asset = p.to_asset(trade["instrument"])
            net[asset] = net.get(asset, 0.0) + p.to_float(trade["currentUnits"])
        return {a: q for a, q in net.items() if abs(q) > FLAT_EPSILON}

