"""Settings of the Interactive Brokers adapter (TWS or IB Gateway)."""

from __future__ import annotations

from dataclasses import dataclass, field

PAPER_PORT = 7497
"""TWS paper-trading API port (IB Gateway paper: 4002)."""
LIVE_PORT = 7496
"""TWS live-trading API port (IB Gateway live: 4001)."""


@dataclass(frozen=True, slots=True)
class IBKRConfig:
    """Where TWS / IB Gateway listens and how the adapter behaves.

    Attributes:
        host, port: the API socket (7497 = TWS paper, 7496 = TWS live).
        client_id: the API client id; orders are bound to it by IB.
        account: the IB account orders go to; ``None`` = the only managed one.
        connect_timeout_s: deadline of the socket handshake plus the
            initial sync (open and completed orders, executions, positions).
        request_timeout_s: deadline of every other awaited request (open
            orders, executions, positions, contract details, quotes, a
            cancel or modify confirmation); on expiry ``BrokerTimeout``.
        reconnect_backoff_s: waits between reconnection (and re-sync)
            attempts; the last value is repeated for ever.
        connect_attempts: how many times ``connect()`` retries a partial
            sync (with ``reconnect_backoff_s``) before it gives up.
        submit_ack_timeout_s: how long ``submit_order`` waits for IB's first
            answer (orderStatus, openOrder or rejection); without one the
            outcome is unknown (``OrderOutcomeUnknown``).
        history_timeout_s: deadline of one historical-data request.
        pacing_retries, pacing_wait_s: a history request refused for pacing
            (IB errors 162 / 420 / 366) is retried this many times, waiting
            ``pacing_wait_s`` between tries (IB: at most 60 requests in 10
            minutes, none identical within 15 s), then raised.
    """

    host: str = "127.0.0.1"
    port: int = PAPER_PORT
    client_id: int = 1
    account: str | None = None
    connect_timeout_s: float = 30.0
    request_timeout_s: float = 10.0
    reconnect_backoff_s: tuple[float, ...] = (1, 2, 5, 10, 30)
    connect_attempts: int = 3
    submit_ack_timeout_s: float = 10.0
    history_timeout_s: float = 60.0
    pacing_retries: int = 3
    pacing_wait_s: float = 15.0
    contracts: dict = field(default_factory=dict)
    """Per-asset :class:`~live_trading.brokers.ibkr.parsing.IBKRContractSpec`
    overrides (``{"AAPL-USD": IBKRContractSpec("AAPL", "STK", "SMART", "USD")}``);
    assets not listed are FX pairs on IDEALPRO."""

    def __post_init__(self) -> None:
        if not self.host or not isinstance(self.host, str):
            raise ValueError("host must be a non-empty string")
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ValueError(f"port must be 1..65535, got {self.port!r}")
        if not isinstance(self.client_id, int) or self.client_id < 0:
            raise ValueError(f"client_id must be an integer >= 0, got {self.client_id!r}")
        if self.account is not None and not self.account.strip():
            raise ValueError("account must be None or a non-empty IB account id")
        for name in (
            "connect_timeout_s",
            "request_timeout_s",
            "submit_ack_timeout_s",
            "history_timeout_s",
            "pacing_wait_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("connect_attempts", "pacing_retries"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be an integer >= 0")
        backoff = tuple(self.reconnect_backoff_s)
        if not backoff or any(b < 0 for b in backoff):
            raise ValueError("reconnect_backoff_s must be a non-empty tuple of waits >= 0")
        object.__setattr__(self, "reconnect_backoff_s", backoff)

    @property
    def is_live_port(self) -> bool:
        return self.port in (LIVE_PORT, 4001)
