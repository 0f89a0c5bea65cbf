"""Validation of an operation's configuration (create and update).

The API uses these pydantic models as request bodies, so a bad field gets a
422 that names it; the engine uses :func:`resolve_spec` to fill defaults
from the settings and check what needs the settings (market data present,
position size limit). Nothing is journaled unless the whole spec is valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from live_trading.config import BrokerType, CrashRecoveryMode, RiskDefaults
from live_trading.data.replay import replay_file_path
from live_trading.domain.protection import StopLossType, TakeProfitType
from live_trading.domain.values import Asset, BarSize
from live_trading.engine.bounds import (
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    DailyLoss,
    EmergencyFraction,
    Money,
    ProtectionValue,
    Quantity,
    RetentionBars,
    free_form_problem,
    protection_problem,
)
from live_trading.strategies import create_strategy, strategy_names, validate_params


class InvalidSpecError(ValueError):
    """A field of an operation's configuration is invalid.

    ``field`` names it (``"asset"``, ``"strategy_config.fast_period"``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class OperationFields(BaseModel):
    """Settings shared by create and update; every one optional. Numbers are
    strict, finite and bounded (:mod:`live_trading.engine.bounds`)."""

    model_config = ConfigDict(extra="forbid")

    strategy_config: dict[str, Any] | None = Field(
        None,
        description=(
            f"the strategy's parameters; at most {MAX_JSON_DEPTH} levels deep and "
            f"{MAX_JSON_BYTES} bytes"
        ),
    )
    stop_loss_type: StopLossType | None = None
    stop_loss_value: ProtectionValue | None = None
    take_profit_type: TakeProfitType | None = None
    take_profit_value: ProtectionValue | None = None
    crash_recovery_mode: CrashRecoveryMode | None = None
    emergency_stop_loss_pct: EmergencyFraction | None = None
    data_retention_bars: RetentionBars | None = None
    quantity: Quantity | None = None
    max_daily_loss: DailyLoss | None = None

    @field_validator("strategy_config", mode="before")
    @classmethod
    def _free_form(cls, value: Any) -> Any:
        if value is not None and (problem := free_form_problem(value)):
            raise ValueError(problem)
        return value


class OperationCreate(OperationFields):
    """Body of ``POST /api/operations``. Unset risk settings take the
    defaults of ``config/config.yaml``."""

    asset: str = Field(..., examples=["USD-CAD"])
    bar_sizes: list[str] = Field(..., min_length=1, max_length=7, examples=[["1 hour"]])
    primary_bar_size: str | None = None
    strategy_name: str = Field(..., examples=["MomentumStrategy"])
    initial_capital: Money | None = None
    broker: BrokerType | None = Field(None, description="default: the engine's BROKER_TYPE")
    confirm_live: bool = Field(
        False,
        strict=True,
        description=("required (true) when the engine's broker account is LIVE: real money"),
    )

    @field_validator("asset")
    @classmethod
    def _asset(cls, value: str) -> str:
        return Asset.parse(value).name

    @field_validator("bar_sizes")
    @classmethod
    def _bar_sizes(cls, value: list[str]) -> list[str]:
        sizes = [BarSize.parse(v).value for v in value]
        return list(dict.fromkeys(sizes))

    @field_validator("primary_bar_size")
    @classmethod
    def _primary(cls, value: str | None) -> str | None:
        return None if value is None else BarSize.parse(value).value

    @field_validator("strategy_name")
    @classmethod
    def _strategy(cls, value: str) -> str:
        if value not in strategy_names():
            raise ValueError(f"unknown strategy {value!r}; known: {', '.join(strategy_names())}")
        return value


class OperationUpdate(OperationFields):
    """Body of ``PUT /api/operations/{id}``: only these settings can change."""


def _strategy_config(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return validate_params(name, params or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "strategy_config"
        raise InvalidSpecError(f"strategy_config.{where}", first["msg"]) from None


def resolve_spec(
    body: OperationCreate,
    defaults: RiskDefaults,
    replay_dir: Path | None,
    broker: BrokerType = BrokerType.PAPER,
    live: bool = False,
) -> dict[str, Any]:
    """The full, validated spec of a new operation (the OPERATION_CREATED data).

    ``replay_dir``: where its market data must be (None: from the broker);
    ``broker``: the broker the engine trades with; ``live``: whether its
    account is LIVE (then ``confirm_live`` must be true).

    Raises:
        InvalidSpecError: naming the field at fault.
    """
    primary = body.primary_bar_size or body.bar_sizes[0]
    if primary not in body.bar_sizes:
        raise InvalidSpecError("primary_bar_size", f"{primary!r} is not one of bar_sizes")
    if body.broker is not None and body.broker is not broker:
        raise InvalidSpecError(
            "broker",
            f"this engine trades through {broker.value} "
            "(BROKER_TYPE); start one for the other broker",
        )
    if live and not body.confirm_live:
        raise InvalidSpecError(
            "confirm_live",
            f"the {broker.value} account is LIVE (real money): set confirm_live to true",
        )
    if replay_dir is not None:
        path = replay_file_path(replay_dir, Asset.parse(body.asset), BarSize(primary))
        if not path.exists():
            raise InvalidSpecError(
                "asset",
                f"no market data for {body.asset} {primary}: "
                f"{path.name} not found in the replay data directory",
            )
    spec = {
        "asset": body.asset,
        "bar_sizes": body.bar_sizes,
        "primary_bar_size": primary,
        "strategy_name": body.strategy_name,
        "initial_capital": body.initial_capital or defaults.default_initial_capital,
        "broker": broker.value,
        "live_account": live,
        **_risk_fields(body, defaults),
    }
    spec["strategy_config"] = _strategy_config(body.strategy_name, body.strategy_config)
    check_spec(spec, defaults)
    return spec


def _risk_fields(body: OperationFields, defaults: RiskDefaults) -> dict[str, Any]:
    def pick(value: Any, default: Any) -> Any:
        return default if value is None else value

    return {
        "stop_loss_type": str(pick(body.stop_loss_type, defaults.default_stop_loss_type)),
        "stop_loss_value": pick(body.stop_loss_value, defaults.default_stop_loss_value),
        "take_profit_type": str(pick(body.take_profit_type, defaults.default_take_profit_type)),
        "take_profit_value": pick(body.take_profit_value, defaults.default_take_profit_value),
        "crash_recovery_mode": str(
            pick(body.crash_recovery_mode, defaults.default_crash_recovery_mode)
        ),
        "emergency_stop_loss_pct": pick(
            body.emergency_stop_loss_pct, defaults.default_emergency_stop_loss_pct
        ),
        "data_retention_bars": pick(body.data_retention_bars, defaults.default_data_retention_bars),
        "quantity": pick(body.quantity, defaults.default_quantity),
        "max_daily_loss": pick(body.max_daily_loss, defaults.max_daily_loss),
    }


def check_spec(spec: dict[str, Any], defaults: RiskDefaults) -> None:
    """Cross-field checks of a complete spec.

    Raises:
        InvalidSpecError: naming the field at fault.
    """
    if spec["quantity"] > defaults.max_position_size:
        raise InvalidSpecError(
            "quantity", f"exceeds max_position_size {defaults.max_position_size:g}"
        )
    for kind, value in (
        ("stop_loss_type", "stop_loss_value"),
        ("take_profit_type", "take_profit_value"),
    ):
        if problem := protection_problem(spec[kind], spec[value]):
            raise InvalidSpecError(value, problem)
    strategy = create_strategy(spec["strategy_name"], spec["strategy_config"])
    missing = [s for s in strategy.higher_bar_sizes() if s not in spec["bar_sizes"]]
    if missing or spec["primary_bar_size"] in strategy.higher_bar_sizes():
        raise InvalidSpecError(
            "bar_sizes",
            f"{spec['strategy_name']} reads "
            f"{', '.join(strategy.higher_bar_sizes())} besides "
            "the primary bar size: add it to bar_sizes",
        )
    warmup = strategy.warmup_bars
    if spec["data_retention_bars"] <= warmup:
        raise InvalidSpecError(
            "data_retention_bars", f"must exceed the strategy's warm-up of {warmup} bars"
        )


def updated_spec(
    current: dict[str, Any], body: OperationUpdate, defaults: RiskDefaults
) -> dict[str, Any]:
    """The changed settings of an update, validated against the whole spec.

    Returns only the fields whose value changes (empty: nothing to do).

    Raises:
        InvalidSpecError: naming the field at fault.
    """
    given = body.model_dump(exclude_none=True)
    if "strategy_config" in given:
        given["strategy_config"] = _strategy_config(
            current["strategy_name"], given["strategy_config"]
        )
    given = {k: (str(v) if hasattr(v, "value") else v) for k, v in given.items()}
    merged = {**current, **given}
    check_spec(merged, defaults)
    return {k: v for k, v in given.items() if current.get(k) != v}
