"""Queries of :class:`~.client.OANDABroker` on the venue's own records:
working orders, fills (transactions), positions, broker ids, instrument
specifications; and closing positions. These are what reconciliation
settles an order of unknown outcome with."""

from __future__ import annotations

import logging
from typing import Any

from live_trading.domain.instruments import InstrumentSpec
from live_trading.domain.orders import Execution, OrderRequest, OrderStatus
from live_trading.domain.values import Side

from . import parsing as p
from .rest import AnswerLost, prefix_of
from .state import OANDAState
from .tracking import request_from_pending

log = logging.getLogger(__name__)

FLAT_EPSILON = 1e-9


class VenueQueries(OANDAState):
    """Mixin of OANDABroker."""

    async def open_orders(self, account: str) -> list[OrderRequest]:
        """Working orders of ``account`` at OANDA (pending orders with its
        client id prefix) plus bracket children held here."""
        self._accounts.add(account)
        _, body = await self._get_ok(self._acct("/pendingOrders"), call="open_orders")
        prefix = prefix_of(account)
        trades: dict[str, dict[str, Any]] | None = None
        out: list[OrderRequest] = []
        for order in body.get("orders", []):
            ext = (order.get("clientExtensions") or {}).get("id") or ""
            if not ext.startswith(prefix):
                continue
            cid = self._by_ext.get(ext, ext)
            tracked = self._orders.get(cid)
            if tracked is not None:
                out.append(tracked.request)
                continue
            if order["type"] in ("STOP_LOSS", "TAKE_PROFIT") and trades is None:
                _, open_body = await self._get_ok(self._acct("/openTrades"), call="open_orders")
                trades = {t["id"]: t for t in open_body.get("trades", [])}
            request = request_from_pending(order, cid, account, trades or {})
            if request is not None:
                out.append(request)
        out.extend(
            t.request
            for t in self._orders.values()
            if t.held
            and t.request.account == account
            and t.status not in (OrderStatus.CANCELLED, OrderStatus.REJECTED)
        )
        return out

    async def executions(self, account: str) -> list[Execution]:
        """Fills of ``account`` since ``config.first_transaction_id``."""
        return await self.executions_since(account, None)

    async def executions_since(
        self, account: str, after_execution_id: str | None
    ) -> list[Execution]:
        """Fills of ``account`` (``ORDER_FILL`` transactions of its orders)
        after the transaction ``after_execution_id``; from
        ``config.first_transaction_id`` when it is None or not an id."""
        self._accounts.add(account)
        start = (
            after_execution_id
            if after_execution_id and after_execution_id.isdigit()
            else self.config.first_transaction_id
        )
        prefix = prefix_of(account)
        out = []
        for tx in await self._transactions_since(start, "executions_since"):
            ext = tx.get("clientOrderID") or ""
            if tx.get("type") == "ORDER_FILL" and ext.startswith(prefix):
                out.append(p.fill_to_execution(tx, self._by_ext.get(ext, ext), account))
        return out

    async def broker_order_id(self, client_order_id: str) -> str | None:
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            return tracked.broker_order_id
        for account in sorted(self._accounts):
            ext = (
                client_order_id
                if client_order_id.startswith(prefix_of(account))
                else prefix_of(account) + client_order_id
            )
            status, body = await self._call(
                "GET", self._acct(f"/orders/@{ext}"), call="broker_order_id"
            )
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
        _, body = await self._get_ok(self._acct("/openTrades"), call="account_positions")
        net: dict[str, float] = {}
        for trade in body.get("trades", []):
            asset = p.to_asset(trade["instrument"])
            net[asset] = net.get(asset, 0.0) + p.to_float(trade["currentUnits"])
        return {a: q for a, q in net.items() if abs(q) > FLAT_EPSILON}

    async def close_position(self, asset: str) -> list[str]:
        """Close every open trade on ``asset`` (``PUT /trades/{id}/close``),
        whoever opened it. Returns the fill transaction ids."""
        self._require_connected()
        instrument = p.to_instrument(asset)
        _, body = await self._get_ok(self._acct("/openTrades"), call="close_position")
        fills = []
        for trade in body.get("trades", []):
            if trade["instrument"] != instrument:
                continue
            try:
                status, answer = await self._call(
                    "PUT",
                    self._acct(f"/trades/{trade['id']}/close"),
                    call="close_position",
                    idempotent=True,
                    json={"units": "ALL"},
                )
            except AnswerLost as lost:
                log.warning(
                    "close of trade %s: %s (the feed reports its fill if it closed)",
                    trade["id"],
                    lost.detail,
                )
                continue
            if status < 400 and "orderFillTransaction" in answer:
                fills.append(str(answer["orderFillTransaction"]["id"]))
        self._wake.set()
        return fills

    async def instrument_spec(self, asset: str) -> InstrumentSpec:
        """Tick (10^-displayPrecision), lot (10^-tradeUnitsPrecision) and
        ``minimumTradeSize`` of ``asset`` from ``GET /accounts/{id}/instruments``,
        cached for the adapter's life.

        Raises:
            LookupError: OANDA does not offer the instrument on this account.
            ConnectionError, BrokerTimeout: OANDA did not answer.
        """
        instrument = p.to_instrument(asset)
        cached = self._specs.get(instrument)
        if cached is not None:
            return cached
        _, body = await self._get_ok(
            self._acct("/instruments"), call="instrument_spec", params={"instruments": instrument}
        )
        found = [i for i in body.get("instruments", []) if i.get("name") == instrument]
        if not found:
            raise LookupError(
                f"instrument {instrument} is not tradeable on OANDA account "
                f"{self.config.account_id}"
            )
        self._specs[instrument] = spec = p.instrument_spec(found[0])
        self._units_precision[instrument] = int(found[0].get("tradeUnitsPrecision", 0))
        return spec

    async def _formats(self, asset: str) -> tuple[int, int]:
        """(price decimals, units decimals) to send ``asset``'s orders with."""
        spec = await self.instrument_spec(asset)
        return spec.price_decimals, self._units_precision[p.to_instrument(asset)]
