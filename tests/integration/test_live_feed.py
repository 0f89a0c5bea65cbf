"""The WebSocket live feed of a real ``live-trading run`` server.

Operations replay the first 400 bars of the real USD-CAD hourly file at 200
bars a second while WebSocket clients (the ``websockets`` library, over real
HTTP) watch them, disconnect mid-run and resume. What each client ends with
is compared with the journal served by the REST API, and the read-model
documents the feed sent with the documents in the database. Run once with
each tail source: a change stream and polling.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from bson import ObjectId
from pymongo import MongoClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.auth_helpers import bearer
from tests.conftest import SAMPLE_DATA, LiveServer, unique_db

ROWS = 400
OPERATION = {"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "MomentumStrategy"}
READ_MODELS = ("trading_operations", "orders", "transactions", "positions", "trades")


@pytest.fixture(scope="module")
def short_replay(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first ``ROWS`` bars of the real hourly file."""
    target = tmp_path_factory.mktemp("replay")
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines(keepends=True)
    (target / "USDCAD_1h.csv").write_text("".join(lines[: ROWS + 1]))
    return target


@pytest.fixture(scope="module", params=["change_stream", "poll"])
def feed_server(
    request, mongo_url: str, short_replay: Path, tmp_path_factory: pytest.TempPathFactory
):
    db_name = unique_db()
    log = tmp_path_factory.mktemp("logs") / "server.log"
    server = LiveServer(
        {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB_NAME": db_name,
            "REPLAY_SPEED": "200",
            "REPLAY_DATA_DIR": str(short_replay),
            "FEED_SOURCE": request.param,
            "FEED_POLL_SECONDS": "0.1",
        },
        log,
    )
    server.add_user("watcher", "viewer")
    server.start()
    yield server, MongoClient(mongo_url, tz_aware=True)[db_name], request.param
    server.stop()


