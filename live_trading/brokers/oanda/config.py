"""Configuration of the OANDA v20 adapter.

The API key is a secret: it is kept out of ``repr`` and ``str`` (masked), and
the adapter never logs it (it travels only in the ``Authorization`` header).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OANDAEnvironment(StrEnum):
    PRACTICE = "PRACTICE"
    LIVE = "LIVE"


_REST_HOSTS = {
    OANDAEnvironment.PRACTICE: "https://api-fxpractice.oanda.com",
    OANDAEnvironment.LIVE: "https://api-fxtrade.oanda.com",
}
_STREAM_HOSTS = {
    OANDAEnvironment.PRACTICE: "https://stream-fxpractice.oanda.com",
    OANDAEnvironment.LIVE: "https://stream-fxtrade.oanda.com",
}


def mask(secret: str) -> str:
    """``'****abcd'``: enough to tell two keys apart, never the key."""
    if not secret:
        return "''"
    return "****" + secret[-4:] if len(secret) >= 16 else "****"


@dataclass(frozen=True)
class OANDAConfig:
    """How to reach one OANDA v20 account.

    Attributes:
        account_id: the v20 account (``"101-001-1234567-001"``).
        api_key: the personal access token (secret; masked in ``repr``).
        environment: PRACTICE (fxpractice hosts) or LIVE (fxtrade hosts).
        base_url: REST base URL override (tests: the fake server).
        stream_url: streaming base URL override; defaults to ``base_url``
            when that is set, else the environment's stream host.
        timeout_s: overall deadline of one REST exchange, seconds: from
            sending the request to the last byte of the answer (an answer
            that drips a byte at a time still ends at the deadline). A read
            past it raises ``BrokerTimeout``; a submit, cancel or modify
            past it is settled by re-reading the order, else raises
            ``OrderOutcomeUnknown``.
        poll_interval_s: how often the transaction poller asks for new
            transactions (fills, cancellations) to report to the listener.
        heartbeat_timeout_s: a price stream silent this long (no price, no
            heartbeat; OANDA heartbeats every 5 s, and advises reconnecting
            after 10 s of silence) is reconnected.
        transaction_timeout_s: the transaction feed without a complete
            answer this long is reconnected (new HTTP client, RECONNECTING)
            and catches up from the last transaction id it delivered.
        reconnect_delay_s: first delay before reconnecting a dropped stream
            (doubled per failed attempt, up to 30 s).
        max_retries: retries of a call answered 429 (rate limited) or 5xx,
            or whose connection dropped when a repeat is harmless.
        retry_backoff_s: first wait before a retry (doubled per retry, up to
            ``retry_max_wait_s``); a ``Retry-After`` header overrides it.
        retry_max_wait_s: the longest wait before one retry, seconds.
        protect_attempts: attempts to place a held stop-loss / take-profit on
            the trade its entry opened (backoff as above) before the trade is
            closed at market rather than left without its stop.
        clock_skew_s: candles are asked up to now minus this margin, so that
            a clock slightly ahead of OANDA's never asks for a ``to`` in the
            future (OANDA refuses it: "Time is in the future").
        first_transaction_id: :meth:`OANDABroker.executions` reads fills from
            the transaction after this one (the account's history before it
            is ignored; OANDA accounts may be long-lived and shared).
    """

    account_id: str
    api_key: str = field(repr=False)
    environment: OANDAEnvironment = OANDAEnvironment.PRACTICE
    base_url: str | None = None
    stream_url: str | None = None
    timeout_s: float = 10.0
    poll_interval_s: float = 1.0
    heartbeat_timeout_s: float = 10.0
    transaction_timeout_s: float = 20.0
    reconnect_delay_s: float = 1.0
    max_retries: int = 4
    retry_backoff_s: float = 0.5
    retry_max_wait_s: float = 10.0
    protect_attempts: int = 5
    clock_skew_s: float = 5.0
    first_transaction_id: str = "1"

    def __post_init__(self) -> None:
        if not self.account_id:
            raise ValueError("account_id is required")
        if not self.api_key:
            raise ValueError("api_key is required")
        object.__setattr__(self, "environment", OANDAEnvironment(str(self.environment).upper()))
        for name in (
            "timeout_s",
            "poll_interval_s",
            "heartbeat_timeout_s",
            "transaction_timeout_s",
            "retry_max_wait_s",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.max_retries < 0 or self.protect_attempts < 1 or self.clock_skew_s < 0:
            raise ValueError("max_retries must be >= 0, protect_attempts >= 1, clock_skew_s >= 0")

    def backoff_s(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (0-based), seconds."""
        return min(self.retry_backoff_s * 2**attempt, self.retry_max_wait_s)

    @property
    def rest_url(self) -> str:
        return (self.base_url or _REST_HOSTS[self.environment]).rstrip("/")

    @property
    def stream_base_url(self) -> str:
        return (self.stream_url or self.base_url or _STREAM_HOSTS[self.environment]).rstrip("/")

    def __repr__(self) -> str:
        return (
            f"OANDAConfig(account_id={self.account_id!r}, api_key={mask(self.api_key)}, "
            f"environment={self.environment.value}, rest_url={self.rest_url!r}, "
            f"stream_url={self.stream_base_url!r}, timeout_s={self.timeout_s})"
        )

    __str__ = __repr__
