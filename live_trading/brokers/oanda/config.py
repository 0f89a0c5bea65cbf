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
        timeout_s: per-request timeout of REST calls, seconds.
        poll_interval_s: how often the transaction poller asks for new
            transactions (fills, cancellations) to report to the listener.
        heartbeat_timeout_s: a price stream silent this long (no price, no
            heartbeat; OANDA heartbeats every 5 s) is reconnected.
        reconnect_delay_s: first delay before reconnecting a dropped stream
            (doubled per failed attempt, up to 30 s).
        first_transaction_id: :meth:`OANDABroker.executions` reads fills from
            the transaction after this one (the account's history before it
            is ignored; OANDA accounts may be long-lived and shared).
        price_precision: decimals sent for prices (5 for most FX pairs; 3 for
            JPY pairs: override per instrument in ``instrument_precision``).
        instrument_precision: per-instrument price decimals, ``{"USD_JPY": 3}``.
    """

    account_id: str
    api_key: str = field(repr=False)
    environment: OANDAEnvironment = OANDAEnvironment.PRACTICE
    base_url: str | None = None
    stream_url: str | None = None
    timeout_s: float = 10.0
    poll_interval_s: float = 1.0
    heartbeat_timeout_s: float = 15.0
    reconnect_delay_s: float = 1.0
    first_transaction_id: str = "1"
    price_precision: int = 5
    instrument_precision: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.account_id:
            raise ValueError("account_id is required")
        if not self.api_key:
            raise ValueError("api_key is required")
        object.__setattr__(self, "environment", OANDAEnvironment(str(self.environment).upper()))
        if self.timeout_s <= 0 or self.poll_interval_s <= 0:
            raise ValueError("timeout_s and poll_interval_s must be > 0")

    @property
    def rest_url(self) -> str:
        return (self.base_url or _REST_HOSTS[self.environment]).rstrip("/")

    @property
    def stream_base_url(self) -> str:
        return (self.stream_url or self.base_url or _STREAM_HOSTS[self.environment]).rstrip("/")

    def precision(self, instrument: str) -> int:
        if instrument in self.instrument_precision:
            return self.instrument_precision[instrument]
        return 3 if instrument.endswith("_JPY") else self.price_precision

    def __repr__(self) -> str:
        return (f"OANDAConfig(account_id={self.account_id!r}, api_key={mask(self.api_key)}, "
                f"environment={self.environment.value}, rest_url={self.rest_url!r}, "
                f"stream_url={self.stream_base_url!r}, timeout_s={self.timeout_s})")

    __str__ = __repr__
