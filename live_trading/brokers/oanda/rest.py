"""REST transport of :class:`~.client.OANDABroker`: one call to the v20
REST API, its errors, and the account path."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from . import parsing as p

log = logging.getLogger(__name__)


class RestCalls:
    """Mixin of OANDABroker (uses its ``config`` and ``_client``)."""

    def _acct(self, path: str) -> str:
        return f"/v3/accounts/{self.config.account_id}{path}"

    def _require_connected(self) -> None:
        if self._client is None:
            raise ConnectionError("not connected to OANDA: call connect() first")

    async def _get_ok(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, body = await self._call("GET", path, **kwargs)
        if status >= 400:
            raise ConnectionError(f"OANDA GET {path} failed: {p.error_reason(status, body)}")
        return status, body

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """One REST call -> (status, JSON body). Authentication failures and
        transport errors raise ConnectionError; other statuses are returned."""
        if self._client is None:
            raise ConnectionError("not connected to OANDA: call connect() first")
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise ConnectionError(f"OANDA {method} {path} timed out "
                                  f"({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise ConnectionError(f"OANDA unreachable at {self.config.rest_url}: "
                                  f"{type(error).__name__}") from None
        body = json_or_none(response.content)
        if response.status_code == 401:
            raise ConnectionError(
                "OANDA rejected the API key (HTTP 401): check the token and that the "
                f"environment ({self.config.environment.value}) matches it")
        if response.status_code == 403:
            raise ConnectionError(
                f"OANDA refused access to account {self.config.account_id} (HTTP 403): "
                f"{p.error_reason(403, body)}")
        return response.status_code, body if body is not None else {}



def prefix_of(account: str) -> str:
    """The client-id prefix of ``account``'s orders: ``LT-<account>-``."""
    return f"LT-{account}-"


def json_or_none(raw: bytes | str) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
