"""The pure parts of the hardening: free-form JSON limits, stop ranges,
WebSocket origins, the trusted-proxy list. (Over HTTP:
tests/integration/test_hostile_*.py.)"""

from __future__ import annotations

import json

import pytest

from live_trading.api.origins import origin_allowed
from live_trading.api.proxy import check_trusted_proxies
from live_trading.engine.bounds import (
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    free_form_problem,
    protection_problem,
)


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_free_form_limits() -> None:
    assert free_form_problem(_nested(MAX_JSON_DEPTH)) is None
    assert "deeper than 20" in free_form_problem(_nested(MAX_JSON_DEPTH + 1))
    assert "deeper" in free_form_problem(json.loads("[" * 900 + "]" * 900))  # no recursion
    assert "finite" in free_form_problem({"a": [1, {"b": float("inf")}]})
    assert "finite" in free_form_problem({"a": float("nan")})
    assert free_form_problem({"s": "x" * (MAX_JSON_BYTES - 20)}) is None
    assert "larger than" in free_form_problem({"s": "x" * MAX_JSON_BYTES})


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("ATR", 0.01, True),
        ("ATR", 100, True),
        ("ATR", 0.009, False),
        ("ATR", 100.1, False),
        ("PERCENTAGE", 0.999, True),
        ("PERCENTAGE", 1.0, False),
        ("PERCENTAGE", 5e-324, False),
        ("FIXED", 1e6, True),
        ("FIXED", 1e7, False),
        ("FIXED", 1e-9, False),
        ("RISK_REWARD", 100, True),
        ("RISK_REWARD", 1e308, False),
    ],
)
def test_stop_and_target_ranges_by_type(kind: str, value: float, ok: bool) -> None:
    problem = protection_problem(kind, value)
    assert (problem is None) is ok, problem
    if problem:
        assert kind in problem


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [
        (None, "127.0.0.1:8000", True),  # not a browser
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),  # the server's own page
        ("https://Trading.Example.com", "trading.example.com", True),
        ("http://localhost:4000/", "127.0.0.1:9000", True),  # the dev server (listed)
        ("http://evil.example", "127.0.0.1:8000", False),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),
        ("http://127.0.0.1:8000", None, False),
    ],
)
def test_websocket_origins(origin: str | None, host: str | None, ok: bool) -> None:
    allowed = ["http://localhost:4000", "http://127.0.0.1:4000"]
    assert origin_allowed(origin, host, allowed) is ok


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert check_trusted_proxies(["127.0.0.1", "10.0.0.0/8", "::1"])
    for bad in ("*", "localhost", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
            check_trusted_proxies(["127.0.0.1", bad])
