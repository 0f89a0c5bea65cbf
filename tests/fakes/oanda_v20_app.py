"""The HTTP face of the fake v20 server: OANDA's REST and streaming routes
over a :class:`~tests.fakes.oanda_v20.FakeOANDA`, with the switchable
misbehaviours of :mod:`tests.fakes.oanda_v20_faults` applied per request."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.fakes.oanda_v20 import FakeOANDA, OANDAError, parse_rfc3339, rfc3339, s5
from tests.fakes.oanda_v20_faults import Fault


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
            return JSONResponse(
                {"errorMessage": "Insufficient authorization to perform request."}, status_code=401
            )
        parts = request.url.path.split("/")
        if len(parts) > 3 and parts[2] == "accounts" and parts[3] != fake.account_id:
            return JSONResponse(
                {"errorMessage": "The provided request was forbidden."}, status_code=403
            )
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
            return {
                "account": {
                    "id": account_id,
                    "currency": "USD",
                    "balance": str(fake.balance),
                    "openTradeCount": sum(t["state"] == "OPEN" for t in fake.trades.values()),
                    "lastTransactionID": fake.last_id(),
                },
                "lastTransactionID": fake.last_id(),
            }

    @app.post(base + "/orders")
    async def post_order(account_id: str, request: Request):
        body = await request.json()
        with fake.lock:
            status, answer = fake.create_order(body.get("order") or {})
        return JSONResponse(answer, status_code=status)

    @app.get(base + "/pendingOrders")
    def pending(account_id: str):
        with fake.lock:
            return {"orders": pending_orders(fake), "lastTransactionID": fake.last_id()}

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
            return {
                "trades": [t for t in fake.trades.values() if t["state"] == "OPEN"],
                "lastTransactionID": fake.last_id(),
            }

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
            prices = [price_object(fake, i) for i in instruments.split(",")]
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
                    changed = [price_object(fake, n) for n in names if last.get(n) != current[n]]
                last = current
                for price in changed:
                    yield json.dumps(price) + "\n"
                yield json.dumps({"type": "HEARTBEAT", "time": rfc3339(datetime.now(UTC))}) + "\n"
                sent += len(changed) + 1
                if drop_after is not None and sent >= drop_after:
                    raise ConnectionResetError("chaos: price stream dropped")
                await asyncio.sleep(fake.stream_heartbeat_s)

        return StreamingResponse(lines(), media_type="application/octet-stream")

    @app.get(base + "/instruments")
    def instruments_route(account_id: str, instruments: str | None = None):
        names = instruments.split(",") if instruments else list(fake.instruments)
        return {
            "instruments": [instrument_object(n) for n in names if n in fake.instruments],
            "lastTransactionID": fake.last_id(),
        }

    @app.get("/v3/instruments/{instrument}/candles")
    def candles_route(instrument: str, request: Request, granularity: str = "S5", price: str = "M"):
        params = request.query_params
        with fake.lock:
            fake._price(instrument)
            rows = fake.candles.get((instrument, granularity), [])
        start = params.get("from")
        end = params.get("to")
        if end is not None and parse_rfc3339(end) > datetime.now(UTC):
            raise OANDAError(
                400, {"errorMessage": "Invalid value specified for 'to'. Time is in the future"}
            )
        component = {"M": "mid", "B": "bid", "A": "ask"}[price[0]]

        def key(text: str) -> str:
            return text[:19]

        chosen = [
            c
            for c in rows
            if (start is None or key(c["time"]) >= key(start))
            and (end is None or key(c["time"]) < key(end))
        ]
        if "count" in params:
            chosen = chosen[: int(params["count"])]
        return {
            "instrument": instrument,
            "granularity": granularity,
            "candles": [
                {
                    "time": c["time"],
                    "volume": c.get("volume", 0),
                    "complete": c.get("complete", True),
                    component: c["mid"],
                }
                for c in chosen
            ],
        }

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
        return JSONResponse(
            {"errorMessage": "Rate limit violation: too many requests"},
            status_code=429,
            headers=headers,
        )
    if fault.kind == "5xx":
        return JSONResponse({"errorMessage": "Service unavailable"}, status_code=fault.status)
    if fault.kind in ("hang", "delay"):
        await asyncio.sleep(fault.seconds if fault.kind == "hang" else fault.delay_s)
        return await call_next(request)
    response = await call_next(request)
    body = b"".join([chunk async for chunk in response.body_iterator])
    keep = fault.kind == "lose"  # the client then knows the answer is cut short
    headers = {k: v for k, v in response.headers.items() if keep or k.lower() != "content-length"}
    if fault.kind == "lose_hang":
        await asyncio.sleep(fault.seconds)

    async def dripping():
        for index in range(len(body)):
            if fault.kind == "lose" and index == 1:
                raise ConnectionResetError("the answer is lost")
            yield body[index : index + 1]
            if fault.kind == "drip":
                await asyncio.sleep(fault.interval_s)

    return StreamingResponse(dripping(), status_code=response.status_code, headers=headers)


def instrument_object(name: str) -> dict[str, Any]:
    """An ``Instrument`` as ``GET /accounts/{id}/instruments`` gives it."""
    jpy = name.endswith("_JPY")
    return {
        "name": name,
        "type": "CURRENCY",
        "displayName": name.replace("_", "/"),
        "pipLocation": -2 if jpy else -4,
        "displayPrecision": 3 if jpy else 5,
        "tradeUnitsPrecision": 0,
        "minimumTradeSize": "1",
        "maximumOrderUnits": "100000000",
        "marginRate": "0.02",
    }


def pending_orders(fake: FakeOANDA) -> list[dict[str, Any]]:
    return [dict(o) for o in fake.orders.values() if o["state"] == "PENDING"]


def price_object(fake: FakeOANDA, instrument: str) -> dict[str, Any]:
    bid, ask, moment = fake._price(instrument)
    return {
        "type": "PRICE",
        "instrument": instrument,
        "time": rfc3339(moment),
        "tradeable": True,
        "status": "tradeable",
        "bids": [{"price": s5(bid), "liquidity": 10000000}],
        "asks": [{"price": s5(ask), "liquidity": 10000000}],
        "closeoutBid": s5(bid),
        "closeoutAsk": s5(ask),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeOANDAServer:
    """:func:`create_app` served by uvicorn on a free loopback port, in a
    thread of its own (its own event loop), so clients talk real HTTP."""

    def __init__(self, fake: FakeOANDA | None = None, log_level: str = "warning") -> None:
        self.fake = fake or FakeOANDA()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(self.fake),
            host="127.0.0.1",
            port=self.port,
            log_level=log_level,
            lifespan="off",
        )
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