class FeedClient:
    """A WebSocket client that keeps every message it receives."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url, self.headers = url, headers
        self.messages: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason = ""

    async def start(self) -> FeedClient:
        self.ws = await connect(self.url, additional_headers=self.headers, max_size=None)
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.messages.append(json.loads(raw))
        except ConnectionClosed:
            pass
        if self.ws.close_code is not None:
            self.close_code, self.close_reason = self.ws.close_code, self.ws.close_reason or ""

    async def stop(self) -> None:
        await self.ws.close()
        await self.reader

    def entries(self, operation_id: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages
            if m["type"] == "journal_entry" and m["operation_id"] == operation_id
        ]

    def last(self, operation_id: str) -> int:
        entries = self.entries(operation_id)
        return entries[-1]["sequence_number"] if entries else 0


async def until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def closed_with(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    client = await FeedClient(url, headers).start()
    await asyncio.wait_for(client.reader, 10)
    return client.close_code, client.close_reason


def ws_url(server: LiveServer, path: str, **params: str) -> str:
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return f"ws://127.0.0.1:{server.port}{path}" + (f"?{query}" if query else "")


async def test_a_token_is_required_and_bad_requests_are_closed(feed_server) -> None:
    server, _, _ = feed_server
    token = server.token()
    assert (await closed_with(ws_url(server, "/ws/overall")))[0] == 1008
    assert (await closed_with(ws_url(server, "/ws/overall", token="not-a-token")))[0] == 1008
    forged = jwt.encode(
        {"sub": "admin", "role": "admin", "exp": int(time.time()) + 600},
        "another-secret-of-at-least-thirty-two-bytes!",
        algorithm="HS256",
    )
    code, reason = await closed_with(ws_url(server, "/ws/overall"), bearer(forged))
    assert code == 1008 and "invalid token" in reason
    assert (await closed_with(ws_url(server, f"/ws/operations/{ObjectId()}")))[0] == 1008
    # a viewer is let in, with the header or the query parameter
    viewer = await FeedClient(
        ws_url(server, "/ws/overall"), bearer(server.token("watcher"))
    ).start()
    await until(lambda: bool(viewer.messages))
    assert viewer.messages[0]["type"] == "hello"
    await viewer.stop()
    code, reason = await closed_with(ws_url(server, f"/ws/operations/{ObjectId()}", token=token))
    assert code == 4404 and reason.startswith("no operation")
    code, reason = await closed_with(
        ws_url(server, "/ws/overall", token=token, last_sequences="[1]")
    )
    assert code == 4422 and reason.startswith("last_sequences")
    code, reason = await closed_with(
        ws_url(server, f"/ws/operations/{ObjectId()}", token=token, last_sequence="-3")
    )
    assert code == 4422 and reason.startswith("last_sequence")


async def test_clients_that_resume_mid_run_end_with_exactly_the_journal(feed_server) -> None:
    server, db, source = feed_server
    token = server.token()
    http = httpx.AsyncClient(base_url=server.url, headers=bearer(token), timeout=30)
    # `everything` is told of nothing (backfills every operation), `live` of no resume
    everything = await FeedClient(
        ws_url(server, "/ws/overall", token=token, last_sequences="{}")
    ).start()
    live = await FeedClient(ws_url(server, "/ws/overall", token=token)).start()
    await until(lambda: bool(everything.messages and live.messages))
    op1 = (await http.post("/api/operations", json=OPERATION)).json()["id"]
    resume_op1 = ws_url(server, f"/ws/operations/{op1}", token=token, last_sequence="0")
    steady = await FeedClient(resume_op1).start()
    flaky = await FeedClient(resume_op1).start()
    await until(lambda: everything.last(op1) >= 10)
    await everything.stop()
    op2 = (await http.post("/api/operations", json=OPERATION)).json()["id"]
    await until(lambda: flaky.last(op1) >= 30)
    await flaky.stop()
    await asyncio.sleep(0.3)
    flaky_again = await FeedClient(
        ws_url(server, f"/ws/operations/{op1}", token=token, last_sequence=str(flaky.last(op1)))
    ).start()
    # op2 is not in last_sequences: the client has seen nothing of it
    everything_again = await FeedClient(
        ws_url(
            server,
            "/ws/overall",
            token=token,
            last_sequences=json.dumps({op1: everything.last(op1)}),
        )
    ).start()
    await wait_idle(http)
    journals = {
        op: (await http.get(f"/api/operations/{op}/journal", params={"limit": 10000})).json()
        for op in (op1, op2)
    }
    end = {op: journal[-1]["sequence_number"] for op, journal in journals.items()}
    clients = (steady, flaky_again, live, everything_again)
    await until(
        lambda: (
            all(c.last(op1) == end[op1] for c in clients)
            and live.last(op2) == everything_again.last(op2) == end[op2]
        )
    )
    await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive now
    for client in clients:
        await client.stop()
    await http.aclose()

    def sent(*parts: list[dict]) -> list[dict]:
        return [m["entry"] for part in parts for m in part]

    assert end[op1] > 60 and end[op2] > 60
    assert sent(steady.entries(op1)) == journals[op1]
    assert sent(flaky.entries(op1), flaky_again.entries(op1)) == journals[op1]
    assert sent(everything.entries(op1), everything_again.entries(op1)) == journals[op1]
    assert sent(everything.entries(op2), everything_again.entries(op2)) == journals[op2]
    assert sent(live.entries(op1)) == journals[op1] and sent(live.entries(op2)) == journals[op2]
    # the reconnection happened mid-run: it got both missed (replayed) and live entries
    assert {m["replayed"] for m in flaky_again.entries(op1)} == {True, False}
    assert everything_again.messages[0]["type"] == "hello"
    assert not any(m["replayed"] for m in live.messages if m["type"] == "journal_entry")
    assert_changes_equal_the_database(steady, db)
    expected_log = "change stream" if source == "change_stream" else "polling the journal"
    assert expected_log in server.log_path.read_text()


async def wait_idle(http: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 60
    while (await http.get("/health")).json()["engine"]["running"] > 0:
        assert time.monotonic() < deadline, "the replay did not end"
        await asyncio.sleep(0.2)


def assert_changes_equal_the_database(client: FeedClient, db) -> None:
    """The last version of each document the feed sent (snapshot, then the
    changes of each live entry) is the document stored in the database."""
    latest: dict[tuple[str, str], dict] = {}
    (snapshot,) = [m for m in client.messages if m["type"] == "snapshot"]
    latest[("trading_operations", snapshot["operation"]["id"])] = snapshot["operation"]
    for collection, key in (("positions", "positions"), ("orders", "orders")):
        latest.update({(collection, d["id"]): d for d in snapshot[key]})
    live = [m for m in client.messages if m["type"] == "journal_entry" and not m["replayed"]]
    assert live, "no live entry"
    for message in live:
        for collection, docs in message["changes"].items():
            latest.update({(collection, d["id"]): d for d in docs})
    assert {c for c, _ in latest} == set(READ_MODELS)
    for (collection, doc_id), doc in latest.items():
        assert_same_document(doc, db[collection].find_one({"_id": ObjectId(doc_id)}))
    operation = live[-1]["changes"]["trading_operations"][0]
    assert operation["last_sequence_number"] == live[-1]["sequence_number"]


def assert_same_document(sent: dict[str, Any], stored: dict[str, Any]) -> None:
    sent = dict(sent)
    assert sent.pop("id") == str(stored.pop("_id"))
    for key, value in stored.items():
        got = sent.pop(key)
        if isinstance(value, ObjectId):
            assert got == str(value), key
        elif isinstance(value, datetime):
            assert datetime.fromisoformat(got) == value, key
        else:
            assert got == value, key
    assert all(v is None for v in sent.values()), sent  # fields the store omits when None
