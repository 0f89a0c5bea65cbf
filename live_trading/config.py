"""Settings: environment variables over ``config/config.yaml`` over defaults.

One typed :class:`Settings` object is built at start-up by the composition
root (:mod:`live_trading.bootstrap`) and passed down; nothing else reads the
environment.
"""

from __future__ import annotations

import hashlib
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from live_trading.domain.protection import StopLossType, TakeProfitType


class CrashRecoveryMode(StrEnum):
    CLOSE_ALL = "CLOSE_ALL"
    RESUME = "RESUME"
    EMERGENCY_EXIT = "EMERGENCY_EXIT"


class BrokerType(StrEnum):
    PAPER = "PAPER"
    IBKR = "IBKR"
    OANDA = "OANDA"


class RiskDefaults(BaseModel):
    """Risk limits and the defaults of a new operation's risk settings."""

    model_config = ConfigDict(frozen=True)

    max_position_size: float = Field(1_000_000, gt=0)
    max_daily_loss: float = Field(500, gt=0)
    default_stop_loss_type: StopLossType = StopLossType.ATR
    default_stop_loss_value: float = Field(1.5, gt=0)
    default_take_profit_type: TakeProfitType = TakeProfitType.RISK_REWARD
    default_take_profit_value: float = Field(2.0, gt=0)
    default_crash_recovery_mode: CrashRecoveryMode = CrashRecoveryMode.CLOSE_ALL
    default_emergency_stop_loss_pct: float = Field(0.05, gt=0, le=1)
    default_data_retention_bars: int = Field(1000, ge=50)
    default_quantity: float = Field(10_000, gt=0)
    default_initial_capital: float = Field(100_000, gt=0)


class InstrumentSettings(BaseModel):
    """One asset's tick (quote currency), lot and minimum size (base units)."""

    model_config = ConfigDict(frozen=True)

    tick_size: float = Field(gt=0)
    lot_size: float = Field(1.0, gt=0)
    min_quantity: float = Field(1.0, gt=0)


class PaperBrokerSettings(BaseModel):
    """Fill model of the paper broker, in basis points of price; instrument
    specifications (``PAPER_BROKER__INSTRUMENTS`` as JSON, e.g.
    ``{"EUR-USD": {"tick_size": 0.00001, "lot_size": 1000, "min_quantity": 1000}}``;
    assets not listed: ``tick_size`` (``jpy_tick_size`` for JPY quotes),
    ``lot_size``, ``min_quantity``)."""

    model_config = ConfigDict(frozen=True)

    half_spread_bps: float = Field(0.5, ge=0)
    slippage_bps: float = Field(0.0, ge=0)
    commission_bps: float = Field(0.2, ge=0)
    commission_minimum: float = Field(0.0, ge=0)
    tick_size: float = Field(0.00001, gt=0)
    jpy_tick_size: float = Field(0.001, gt=0)
    lot_size: float = Field(1.0, gt=0)
    min_quantity: float = Field(1.0, gt=0)
    instruments: dict[str, InstrumentSettings] = Field(default_factory=dict)


class LoggingSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: str = "INFO"
    journal_retention_days: int = Field(90, ge=1)


# The dashboard's development server (``npm run dev``, FRONTEND_PORT 4000).
DEV_SERVER_ORIGINS = ("http://localhost:4000", "http://127.0.0.1:4000")
PLACEHOLDER_SECRET = "change-me"
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "your-secret-key", "...", "placeholder"}
)


def _default_config_file() -> Path:
    return Path(os.environ.get("CONFIG_FILE", "config/config.yaml"))


