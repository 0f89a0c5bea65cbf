"""The live feed over WebSocket: every committed journal entry, as it happens.

Endpoints
---------
``/ws/operations/{id}?last_sequence=N``
    The operation's journal entries with sequence > N, read from the journal
    (``"replayed": true``); then a ``snapshot`` of its read models as of the
    last entry sent; then live entries. Without ``last_sequence``: no replay,
    the snapshot is of the current state. An unknown operation is closed
    with 4404.
``/ws/overall?last_sequences=<URL-encoded JSON {operation id: N}>``
    First a ``hello`` with every operation's current
    ``last_sequence_number``. With ``last_sequences``, each operation in it
    is replayed after its N and every operation *not* in it from its start
    (the client has seen nothing of it); without it, live entries only.
    Then live entries of every operation.

Authentication
--------------
A bearer token (``POST /api/auth/token``) in ``?token=`` (browsers cannot
set headers on a WebSocket) or in the ``Authorization: Bearer`` header; any
role (viewer or above). The connection is accepted, then closed at once with
1008 and the reason when the token is missing or invalid. A browser page of
another origin than the server's own or ``WS_ALLOWED_ORIGINS`` is refused
before that: the handshake is answered HTTP 403.

Messages (JSON text frames)
---------------------------
``{"type": "journal_entry", "operation_id", "sequence_number", "replayed",
"entry": {id, operation_id, sequence_number, action_type, action_data,
timestamp, source, user, event_id}, "changes": {"trading_operations": [doc],
"orders": [...], "positions": [...], "transactions": [...], "trades": [...]}}``
    ``changes`` holds the read-model documents the entry changed, as they
    are after it (REST shapes); only live entries carry it.
``{"type": "snapshot", "operation_id", "sequence_number", "operation",
"positions": [open positions], "orders": [working orders]}``
``{"type": "hello", "last_sequences": {operation id: N}}``
Other types (e.g. ``signal``, ``trade_event`` in simulation mode) may follow
a live ``journal_entry``; clients ignore types they do not know.

Guarantees and closing
----------------------
Per operation, sequence numbers arrive strictly consecutive: no gap, no
duplicate, across reconnects when the client resumes from the last sequence
number it received. Close codes: 1008 not authenticated; 4404 unknown
operation; 4422 bad query parameter (the reason starts with its name); 1013
the client fell too far behind (reconnect and resume from its last
sequence); 1012 (from uvicorn) or 1001 the server is shutting down; 1011
internal error. Messages
the client sends are ignored. Full description: ``docs/live-feed.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

from bson import ObjectId
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected

from live_trading.api.auth import user_from_token
from live_trading.api.origins import origin_allowed
from live_trading.feed import (
    FeedClosedError,
    FeedRequestError,
    FeedSession,
    SlowSubscriberError,
)
from live_trading.feed.session import CLOSE_BAD_REQUEST, CLOSE_UNKNOWN_OPERATION
from live_trading.security import Role, role_allows

log = logging.getLogger("live_trading.feed")
router = APIRouter(tags=["live-feed"])

CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_INTERNAL, CLOSE_TRY_LATER = 1001, 1008, 1011, 1013
MAX_REASON_BYTES = 123  # the WebSocket protocol's limit


@router.websocket("/ws/operations/{operation_id}")
async def operation_feed(websocket: WebSocket, operation_id: str) -> None:
    """One operation's entries: replay after ``last_sequence``, snapshot, live."""
    if not await _admit(websocket):
        return
    try:
        if not ObjectId.is_valid(operation_id):
            raise FeedRequestError(CLOSE_UNKNOWN_OPERATION, f"no operation {operation_id}")
        last = _sequence(websocket.query_params.get("last_sequence"), "last_sequence")
    except FeedRequestError as error:
        await _close(websocket, error.code, error.reason)
        return
    session = FeedSession(websocket.app.state.feed, websocket.send_json)
    await _serve(websocket, session, session.run_operation(operation_id, last), overall=False)


