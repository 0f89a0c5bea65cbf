"""A fake OANDA v20 REST + streaming server, for the adapter's tests.

An in-memory account with a settable price per instrument, served over real
HTTP by uvicorn (:class:`FakeOANDAServer`, routes in ``oanda_v20_app``),
misbehaving on demand (``fake.faults``: see ``oanda_v20_faults``). Matching
and fills are in ``oanda_v20_fills``; times, decimals, errors and candles in
``oanda_v20_wire``. Shapes follow OANDA's v20
documentation (strings for decimals, RFC3339 nanosecond times, transactions
with increasing ids shared by orders and trades):

* market orders fill at once at the ask (buy) or bid (sell), or are
  cancelled (``INSUFFICIENT_MARGIN``) when larger than ``max_units``;
* LIMIT/STOP/STOP_LOSS/TAKE_PROFIT orders fill when :meth:`FakeOANDA.set_price`
  moves the price through them (limits at their price, stops at the market);
* ``stopLossOnFill``/``takeProfitOnFill`` create dependent orders on the
  opened trade; a trade closed cancels its dependent orders
  (``LINKED_TRADE_CLOSED``); fills net FIFO against open trades;
* errors as OANDA sends them: unknown instrument -> 400 with
  ``errorMessage``; unknown order -> 404 ``ORDER_DOESNT_EXIST``; bad token ->
  401; wrong account -> 403.

Test control methods (``set_price``, ``set_candles``...) are called from the
test's thread; a lock guards the state against the server's thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests.fakes.oanda_v20_faults import Faults
from tests.fakes.oanda_v20_fills import OANDAFills
from tests.fakes.oanda_v20_wire import (  # noqa: F401 - re-exported
    OANDAError,
    dec,
    make_candles,
    parse_rfc3339,
    rfc3339,
    s5,
)

TOKEN = "fake-oanda-token-0123456789abcdef"
ACCOUNT = "101-001-0000000-001"


@dataclass
class FakeOANDA(OANDAFills):
    """The account's state and the rules that change it."""

    account_id: str = ACCOUNT
    token: str = TOKEN
    instruments: tuple[str, ...] = ("USD_CAD", "EUR_USD", "GBP_USD", "USD_JPY")
    max_units: int = 1_000_000
    commission_per_million: Decimal = Decimal(0)
    balance: Decimal = Decimal(100000)
    prices: dict[str, tuple[Decimal, Decimal, datetime]] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    trades: dict[str, dict[str, Any]] = field(default_factory=dict)
    candles: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    stream_heartbeat_s: float = 0.05
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    stall_streams: bool = False  # price streams connect, then send nothing
    stream_connections: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._add_tx({"type": "CREATE", "homeCurrency": "USD"})

    # -- test control ----------------------------------------------------------

    def set_price(self, instrument: str, bid: float, ask: float) -> None:
        """Move the price; working orders that it triggers fill now."""
        with self.lock:
            self.prices[instrument] = (dec(bid), dec(ask), datetime.now(UTC))
            self._work_orders(instrument)

    def set_candles(self, instrument: str, granularity: str, candles: list[dict[str, Any]]) -> None:
        with self.lock:
            self.candles[(instrument, granularity)] = candles

    def last_id(self) -> str:
        return self.transactions[-1]["id"]

    # -- transactions ------------------------------------------------------------

    def _add_tx(self, tx: dict[str, Any]) -> dict[str, Any]:
        tx = {
            "id": str(len(self.transactions) + 1),
            "accountID": self.account_id,
            "userID": 1,
            "batchID": str(len(self.transactions) + 1),
            "time": rfc3339(datetime.now(UTC)),
            **tx,
        }
        self.transactions.append(tx)
        return tx

    def _price(self, instrument: str) -> tuple[Decimal, Decimal, datetime]:
        if instrument not in self.instruments:
            raise OANDAError(
                400, {"errorMessage": f"Invalid value specified for 'instrument': {instrument}"}
            )
        if instrument not in self.prices:
            self.prices[instrument] = (Decimal("1.00000"), Decimal("1.00020"), datetime.now(UTC))
        return self.prices[instrument]

    # -- orders ------------------------------------------------------------------

    def create_order(self, spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        kind = spec.get("type")
        if kind in ("STOP_LOSS", "TAKE_PROFIT"):
            return self._create_dependent(spec)
        instrument = spec.get("instrument", "")
        try:
            self._price(instrument)
        except OANDAError as error:
            reject = self._add_tx(
                {
                    "type": f"{kind}_ORDER_REJECT",
                    "instrument": instrument,
                    "units": spec.get("units"),
                    "rejectReason": "INSTRUMENT_NOT_TRADEABLE",
                }
            )
            return 400, {
                **error.body,
                "errorCode": "INSTRUMENT_NOT_TRADEABLE",
                "orderRejectTransaction": reject,
                "lastTransactionID": self.last_id(),
            }
        if kind not in ("MARKET", "LIMIT", "STOP"):
            raise OANDAError(400, {"errorMessage": f"Invalid value specified for 'type': {kind}"})
        cid = (spec.get("clientExtensions") or {}).get("id")
        if cid and any(
            o.get("clientExtensions", {}).get("id") == cid for o in self.orders.values()
        ):
            reject = self._add_tx(
                {
                    "type": f"{kind}_ORDER_REJECT",
                    "instrument": instrument,
                    "rejectReason": "CLIENT_ORDER_ID_ALREADY_EXISTS",
                }
            )
            return 400, {
                "errorCode": "CLIENT_ORDER_ID_ALREADY_EXISTS",
                "errorMessage": "The client order ID specified is already in use",
                "orderRejectTransaction": reject,
                "lastTransactionID": self.last_id(),
            }
        create = self._add_tx({**spec, "type": f"{kind}_ORDER", "reason": "CLIENT_ORDER"})
        order = {**spec, "id": create["id"], "createTime": create["time"], "state": "PENDING"}
        self.orders[order["id"]] = order
        body: dict[str, Any] = {"orderCreateTransaction": create}
        if kind == "MARKET":
            if abs(int(spec["units"])) > self.max_units:
                cancel = self._cancel(order, "INSUFFICIENT_MARGIN")
                body["orderCancelTransaction"] = cancel
            else:
                bid, ask, _ = self._price(instrument)
                price = ask if int(spec["units"]) > 0 else bid
                body.update(self._fill(order, price, "MARKET_ORDER"))
        else:
            self._work_orders(instrument)
            if order["state"] == "FILLED":
                body["orderFillTransaction"] = self._last_of("ORDER_FILL")
        body["relatedTransactionIDs"] = [
            t["id"] for t in self.transactions if int(t["id"]) >= int(create["id"])
        ]
        body["lastTransactionID"] = self.last_id()
        return 201, body

    def _last_of(self, kind: str) -> dict[str, Any]:
        return next(t for t in reversed(self.transactions) if t["type"] == kind)

    def _create_dependent(
        self, spec: dict[str, Any], reason: str = "CLIENT_ORDER"
    ) -> tuple[int, dict[str, Any]]:
        trade = self.trades.get(str(spec.get("tradeID")))
        if trade is None or trade["state"] != "OPEN":
            raise OANDAError(
                404,
                {
                    "errorCode": "TRADE_DOESNT_EXIST",
                    "errorMessage": "The Trade specified does not exist",
                },
            )
        kind = spec["type"]
        key = "stopLossOrderID" if kind == "STOP_LOSS" else "takeProfitOrderID"
        old = self.orders.get(trade.get(key, ""))
        if old is not None and old["state"] == "PENDING":
            self._cancel(old, "CLIENT_REQUEST_REPLACED")
        create = self._add_tx(
            {**spec, "type": f"{kind}_ORDER", "reason": reason, "tradeID": trade["id"]}
        )
        order = {
            **spec,
            "tradeID": trade["id"],
            "instrument": trade["instrument"],
            "id": create["id"],
            "createTime": create["time"],
            "state": "PENDING",
        }
        self.orders[order["id"]] = order
        trade[key] = order["id"]
        self._work_orders(trade["instrument"])
        return 201, {"orderCreateTransaction": create, "lastTransactionID": self.last_id()}

    def _cancel(self, order: dict[str, Any], reason: str) -> dict[str, Any]:
        order["state"] = "CANCELLED"
        return self._add_tx(
            {
                "type": "ORDER_CANCEL",
                "orderID": order["id"],
                "clientOrderID": order.get("clientExtensions", {}).get("id"),
                "reason": reason,
            }
        )

    def find_order(self, specifier: str) -> dict[str, Any]:
        if specifier.startswith("@"):
            for order in self.orders.values():
                if order.get("clientExtensions", {}).get("id") == specifier[1:]:
                    return order
        elif specifier in self.orders:
            return self.orders[specifier]
        raise OANDAError(
            404,
            {
                "errorCode": "ORDER_DOESNT_EXIST",
                "errorMessage": "The Order specified does not exist",
            },
        )

    def cancel_order(self, specifier: str) -> dict[str, Any]:
        order = self.find_order(specifier)
        if order["state"] != "PENDING":
            reject = self._add_tx(
                {
                    "type": "ORDER_CANCEL_REJECT",
                    "orderID": order["id"],
                    "rejectReason": "ORDER_DOESNT_EXIST",
                }
            )
            raise OANDAError(
                404,
                {
                    "errorCode": "ORDER_DOESNT_EXIST",
                    "errorMessage": "The Order specified does not exist",
                    "orderCancelRejectTransaction": reject,
                    "lastTransactionID": self.last_id(),
                },
            )
        return {
            "orderCancelTransaction": self._cancel(order, "CLIENT_REQUEST"),
            "lastTransactionID": self.last_id(),
        }

    def replace_order(self, specifier: str, spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = self.find_order(specifier)
        if order["state"] != "PENDING":
            raise OANDAError(
                404,
                {
                    "errorCode": "ORDER_DOESNT_EXIST",
                    "errorMessage": "The Order specified does not exist",
                },
            )
        cancel = self._cancel(order, "CLIENT_REQUEST_REPLACED")
        order.setdefault("clientExtensions", {})["id"] = None  # freed for the replacement
        if spec.get("type") in ("STOP_LOSS", "TAKE_PROFIT"):
            status, body = self._create_dependent(
                {**spec, "tradeID": order.get("tradeID")}, "REPLACEMENT"
            )
        else:
            status, body = self.create_order(spec)
        new = self.orders.get(body.get("orderCreateTransaction", {}).get("id", ""))
        if new is not None:
            new["replacesOrderID"] = order["id"]
        body["orderCancelTransaction"] = cancel
        return status, body


# The HTTP side (routes, faults applied, the uvicorn server) lives in
# oanda_v20_app; re-exported here, where the tests look for it.
from tests.fakes.oanda_v20_app import FakeOANDAServer, create_app, free_port

__all__ = [
    "ACCOUNT",
    "TOKEN",
    "FakeOANDA",
    "FakeOANDAServer",
    "OANDAError",
    "create_app",
    "free_port",
    "make_candles",
]
