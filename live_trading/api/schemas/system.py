"""The service itself: mode, health, metrics, trading cycles, recovery, risk.

Models whose fields an answer may leave out (rather than send as ``null``)
say so, keep their defaults optional in the schema, and their routes set
``response_model_exclude_unset``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict

from .base import IsoTime, OutModel


class ModeOut(OutModel):
    """The gateway's mode: ``trading`` (orders reach the broker) or
    ``simulation`` (nothing reaches a broker)."""

    mode: Literal["trading", "simulation"]
    broker: str
    caption: str


class CycleOperationOut(OutModel):
    """What one trading cycle did for one operation. ``status`` ``done``,
    ``skipped`` (``detail`` says why) or ``error`` (``detail`` holds it); the
    price and trigger fields are present only when it is ``done``."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    operation_id: str
    asset: str | None = None
    status: str
    detail: str | None = None
    price: float | None = None
    price_source: str | None = None
    triggered: str | None = None
    trigger_action: str | None = None
    guardrails_passed: bool | None = None
    actions: list[str] | None = None
    sequence_numbers: list[int] | None = None


class CycleOut(OutModel):
    """One trading cycle; ``errors`` counts operations whose status is error."""

    cycle_id: str
    source: str
    started_at: IsoTime
    finished_at: IsoTime
    operations: list[CycleOperationOut]
    errors: int


class WorkerStatusOut(OutModel):
    """The scheduled trading worker; ``last_result`` is the last cycle's
    result (a :class:`CycleOut`, or ``{source, error}`` when it failed)."""

    running: bool
    enabled: bool
    interval_seconds: float
    cycles: int
    last_cycle_at: IsoTime | None
    next_run_at: IsoTime | None
    last_result: dict[str, Any] | None


class WorkerFailureOut(OutModel):
    """The worker's status could not be read."""

    running: bool
    enabled: bool
    error: str


class StoreHealthOut(OutModel):
    ok: bool
    embedded: bool


class BrokerHealthOut(OutModel):
    """A broker adapter: ``state`` a connection state (``CONNECTED``, ...)."""

    name: str
    state: str
    ok: bool


class EngineHealthOut(OutModel):
    runners: int
    running: int
    bars_processed: int


class HealthOut(OutModel):
    """``GET /health`` (200 healthy, 503 degraded, the same body).
    ``data_broker`` is present only when bars come from a broker other than
    the engine's; ``worker`` is null without a worker."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    status: Literal["ok", "degraded"]
    problems: list[str]
    mode: str
    store: StoreHealthOut
    broker: BrokerHealthOut
    data_broker: BrokerHealthOut | None = None
    worker: WorkerStatusOut | WorkerFailureOut | None
    engine: EngineHealthOut


class CallStatsOut(OutModel):
    """Timings of one broker method, in milliseconds (percentiles over the
    recent calls); ``slow`` counts calls over the slow-call threshold."""

    count: int
    errors: int
    slow: int
    mean_ms: float
    p50_ms: float
    p99_ms: float
    max_ms: float


class HistoryCacheOut(OutModel):
    """The market-history cache; ``hit_rate`` None before the first request."""

    source: str
    hits: int
    misses: int
    hit_rate: float | None


class MetricsOut(OutModel):
    """Broker call timings per method and the history cache."""

    broker: str
    broker_calls: dict[str, CallStatsOut]
    history_cache: HistoryCacheOut


class RecoveryReportOut(OutModel):
    """A start-up recovery: per operation what was found at the broker and
    what was done (free-form, see :mod:`live_trading.engine.recovery`)."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=False)

    started_at: IsoTime
    finished_at: IsoTime | None = None
    dry_run: bool
    archived_entries: int | None = None
    operations: list[dict[str, Any]]


class KillSwitchOperationOut(OutModel):
    """What the kill switch did to one operation: ``flat`` (paused, no
    position left), ``closing`` (paused, the exit is working at the broker),
    ``already`` (was paused and flat: nothing journaled), ``skipped`` (closed
    or in error) or ``failed`` (``detail`` holds the error)."""

    operation_id: str
    outcome: Literal["flat", "closing", "already", "skipped", "failed"]
    detail: str | None = None


class KillSwitchProgressOut(OutModel):
    """The kill-switch run in progress, or the last one (times UTC).

    ``total``: operations it covers; ``done``: how many it has finished;
    ``presses``: presses that joined it (the first included).
    """

    running: bool
    total: int
    done: int
    presses: int
    source: str
    user: str | None
    started_at: IsoTime
    finished_at: IsoTime | None
    results: list[KillSwitchOperationOut]


class KillSwitchOut(KillSwitchProgressOut):
    """A finished press. ``operations`` (and ``count``): the ids of the
    operations it paused or flattened; ``joined``: this press found another
    running and waited for it (it journaled nothing of its own)."""

    operations: list[str]
    count: int
    joined: bool


class PositionClosingOut(OutModel):
    """A close order for the position was sent; its fill follows on the feed."""

    position_id: str
    operation_id: str
    status: Literal["closing"]
