"""REST transport of :class:`~.client.OANDABroker`: one call to the v20
REST API under an overall deadline, its retries, and what its errors mean.

What a call can end in, and why:

* an answer (any status but 401/403, and 429 or 5xx once retries are
  spent): ``(status, body)``;
* 401 / 403: ``ConnectionError`` (the token or the account is refused);
* the request certainly did not leave (connection refused, no connection
  from the pool, DNS): retried, then ``ConnectionError``;
* 429 (OANDA's rate limit: the request was refused, not processed): retried
  after ``Retry-After`` when given, else with exponential backoff; for every
  method, since a refused request did nothing;
* 5xx: retried for reads and for calls marked ``idempotent`` (a cancel);
  answered to the caller for a POST or a replace, which first re-reads the
  order by its client id before sending it again (see :mod:`.orders`);
* no complete answer within ``config.timeout_s`` (headers *and* body: an
  answer that drips a byte every few seconds ends there too), or the
  connection dropped after the request left: a read raises
  ``BrokerTimeout`` (dropped connections are retried first); a write raises
  :class:`AnswerLost`, which the order code settles or turns into
  ``OrderOutcomeUnknown``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx

from live_trading.engine.ports import BrokerTimeout

from . import parsing as p
from .state import OANDAState

log = logging.getLogger(__name__)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class AccessRefused(ConnectionError):
    """OANDA refused the token (401) or the account (403): retrying is useless."""


class AnswerLost(Exception):
    """A write left but its answer did not come back complete (deadline, or
    the connection dropped): OANDA may have processed it."""

    def __init__(self, call: str, detail: str, timed_out: bool) -> None:
        super().__init__(f"{call}: {detail}")
        self.call = call
        self.detail = detail
        self.timed_out = timed_out


class RestCalls(OANDAState):
    """Mixin of OANDABroker (uses its ``config`` and ``_client``)."""

    def _acct(self, path: str) -> str:
        return f"/v3/accounts/{self.config.account_id}{path}"

    def _require_connected(self) -> None:
        if self._client is None:
            raise ConnectionError("not connected to OANDA: call connect() first")

    async def _get_ok(self, path: str, *, call: str, **kwargs: Any) -> tuple[int, Any]:
        """A GET that must succeed: any status >= 400 raises ConnectionError."""
        status, body = await self._call("GET", path, call=call, **kwargs)
        if status >= 400:
            raise ConnectionError(f"OANDA GET {path} failed: {p.error_reason(status, body)}")
        return status, body

    async def _call(
        self, method: str, path: str, *, call: str, idempotent: bool | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        """One REST call -> (status, JSON body), retried as the module
        docs say. ``call`` names the port method for errors and metrics.

        Raises:
            ConnectionError: refused token or account, or OANDA unreachable.
            BrokerTimeout: a read got no complete answer within the deadline.
            AnswerLost: a non-idempotent write left but its answer was lost.
        """
        repeatable = method == "GET" if idempotent is None else idempotent
        attempt = 0
        while True:
            response = await self._exchange(method, path, call, repeatable, attempt, kwargs)
            if response is None:  # dropped or not sent, and repeatable
                attempt += 1
                continue
            status = response.status_code
            if status < 300 and response.content and json_or_none(response.content) is None:
                if method != "GET":  # a cut-short answer: the write may have taken
                    raise AnswerLost(call, "the answer was cut short", timed_out=False)
                status = 502  # a read: ask again
            retry = status == 429 or (status >= 500 and repeatable)
            if retry and attempt < self.config.max_retries:
                wait = _retry_after(response) or self.config.backoff_s(attempt)
                log.warning(
                    "OANDA %s %s answered %d; retry %d in %.2f s",
                    method,
                    path,
                    status,
                    attempt + 1,
                    wait,
                )
                await asyncio.sleep(min(wait, self.config.retry_max_wait_s))
                attempt += 1
                continue
            return status, self._body(response)

    async def _exchange(
        self,
        method: str,
        path: str,
        call: str,
        repeatable: bool,
        attempt: int,
        kwargs: dict[str, Any],
    ) -> httpx.Response | None:
        """One HTTP exchange under the deadline; None when it should be
        repeated (not sent, or dropped and repeatable, with retries left)."""
        if self._client is None:
            raise ConnectionError("not connected to OANDA: call connect() first")
        deadline = self.config.timeout_s
        retries_left = attempt < self.config.max_retries
        try:
            async with asyncio.timeout(deadline):
                return await self._client.request(method, path, **kwargs)
        except _NOT_SENT as error:
            if not retries_left:
                raise ConnectionError(
                    f"OANDA unreachable at {self.config.rest_url}: {type(error).__name__}"
                ) from None
        except (TimeoutError, httpx.TimeoutException):
            if repeatable and method == "GET":
                raise BrokerTimeout(call, deadline, f"{method} {path}") from None
            raise AnswerLost(
                call, f"no complete answer within {deadline:g} s", timed_out=True
            ) from None
        except httpx.TransportError as error:  # sent, then the connection dropped
            if not (repeatable and retries_left):
                if method == "GET":
                    raise ConnectionError(
                        f"OANDA {method} {path} dropped: {type(error).__name__}"
                    ) from None
                raise AnswerLost(
                    call, f"connection dropped ({type(error).__name__})", timed_out=False
                ) from None
        await asyncio.sleep(self.config.backoff_s(attempt))
        return None

    def _body(self, response: httpx.Response) -> Any:
        body = json_or_none(response.content)
        if response.status_code == 401:
            raise AccessRefused(
                "OANDA rejected the API key (HTTP 401): check the token and that the "
                f"environment ({self.config.environment.value}) matches it"
            )
        if response.status_code == 403:
            raise AccessRefused(
                f"OANDA refused access to account {self.config.account_id} (HTTP 403): "
                f"{p.error_reason(403, body)}"
            )
        return body if body is not None else {}


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delta-seconds form), if sent."""
    try:
        value = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def prefix_of(account: str) -> str:
    """The client-id prefix of ``account``'s orders: ``LT-<account>-``."""
    return f"LT-{account}-"


def json_or_none(raw: bytes | str) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
