"""Broker configurations (collection ``broker_configs``).

A configuration names a broker (PAPER, IBKR, OANDA), the account type
(PAPER or LIVE), where to reach it and with which credentials. Secrets (the
API key) are write-only: no API answer contains them (only ``api_key_set``),
and the document's repr leaves them out so logs never print one. Creating or
switching a configuration to a LIVE account requires ``confirm_live: true``.

Stored in the database as given; protect the database (and its backups) as
you would the key itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymongo import ASCENDING, IndexModel

from live_trading.engine.bounds import WholeNumber

BrokerName = Literal["PAPER", "IBKR", "OANDA"]
AccountType = Literal["PAPER", "LIVE"]


class BrokerConfig(Document):
    broker_name: BrokerName
    account_type: AccountType = "PAPER"
    host: str | None = None
    port: int | None = None
    client_id: int | None = None
    account_id: str | None = None
    api_key: str | None = Field(None, repr=False)
    is_active: bool = True
    config: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime

    class Settings:
        name = "broker_configs"
        indexes = [IndexModel([("broker_name", ASCENDING), ("is_active", ASCENDING)])]

    def public(self) -> dict[str, Any]:
        """The configuration as the API shows it: never the secret."""
        data = self.model_dump(mode="json", by_alias=False, exclude={"api_key"})
        data["api_key_set"] = bool(self.api_key)
        return data


class BrokerConfigFields(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    account_type: AccountType | None = None
    host: str | None = Field(None, max_length=255)
    port: WholeNumber | None = Field(None, ge=1, le=65535)
    client_id: WholeNumber | None = Field(None, ge=0, le=2**31 - 1)
    account_id: str | None = Field(None, max_length=64)
    api_key: str | None = Field(
        None, min_length=1, max_length=512, repr=False, description="write-only: never returned"
    )
    is_active: bool | None = Field(None, strict=True)
    config: dict[str, Any] | None = None
    confirm_live: bool = Field(False, strict=True, description="must be true to use a LIVE account")


class BrokerConfigCreate(BrokerConfigFields):
    broker_name: BrokerName

    @model_validator(mode="after")
    def _live_needs_confirmation(self) -> BrokerConfigCreate:
        if self.account_type == "LIVE" and not self.confirm_live:
            raise ValueError("a LIVE account trades real money: set confirm_live to true")
        return self


class BrokerConfigUpdate(BrokerConfigFields):
    pass
