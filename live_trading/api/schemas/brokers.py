"""Broker configurations as the API shows them: never the API key itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pydantic import Field

from live_trading.brokers.configs import AccountType, BrokerName

from .base import OutModel


class BrokerConfigOut(OutModel):
    """:class:`~live_trading.brokers.configs.BrokerConfig` without
    ``api_key``; ``api_key_set`` tells whether one is stored."""

    id: PydanticObjectId
    broker_name: BrokerName
    account_type: AccountType = "PAPER"
    host: str | None = None
    port: int | None = None
    client_id: int | None = None
    account_id: str | None = None
    is_active: bool = True
    config: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    api_key_set: bool
