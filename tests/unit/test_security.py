"""Tokens, roles, rate limits and the secret-key check, without a server."""

from __future__ import annotations

import asyncio
import time
import warnings

import jwt
import pytest
from fastapi import HTTPException

from live_trading.api.app import create_app
from live_trading.api.ratelimit import RateLimiter
from live_trading.config import Settings
from live_trading.security import InvalidTokenError, Role, issue_token, read_token, role_allows

SECRET = "unit-test-secret-" + "0123456789abcdef" * 4


def _settings(**overrides) -> Settings:
    values = {
        "secret_key": SECRET,
        "mongodb_url": "mongodb://127.0.0.1:9",
        "environment": "production",
    }
    return Settings(**{**values, **overrides})


def test_a_token_carries_its_user_and_role_until_it_expires() -> None:
    claims = read_token(SECRET, issue_token(SECRET, "tom", Role.TRADER, minutes=5))
    assert (claims.username, claims.role) == ("tom", Role.TRADER)
    decoded = jwt.decode(
        issue_token(SECRET, "tom", Role.TRADER, minutes=5), SECRET, algorithms=["HS256"]
    )
    assert decoded["exp"] - decoded["iat"] == 5 * 60


@pytest.mark.parametrize(
    "token",
    [
        issue_token(SECRET, "tom", Role.TRADER, minutes=-1),
        issue_token("some-other-secret-0123456789abcdef", "tom", Role.TRADER, minutes=5),
        jwt.encode({"sub": "tom", "role": "trader"}, SECRET, algorithm="HS256"),  # no exp
        jwt.encode({"sub": "tom", "role": "god", "exp": 4_102_444_800}, SECRET, algorithm="HS256"),
        jwt.encode(
            {"sub": "tom", "role": "admin", "exp": 4_102_444_800}, SECRET, algorithm="HS512"
        ),
        "not.a.token",
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidTokenError):
        read_token(SECRET, token)


def test_roles_are_ranked() -> None:
    allowed = {(have, need) for have in Role for need in Role if role_allows(have, need)}
    assert allowed == {
        ("viewer", "viewer"),
        ("trader", "viewer"),
        ("trader", "trader"),
        ("admin", "viewer"),
        ("admin", "trader"),
        ("admin", "admin"),
    }


async def test_a_limit_refuses_with_retry_after_then_frees_up() -> None:
    limiter = RateLimiter(_settings(rate_limit_mutations="2 per 1 second"))
    await limiter.check_mutation("tom")
    await limiter.check_mutation("tom")
    with pytest.raises(HTTPException) as refused:
        await limiter.check_mutation("tom")
    assert refused.value.status_code == 429
    assert refused.value.headers == {"Retry-After": "1"}
    assert "at most 2 changes by this user per second" in refused.value.detail
    await limiter.check_mutation("ann")  # per user
    await asyncio.sleep(1.05)
    await limiter.check_mutation("tom")


async def test_login_and_mutation_limits_are_separate() -> None:
    limiter = RateLimiter(_settings(rate_limit_login="1/minute", rate_limit_mutations="1/minute"))
    await limiter.check_login("10.0.0.1", "tom")
    await limiter.check_mutation("10.0.0.1")
    with pytest.raises(HTTPException) as refused:
        await limiter.check_login("10.0.0.1", "ann")
    assert 55 <= int(refused.value.headers["Retry-After"]) <= 60
    await limiter.check_login("10.0.0.2", "tom")


async def test_login_is_limited_per_user_and_client_below_the_per_client_limit() -> None:
    limiter = RateLimiter(_settings(rate_limit_login="3/minute", rate_limit_login_user="2/minute"))
    for _ in range(2):
        await limiter.check_login("10.0.0.1", "tom")
    with pytest.raises(HTTPException) as refused:
        await limiter.check_login("10.0.0.1", "tom")
    assert "as this user from this address" in refused.value.detail
    await limiter.check_login("10.0.0.2", "tom")  # tom elsewhere: not locked out
    with pytest.raises(HTTPException) as refused:  # the address's 4th attempt
        await limiter.check_login("10.0.0.1", "ann")
    assert "login attempts from this address" in refused.value.detail


async def test_disabled_limits_never_refuse() -> None:
    limiter = RateLimiter(_settings(rate_limit_enabled=False, rate_limit_login="1/hour"))
    started = time.monotonic()
    for _ in range(50):
        await limiter.check_login("10.0.0.1", "tom")
    assert time.monotonic() - started < 1


def test_a_malformed_limit_is_refused_with_its_setting_name() -> None:
    with pytest.raises(ValueError, match="RATE_LIMIT_MUTATIONS='lots' is not a rate limit"):
        RateLimiter(_settings(rate_limit_mutations="lots"))


@pytest.mark.parametrize("secret", ["change-me", "CHANGEME", "", "short-but-not-a-placeholder"])
def test_create_app_refuses_a_placeholder_secret_outside_development(secret: str) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY is a placeholder"):
        create_app(_settings(secret_key=secret))
    assert create_app(_settings(secret_key=secret, environment="development"))


def test_create_app_accepts_a_real_secret() -> None:
    assert create_app(_settings()).state.rate_limiter.enabled


@pytest.mark.parametrize("secret", ["change-me", "", "short-but-not-a-placeholder"])
def test_a_development_key_is_stretched_to_32_bytes_without_a_warning(secret: str) -> None:
    settings = _settings(secret_key=secret, environment="development")
    key = settings.signing_key()
    assert len(key.encode()) >= 32 and key != secret
    assert key == _settings(secret_key=secret, environment="development").signing_key()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # InsecureKeyLengthWarning would raise
        token = issue_token(key, "tom", Role.TRADER, minutes=5)
        assert read_token(key, token).username == "tom"
    assert _settings().signing_key() == SECRET  # a real key is used as it is
