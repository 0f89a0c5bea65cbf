"""The adapters' deadlines come from the settings (IBKR_*_TIMEOUT_SECONDS,
OANDA_TIMEOUT_SECONDS), and nonsense values are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from live_trading.bootstrap import build_broker
from live_trading.config import BrokerType, Settings

SECRET = "x" * 40


def test_ibkr_deadlines_reach_the_adapter() -> None:
    settings = Settings(
        broker_type=BrokerType.IBKR,
        secret_key=SECRET,
        ibkr_connect_timeout_seconds=42,
        ibkr_request_timeout_seconds=7,
    )
    broker = build_broker(settings, store=None)  # type: ignore[arg-type]  # IB needs no store
    assert broker.config.connect_timeout_s == 42
    assert broker.config.request_timeout_s == 7
    assert broker.config.submit_ack_timeout_s == 7


def test_oanda_deadline_reaches_the_adapter() -> None:
    settings = Settings(
        broker_type=BrokerType.OANDA,
        secret_key=SECRET,
        oanda_api_key="token",
        oanda_account_id="101-001-1-001",
        oanda_timeout_seconds=3.5,
    )
    broker = build_broker(settings, store=None)  # type: ignore[arg-type]  # OANDA needs no store
    assert broker.config.timeout_s == 3.5


@pytest.mark.parametrize("field", ["ibkr_request_timeout_seconds", "oanda_timeout_seconds"])
@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan"), 10_000])
def test_a_deadline_must_be_a_sane_number_of_seconds(field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(secret_key=SECRET, **{field: value})