@router.websocket("/ws/overall")
async def overall_feed(websocket: WebSocket) -> None:
    """Every operation's entries: hello, replay after ``last_sequences``, live."""
    if not await _admit(websocket):
        return
    try:
        resume = _last_sequences(websocket.query_params.get("last_sequences"))
    except FeedRequestError as error:
        await _close(websocket, error.code, error.reason)
        return
    session = FeedSession(websocket.app.state.feed, websocket.send_json)
    await _serve(websocket, session, session.run_overall(resume), overall=True)


async def _admit(websocket: WebSocket) -> bool:
    """Refuse a page of another origin (HTTP 403, before accepting: see
    :mod:`live_trading.api.origins`); accept, then check the bearer token;
    close with 1008 when refused."""
    settings = websocket.app.state.services.settings
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), settings.ws_allowed_origins
    ):
        await websocket.close(CLOSE_POLICY)  # before accept: the handshake gets 403
        return False
    await websocket.accept()
    token = websocket.query_params.get("token")
    header = websocket.headers.get("authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    try:
        user = await user_from_token(settings, token)
    except HTTPException as error:
        await _close(websocket, CLOSE_POLICY, str(error.detail))
        return False
    if not role_allows(user.role, Role.VIEWER):
        await _close(websocket, CLOSE_POLICY, "this needs the viewer role")
        return False
    return True


def _sequence(raw: str | None, field: str) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise FeedRequestError(CLOSE_BAD_REQUEST, f"{field}: must be an integer >= 0")
    return value


def _last_sequences(raw: str | None) -> dict[str, int] | None:
    """``?last_sequences=`` as {operation id: sequence}. Raises
    FeedRequestError (4422) when it is not a JSON object of ObjectId hex
    strings to integers >= 0."""
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise FeedRequestError(
            CLOSE_BAD_REQUEST,
            "last_sequences: must be a JSON object {operation id: last sequence number}",
        )
    for key, value in parsed.items():
        if not ObjectId.is_valid(key):
            raise FeedRequestError(
                CLOSE_BAD_REQUEST, f"last_sequences: {key[:40]!r} is not an operation id"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FeedRequestError(
                CLOSE_BAD_REQUEST, f"last_sequences.{key}: must be an integer >= 0"
            )
    return parsed


async def _serve(
    websocket: WebSocket, session: FeedSession, flow: Coroutine[Any, Any, None], *, overall: bool
) -> None:
    """Run ``flow`` until it ends or the client goes; close as it ended."""
    producer = asyncio.create_task(flow)
    receiver = asyncio.create_task(_until_disconnect(websocket))
    done, _ = await asyncio.wait({producer, receiver}, return_when=asyncio.FIRST_COMPLETED)
    for task in (producer, receiver):
        task.cancel()
    await asyncio.gather(producer, receiver, return_exceptions=True)
    ended = producer in done and not producer.cancelled()
    if ended and (error := producer.exception()) is not None:
        code, reason = _close_for(error, session, overall)
        if code:
            await _close(websocket, code, reason)


def _close_for(error: BaseException, session: FeedSession, overall: bool) -> tuple[int | None, str]:
    """The close code and reason for how a session ended (None: the client
    is gone, nothing to close)."""
    if isinstance(error, FeedRequestError):
        return error.code, error.reason
    if isinstance(error, SlowSubscriberError):
        if overall:
            return CLOSE_TRY_LATER, (
                "too slow: reconnect with last_sequences set to the "
                "last sequence number you received per operation"
            )
        sequence = max(session.sent.values(), default=0)
        return CLOSE_TRY_LATER, f"too slow: reconnect with last_sequence={sequence}"
    if isinstance(error, FeedClosedError):
        return CLOSE_GOING_AWAY, "the server is shutting down"
    if isinstance(error, (WebSocketDisconnect, WebSocketDisconnected, OSError)):
        return None, ""  # the client went away while we were sending
    log.error("live feed: a WebSocket session failed", exc_info=error)
    return CLOSE_INTERNAL, "internal error"


async def _until_disconnect(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass  # client messages carry nothing


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    encoded = reason.encode()[:MAX_REASON_BYTES]
    try:
        await websocket.close(code, encoded.decode(errors="ignore"))
    except (WebSocketDisconnect, WebSocketDisconnected, OSError):
        pass  # already gone
