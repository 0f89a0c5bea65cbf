"""A fake OANDA v20 REST + streaming server, for the adapter's tests.

An in-memory account with a settable price per instrument, served over real
HTTP by uvicorn (see :class:`FakeOANDAServer`). Shapes follow OANDA's v20
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

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.fakes.oanda_v20_faults import Fault, Faults

TOKEN = "fake-oanda-token-0123456789abcdef"
ACCOUNT = "101-001-0000000-001"


def rfc3339(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}123Z"


def parse_rfc3339(text: str) -> datetime:
    """``2024-01-02T03:04:05.123456789Z`` (any fraction) -> aware datetime."""
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(rest or '0')[:6].ljust(6, '0')}+00:00")


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def s5(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.00001")))


class OANDAError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("errorMessage"))
        self.status, self.body = status, body


@dataclass
class FakeOANDA:
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

    def set_candles(self, instrument: str, granularity: str,
                    candles: list[dict[str, Any]]) -> None:
        with self.lock:
            self.candles[(instrument, granularity)] = candles

    def last_id(self) -> str:
        return self.transactions[-1]["id"]

    # -- transactions ------------------------------------------------------------

    def _add_tx(self, tx: dict[str, Any]) -> dict[str, Any]:
        tx = {"id": str(len(self.transactions) + 1), "accountID": self.account_id,
              "userID": 1, "batchID": str(len(self.transactions) + 1),
              "time": rfc3339(datetime.now(UTC)), **tx}
        self.transactions.append(tx)
        return tx

    def _price(self, instrument: str) -> tuple[Decimal, Decimal, datetime]:
        if instrument not in self.instruments:
            raise OANDAError(400, {"errorMessage": f"Invalid value specified for "
                                                   f"'instrument': {instrument}"})
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
            reject = self._add_tx({"type": f"{kind}_ORDER_REJECT", "instrument": instrument,
                                   "units": spec.get("units"),
                                   "rejectReason": "INSTRUMENT_NOT_TRADEABLE"})
            return 400, {**error.body, "errorCode": "INSTRUMENT_NOT_TRADEABLE",
                         "orderRejectTransaction": reject,
                         "lastTransactionID": self.last_id()}
        if kind not in ("MARKET", "LIMIT", "STOP"):
            raise OANDAError(400, {"errorMessage": f"Invalid value specified for 'type': {kind}"})
        cid = (spec.get("clientExtensions") or {}).get("id")
        if cid and any(o.get("clientExtensions", {}).get("id") == cid
                       for o in self.orders.values()):
            reject = self._add_tx({"type": f"{kind}_ORDER_REJECT", "instrument": instrument,
                                   "rejectReason": "CLIENT_ORDER_ID_ALREADY_EXISTS"})
            return 400, {"errorCode": "CLIENT_ORDER_ID_ALREADY_EXISTS",
                         "errorMessage": "The client order ID specified is already in use",
                         "orderRejectTransaction": reject, "lastTransactionID": self.last_id()}
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
        body["relatedTransactionIDs"] = [t["id"] for t in self.transactions
                                         if int(t["id"]) >= int(create["id"])]
        body["lastTransactionID"] = self.last_id()
        return 201, body

    def _last_of(self, kind: str) -> dict[str, Any]:
        return next(t for t in reversed(self.transactions) if t["type"] == kind)

    def _create_dependent(self, spec: dict[str, Any], reason: str = "CLIENT_ORDER"
                          ) -> tuple[int, dict[str, Any]]:
        trade = self.trades.get(str(spec.get("tradeID")))
        if trade is None or trade["state"] != "OPEN":
            raise OANDAError(404, {"errorCode": "TRADE_DOESNT_EXIST",
                                   "errorMessage": "The Trade specified does not exist"})
        kind = spec["type"]
        key = "stopLossOrderID" if kind == "STOP_LOSS" else "takeProfitOrderID"
        old = self.orders.get(trade.get(key, ""))
        if old is not None and old["state"] == "PENDING":
            self._cancel(old, "CLIENT_REQUEST_REPLACED")
        create = self._add_tx({**spec, "type": f"{kind}_ORDER", "reason": reason,
                               "tradeID": trade["id"]})
        order = {**spec, "tradeID": trade["id"], "instrument": trade["instrument"],
                 "id": create["id"], "createTime": create["time"], "state": "PENDING"}
        self.orders[order["id"]] = order
        trade[key] = order["id"]
        self._work_orders(trade["instrument"])
        return 201, {"orderCreateTransaction": create, "lastTransactionID": self.last_id()}

    def _cancel(self, order: dict[str, Any], reason: str) -> dict[str, Any]:
        order["state"] = "CANCELLED"
        return self._add_tx({"type": "ORDER_CANCEL", "orderID": order["id"],
                             "clientOrderID": order.get("clientExtensions", {}).get("id"),
                             "reason": reason})

    def find_order(self, specifier: str) -> dict[str, Any]:
        if specifier.startswith("@"):
            for order in self.orders.values():
                if order.get("clientExtensions", {}).get("id") == specifier[1:]:
                    return order
        elif specifier in self.orders:
            return self.orders[specifier]
        raise OANDAError(404, {"errorCode": "ORDER_DOESNT_EXIST",
                               "errorMessage": "The Order specified does not exist"})

    def cancel_order(self, specifier: str) -> dict[str, Any]:
        order = self.find_order(specifier)
        if order["state"] != "PENDING":
            reject = self._add_tx({"type": "ORDER_CANCEL_REJECT", "orderID": order["id"],
                                   "rejectReason": "ORDER_DOESNT_EXIST"})
            raise OANDAError(404, {"errorCode": "ORDER_DOESNT_EXIST",
                                   "errorMessage": "The Order specified does not exist",
                                   "orderCancelRejectTransaction": reject,
                                   "lastTransactionID": self.last_id()})
        return {"orderCancelTransaction": self._cancel(order, "CLIENT_REQUEST"),
                "lastTransactionID": self.last_id()}

    def replace_order(self, specifier: str, spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = self.find_order(specifier)
        if order["state"] != "PENDING":
            raise OANDAError(404, {"errorCode": "ORDER_DOESNT_EXIST",
                                   "errorMessage": "The Order specified does not exist"})
        cancel = self._cancel(order, "CLIENT_REQUEST_REPLACED")
        order.setdefault("clientExtensions", {})["id"] = None  # freed for the replacement
        if spec.get("type") in ("STOP_LOSS", "TAKE_PROFIT"):
            status, body = self._create_dependent({**spec, "tradeID": order.get("tradeID")},
                                                  "REPLACEMENT")
        else:
            status, body = self.create_order(spec)
        new = self.orders.get(body.get("orderCreateTransaction", {}).get("id", ""))
        if new is not None:
            new["replacesOrderID"] = order["id"]
        body["orderCancelTransaction"] = cancel
        return status, body

    # -- matching ----------------------------------------------------------------

    def _triggered(self, order: dict[str, Any], bid: Decimal, ask: Decimal
                   ) -> Decimal | None:
        price = dec(order["price"])
        kind = order["type"]
        if kind in ("STOP_LOSS", "TAKE_PROFIT"):
            trade = self.trades[order["tradeID"]]
            buying = int(trade["currentUnits"]) < 0  # closing a short buys
        else:
            buying = int(order["units"]) > 0
        market = ask if buying else bid
        if kind in ("LIMIT", "TAKE_PROFIT"):
            hit = market <= price if buying else market >= price
            return price if hit else None
        hit = market >= price if buying else market <= price  # STOP, STOP_LOSS
        return market if hit else None

    def _work_orders(self, instrument: str) -> None:
        if instrument not in self.prices:
            return
        bid, ask, _ = self.prices[instrument]
        for order in list(self.orders.values()):
            if order["state"] != "PENDING" or order.get("instrument") != instrument \
                    or order["type"] == "MARKET":
                continue
            fill_price = self._triggered(order, bid, ask)
            if fill_price is not None:
                reason = {"LIMIT": "LIMIT_ORDER", "STOP": "STOP_ORDER",
                          "STOP_LOSS": "STOP_LOSS_ORDER",
                          "TAKE_PROFIT": "TAKE_PROFIT_ORDER"}[order["type"]]
                self._fill(order, fill_price, reason)

    def _fill(self, order: dict[str, Any], price: Decimal, reason: str) -> dict[str, Any]:
        instrument = order["instrument"]
        if order["type"] in ("STOP_LOSS", "TAKE_PROFIT"):
            trade = self.trades[order["tradeID"]]
            units = -int(trade["currentUnits"])
            to_close = [trade]
        else:
            units = int(order["units"])
            to_close = [t for t in self.trades.values() if t["state"] == "OPEN"
                        and t["instrument"] == instrument
                        and (int(t["currentUnits"]) > 0) != (units > 0)]
        tx: dict[str, Any] = {
            "type": "ORDER_FILL", "orderID": order["id"],
            "clientOrderID": order.get("clientExtensions", {}).get("id"),
            "instrument": instrument, "units": str(units), "price": s5(price),
            "fullVWAP": s5(price), "reason": reason, "pl": "0.0000",
            "financing": "0.0000",
            "commission": str((abs(units) * self.commission_per_million / 1_000_000)
                              .quantize(Decimal("0.0001"))),
        }
        remaining = units
        closed, reduced = [], None
        for trade in to_close:
            if remaining == 0:
                break
            current = int(trade["currentUnits"])
            take = -current if abs(remaining) >= abs(current) else remaining
            pl = (price - dec(trade["price"])) * (-take)
            if take == -current:
                closed.append({"tradeID": trade["id"], "units": str(take),
                               "price": s5(price), "realizedPL": str(pl)})
            else:
                reduced = {"tradeID": trade["id"], "units": str(take), "price": s5(price),
                           "realizedPL": str(pl)}
            trade["currentUnits"] = str(current + take)
            remaining -= take
        if closed:
            tx["tradesClosed"] = closed
        if reduced:
            tx["tradeReduced"] = reduced
        if remaining:
            tx["tradeOpened"] = {"units": str(remaining), "price": s5(price)}
        fill = self._add_tx(tx)
        order["state"] = "FILLED"
        order["fillingTransactionID"] = fill["id"]
        body: dict[str, Any] = {"orderFillTransaction": fill}
        for item in closed:
            trade = self.trades[item["tradeID"]]
            trade["state"] = "CLOSED"
            for key in ("stopLossOrderID", "takeProfitOrderID"):
                dependent = self.orders.get(trade.get(key, ""))
                if dependent is not None and dependent["state"] == "PENDING":
                    self._cancel(dependent, "LINKED_TRADE_CLOSED")
        if remaining:
            trade_id = fill["id"]
            fill["tradeOpened"]["tradeID"] = trade_id
            order["tradeOpenedID"] = trade_id
            self.trades[trade_id] = {"id": trade_id, "instrument": instrument,
                                     "price": s5(price), "openTime": fill["time"],
                                     "initialUnits": str(remaining),
                                     "currentUnits": str(remaining), "state": "OPEN",
                                     "realizedPL": "0.0000", "unrealizedPL": "0.0000",
                                     "clientExtensions": order.get("clientExtensions", {})}
            for on_fill, kind in (("stopLossOnFill", "STOP_LOSS"),
                                  ("takeProfitOnFill", "TAKE_PROFIT")):
                details = order.get(on_fill)
                if details:
                    self._create_dependent({"type": kind, "tradeID": trade_id, **details},
                                           "ON_FILL")
        return body

    def close_trade(self, specifier: str) -> dict[str, Any]:
        trade = self.trades.get(specifier)
        if trade is None or trade["state"] != "OPEN":
            raise OANDAError(404, {"errorCode": "TRADE_DOESNT_EXIST",
                                   "errorMessage": "The Trade specified does not exist"})
        units = -int(trade["currentUnits"])
        create = self._add_tx({"type": "MARKET_ORDER", "instrument": trade["instrument"],
                               "units": str(units), "reason": "TRADE_CLOSE",
                               "tradeClose": {"tradeID": trade["id"], "units": "ALL"}})
        order = {"type": "MARKET", "instrument": trade["instrument"], "units": str(units),
                 "id": create["id"], "state": "PENDING"}
        self.orders[order["id"]] = order
        bid, ask, _ = self._price(trade["instrument"])
        body = self._fill(order, ask if units > 0 else bid, "MARKET_ORDER_TRADE_CLOSE")
        return {"orderCreateTransaction": create, **body, "lastTransactionID": self.last_id()}

    # -- views -------------------------------------------------------------------

    def instrument_object(self, name: str) -> dict[str, Any]:
        """An ``Instrument`` as ``GET /accounts/{id}/instruments`` gives it."""
        jpy = name.endswith("_JPY")
        return {"name": name, "type": "CURRENCY", "displayName": name.replace("_", "/"),
                "pipLocation": -2 if jpy else -4, "displayPrecision": 3 if jpy else 5,
                "tradeUnitsPrecision": 0, "minimumTradeSize": "1",
                "maximumOrderUnits": "100000000", "marginRate": "0.02"}

    def pending_orders(self) -> list[dict[str, Any]]:
        return [dict(o) for o in self.orders.values() if o["state"] == "PENDING"]

    def price_object(self, instrument: str) -> dict[str, Any]:
        bid, ask, moment = self._price(instrument)
        return {"type": "PRICE", "instrument": instrument, "time": rfc3339(moment),
                "tradeable": True, "status": "tradeable",
                "bids": [{"price": s5(bid), "liquidity": 10000000}],
                "asks": [{"price": s5(ask), "liquidity": 10000000}],
                "closeoutBid": s5(bid), "closeoutAsk": s5(ask)}


def create_app(fake: FakeOANDA) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def misbehave(request: Request, call_next):
        order_type = None
        if request.method == "POST":
            order_type = ((_json(await request.body()) or {}).get("order") or {}).get("type")
        fault = fake.faults.take(request.method, request.url.path, order_type)
        return await apply_fault(fault, request, call_next)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        fake.requests.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {fake.token}":
            return JSONResponse({"errorMessage": "Insufficient authorization to perform "
                                                 "request."}, status_code=401)
        parts = request.url.path.split("/")
        if len(parts) > 3 and parts[2] == "accounts" and parts[3] != fake.account_id:
            return JSONResponse({"errorMessage": "The provided request was forbidden."},
                                status_code=403)
        try:
            return await call_next(request)
        except OANDAError as error:  # pragma: no cover - handled below
            return JSONResponse(error.body, status_code=error.status)

    @app.exception_handler(OANDAError)
    async def oanda_error(_request: Request, error: OANDAError) -> JSONResponse:
        return JSONResponse(error.body, status_code=error.status)

    base = "/v3/accounts/{account_id}"

    @app.get(base + "/summary")
    def summary(account_id: str):
        with fake.lock:
            return {"account": {"id": account_id, "currency": "USD",
                                "balance": str(fake.balance),
                                "openTradeCount": sum(t["state"] == "OPEN"
                                                      for t in fake.trades.values()),
                                "lastTransactionID": fake.last_id()},
                    "lastTransactionID": fake.last_id()}

    @app.post(base + "/orders")
    async def post_order(account_id: str, request: Request):
        body = await request.json()
        with fake.lock:
            status, answer = fake.create_order(body.get("order") or {})
        return JSONResponse(answer, status_code=status)

    @app.get(base + "/pendingOrders")
    def pending(account_id: str):
        with fake.lock:
            return {"orders": fake.pending_orders(), "lastTransactionID": fake.last_id()}

    @app.get(base + "/orders/{specifier}")
    def get_order(account_id: str, specifier: str):
        with fake.lock:
            return {"order": fake.find_order(specifier), "lastTransactionID": fake.last_id()}

    @app.put(base + "/orders/{specifier}")
    async def replace(account_id: str, specifier: str, request: Request):
        body = await request.json()
        with fake.lock:
            status, answer = fake.replace_order(specifier, body.get("order") or {})
        return JSONResponse(answer, status_code=status)

    @app.put(base + "/orders/{specifier}/cancel")
    def cancel(account_id: str, specifier: str):
        with fake.lock:
            return fake.cancel_order(specifier)

    @app.get(base + "/openTrades")
    def open_trades(account_id: str):
        with fake.lock:
            return {"trades": [t for t in fake.trades.values() if t["state"] == "OPEN"],
                    "lastTransactionID": fake.last_id()}

    @app.put(base + "/trades/{specifier}/close")
    def close_trade(account_id: str, specifier: str):
        with fake.lock:
            return fake.close_trade(specifier)

    @app.get(base + "/transactions/sinceid")
    def since(account_id: str, id: str):
        with fake.lock:
            if not id.isdigit():
                raise OANDAError(400, {"errorMessage": "Invalid value specified for 'id'"})
            found = [t for t in fake.transactions if int(t["id"]) > int(id)][:1000]
            return {"transactions": found, "lastTransactionID": fake.last_id()}

    @app.get(base + "/pricing")
    def pricing(account_id: str, instruments: str):
        with fake.lock:
            prices = [fake.price_object(i) for i in instruments.split(",")]
            return {"prices": prices, "time": rfc3339(datetime.now(UTC))}

    @app.get(base + "/pricing/stream")
    async def stream(account_id: str, instruments: str):
        names = instruments.split(",")
        with fake.lock:
            for name in names:
                fake._price(name)  # 400 for an unknown instrument, before streaming

        fake.stream_connections += 1
        drop_after = fake.faults.stream_lines_before_drop()

        async def lines():
            last: dict[str, Any] = {}
            sent = 0
            while True:
                while fake.stall_streams:  # connected, silent: no price, no heartbeat
                    await asyncio.sleep(0.02)
                with fake.lock:
                    current = {n: fake.prices[n] for n in names}
                    changed = [fake.price_object(n) for n in names if last.get(n) != current[n]]
                last = current
                for price in changed:
                    yield json.dumps(price) + "\n"
                yield json.dumps({"type": "HEARTBEAT",
                                  "time": rfc3339(datetime.now(UTC))}) + "\n"
                sent += len(changed) + 1
                if drop_after is not None and sent >= drop_after:
                    raise ConnectionResetError("chaos: price stream dropped")
                await asyncio.sleep(fake.stream_heartbeat_s)

        return StreamingResponse(lines(), media_type="application/octet-stream")

    @app.get(base + "/instruments")
    def instruments_route(account_id: str, instruments: str | None = None):
        names = instruments.split(",") if instruments else list(fake.instruments)
        return {"instruments": [fake.instrument_object(n) for n in names
                                if n in fake.instruments],
                "lastTransactionID": fake.last_id()}

    @app.get("/v3/instruments/{instrument}/candles")
    def candles_route(instrument: str, request: Request, granularity: str = "S5",
                      price: str = "M"):
        params = request.query_params
        with fake.lock:
            fake._price(instrument)
            rows = fake.candles.get((instrument, granularity), [])
        start = params.get("from")
        end = params.get("to")
        if end is not None and parse_rfc3339(end) > datetime.now(UTC):
            raise OANDAError(400, {"errorMessage": "Invalid value specified for 'to'. "
                                                   "Time is in the future"})
        component = {"M": "mid", "B": "bid", "A": "ask"}[price[0]]

        def key(text: str) -> str:
            return text[:19]

        chosen = [c for c in rows if (start is None or key(c["time"]) >= key(start))
                  and (end is None or key(c["time"]) < key(end))]
        if "count" in params:
            chosen = chosen[: int(params["count"])]
        return {"instrument": instrument, "granularity": granularity,
                "candles": [{"time": c["time"], "volume": c.get("volume", 0),
                             "complete": c.get("complete", True), component: c["mid"]}
                            for c in chosen]}

    return app


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


async def apply_fault(fault: Fault | None, request: Request, call_next):
    """Answer ``request`` as ``fault`` says (see :mod:`.oanda_v20_faults`)."""
    if fault is None:
        return await call_next(request)
    if fault.kind == "429":
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        return JSONResponse({"errorMessage": "Rate limit violation: too many requests"},
                            status_code=429, headers=headers)
    if fault.kind == "5xx":
        return JSONResponse({"errorMessage": "Service unavailable"}, status_code=fault.status)
    if fault.kind in ("hang", "delay"):
        await asyncio.sleep(fault.seconds if fault.kind == "hang" else fault.delay_s)
        return await call_next(request)
    response = await call_next(request)
    body = b"".join([chunk async for chunk in response.body_iterator])
    keep = fault.kind == "lose"  # the client then knows the answer is cut short
    headers = {k: v for k, v in response.headers.items()
               if keep or k.lower() != "content-length"}
    if fault.kind == "lose_hang":
        await asyncio.sleep(fault.seconds)

    async def dripping():
        for index in range(len(body)):
            if fault.kind == "lose" and index == 1:
                raise ConnectionResetError("the answer is lost")
            yield body[index:index + 1]
            if fault.kind == "drip":
                await asyncio.sleep(fault.interval_s)

    return StreamingResponse(dripping(), status_code=response.status_code, headers=headers)


def make_candles(start: datetime, step: timedelta, closes: list[float],
                 complete_last: bool = True) -> list[dict[str, Any]]:
    """Candles in OANDA's shape (``mid`` o/h/l/c strings), one per close."""
    out = []
    previous = closes[0]
    for index, close in enumerate(closes):
        o, c = dec(previous), dec(close)
        out.append({"time": rfc3339(start + step * index), "volume": 10 + index,
                    "complete": complete_last or index < len(closes) - 1,
                    "mid": {"o": s5(o), "h": s5(max(o, c) + Decimal("0.0005")),
                            "l": s5(min(o, c) - Decimal("0.0005")), "c": s5(c)}})
        previous = close
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeOANDAServer:
    """:func:`create_app` served by uvicorn on a free loopback port, in a
    thread of its own (its own event loop), so clients talk real HTTP."""

    def __init__(self, fake: FakeOANDA | None = None) -> None:
        self.fake = fake or FakeOANDA()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(self.fake), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> FakeOANDAServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake OANDA server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(timeout=10)
