"""Users and bearer tokens for tests that call the API.

Users are written straight into the server's ``users`` collection (the same
shape :func:`live_trading.security.create_user` writes) so that a test
server can be started and used without a CLI round trip.
"""

from __future__ import annotations

import httpx
from pwdlib import PasswordHash
from pymongo import MongoClient

from live_trading.domain.values import utc_now

TEST_SECRET = "test-secret-key-for-the-suite-0123456789abcdef"
PASSWORD = "test-password-1"
_hasher = PasswordHash.recommended()


def seed_user(
    mongo_url: str, db_name: str, username: str, role: str, password: str = PASSWORD
) -> None:
    """Create (or replace) a user in ``db_name``."""
    with MongoClient(mongo_url) as client:
        client[db_name]["users"].replace_one(
            {"username": username},
            {
                "username": username,
                "password_hash": _hasher.hash(password),
                "role": role,
                "disabled": False,
                "created_at": utc_now(),
            },
            upsert=True,
        )


def login(
    base_url: str,
    username: str,
    password: str = PASSWORD,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """A bearer token from ``POST /api/auth/token``."""
    with httpx.Client(base_url=base_url, timeout=30, transport=transport) as client:
        response = client.post("/api/auth/token", data={"username": username, "password": password})
        response.raise_for_status()
        return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