class Settings(BaseSettings):
    """All settings of the program.

    Store: ``MONGODB_URL`` selects an external MongoDB; unset, an embedded
    SecantusDB server is started with its data under ``DATA_DIR``.
    """

    model_config = SettingsConfigDict(
        env_nested_delimiter="__", case_sensitive=False, extra="ignore", frozen=True
    )

    mongodb_url: str | None = None
    mongodb_db_name: str = "trading_bot"
    data_dir: Path = Path("./var")
    # an embedded server whose owner is gone (killed) stops itself after this
    embedded_orphan_grace_seconds: float = Field(60.0, gt=0, allow_inf_nan=False)
    replay_data_dir: Path | None = None
    replay_speed: float = Field(0.0, ge=0)
    replay_mode: Literal["bars", "ticks"] = "bars"
    market_data_source: Literal["replay", "broker"] | None = Field(
        None, description="default: replay files for PAPER, the broker's stream otherwise"
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    broker_type: BrokerType = BrokerType.PAPER
    ibkr_host: str = "127.0.0.1"
    ibkr_port: int = Field(7497, ge=1, le=65535, description="7497 paper, 7496 live")
    ibkr_client_id: int = Field(1, ge=0)
    ibkr_account: str | None = None
    ibkr_account_type: Literal["PAPER", "LIVE"] = "PAPER"
    # Deadlines of the broker adapters' awaited calls (BrokerTimeout past them).
    ibkr_connect_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=600,
        allow_inf_nan=False,
        description="handshake plus the connect-time sync (orders, executions, positions)",
    )
    ibkr_request_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        allow_inf_nan=False,
        description="every other request; also how long a submit waits for its first status",
    )
    oanda_api_key: SecretStr | None = None
    oanda_account_id: str | None = None
    oanda_environment: Literal["PRACTICE", "LIVE"] = "PRACTICE"
    oanda_base_url: str | None = None
    oanda_stream_url: str | None = None
    oanda_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        allow_inf_nan=False,
        description="overall deadline of one v20 REST exchange, first byte to last",
    )
    risk_management: RiskDefaults = RiskDefaults()
    paper_broker: PaperBrokerSettings = PaperBrokerSettings()
    logging: LoggingSettings = LoggingSettings()

    # Gateway mode: ``trading`` sends orders to the broker and keeps the trade
    # log; ``simulation`` never reaches a broker (orders are filled by the
    # built-in simulator) and streams signals and simulated trades.
    mode: Literal["trading", "simulation"] = "trading"
    environment: Literal["development", "production"] = Field(
        "production", description="development allows a placeholder SECRET_KEY"
    )
    trading_worker_enabled: bool = True
    trading_worker_interval_seconds: float = Field(60.0, gt=0)
    # operations the kill switch and a trading cycle work on at the same time
    kill_switch_concurrency: int = Field(32, ge=1, le=1024)
    trade_log_dir: Path = Path("./logs")
    # Security: JWT bearer tokens signed with SECRET_KEY (HS256).
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    access_token_expire_minutes: int = Field(60, ge=1)
    rate_limit_enabled: bool = True
    rate_limit_login: str = Field("20/minute", description="limits syntax, per client address")
    rate_limit_login_user: str = Field(
        "5/minute", description="limits syntax, per (username, client address)"
    )
    rate_limit_mutations: str = Field("120/minute", description="limits syntax, per user")
    # Hardening (docs/reverse-proxy.md): whose X-Forwarded-For is believed,
    # how large a request may be, which pages may open the live feed.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed; empty: none, the peer address is the client"
        ),
    )
    max_request_bytes: int = Field(
        1_048_576, ge=1024, le=1_073_741_824, description="largest request body; larger: 413"
    )
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEV_SERVER_ORIGINS),
        description=(
            "browser origins (scheme://host[:port]) that may open a WebSocket besides the "
            "server's own; clients sending no Origin (not browsers) are always admitted"
        ),
    )
    log_format: Literal["json", "text"] = "json"
    # Live feed: MongoDB change streams when the server has them, else polling.
    feed_source: Literal["auto", "change_stream", "poll"] = "auto"
    feed_poll_seconds: float = Field(0.25, gt=0)
    # Engine supervision (engine/monitor.py): continuous reconciliation with
    # the broker every RECONCILIATION_INTERVAL_MINUTES (0: only at start-up
    # and after reconnects); a live bar feed is stale after twice its bar
    # size plus MARKET_DATA_STALE_GRACE_SECONDS of trading time; checks run
    # every ENGINE_CHECK_INTERVAL_SECONDS.
    reconciliation_interval_minutes: float = Field(5.0, ge=0)
    market_data_stale_grace_seconds: float = Field(60.0, ge=0)
    engine_check_interval_seconds: float = Field(15.0, gt=0)

    @field_validator("trusted_proxies", "ws_allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """A list from the environment: ``a,b`` or JSON ``["a", "b"]``."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=_default_config_file())
        return (init_settings, env_settings, dotenv_settings, yaml_source)

    @property
    def live_account(self) -> bool:
        """True when the configured broker trades a LIVE (real money) account."""
        return (self.broker_type is BrokerType.IBKR and self.ibkr_account_type == "LIVE") or (
            self.broker_type is BrokerType.OANDA and self.oanda_environment == "LIVE"
        )

    @property
    def secret_is_placeholder(self) -> bool:
        """True when SECRET_KEY is a known placeholder or shorter than 32 characters."""
        value = self.secret_key.get_secret_value()
        return value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < 32

    def signing_key(self) -> str:
        """The key that signs the JWT tokens: SECRET_KEY itself, or, for a
        placeholder or short key (accepted in development only), a 64-hex
        digit key derived from it, so HS256 never signs with fewer than 32
        bytes (PyJWT's ``InsecureKeyLengthWarning``)."""
        value = self.secret_key.get_secret_value()
        if len(value.encode()) >= 32 and not self.secret_is_placeholder:
            return value
        return hashlib.sha256(b"live_trading development key:" + value.encode()).hexdigest()

    def check_secret_key(self) -> None:
        """Refuse to serve with a placeholder SECRET_KEY outside development.

        Raises:
            ValueError: ENVIRONMENT is production and SECRET_KEY is a placeholder.
        """
        if self.environment != "development" and self.secret_is_placeholder:
            raise ValueError(
                "SECRET_KEY is a placeholder (or shorter than 32 characters); "
                "set a random one, e.g. `openssl rand -hex 32`, or run with "
                "ENVIRONMENT=development"
            )

    def resolved_replay_dir(self) -> Path:
        """``REPLAY_DATA_DIR``, or the sample data shipped with the package."""
        if self.replay_data_dir is not None:
            return self.replay_data_dir
        from live_trading.data.replay import default_replay_dir

        return default_replay_dir()
