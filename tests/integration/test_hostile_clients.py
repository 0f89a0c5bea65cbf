"""Hostile clients against ``live-trading run``, over real HTTP and WebSocket.

What a security review found (issue 14) and what each answers now:

* ``X-Forwarded-For`` picked the rate-limit bucket: uvicorn believed it
  from 127.0.0.1, and with the default bind every client is 127.0.0.1. Now
  it is believed only from ``TRUSTED_PROXIES`` (empty by default), and
  login is limited per (username, client) and per client, so guessing one
  user's password from one address does not lock that user out elsewhere;
* no security headers (CSP, X-Frame-Options, nosniff, Referrer-Policy) and
  no ``Cache-Control: no-store`` on the token;
* WebSockets accepted any ``Origin``;
* the development key made PyJWT warn ``InsecureKeyLengthWarning``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from itertools import count

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.auth_helpers import PASSWORD
from tests.conftest import BIN, ROOT, SERVER_DEFAULTS, LiveServer, unique_db

_address = count(1)


def _spoofed() -> dict[str, str]:
    """A new, made-up client address in X-Forwarded-For."""
    n = next(_address)
    return {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"}


def _login(
    http: httpx.Client, username: str, password: str, headers: dict[str, str] | None = None
) -> int:
    response = http.post(
        "/api/auth/token", data={"username": username, "password": password}, headers=headers or {}
    )
    return response.status_code


def _server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory, **env: str) -> LiveServer:
    live = LiveServer(
        {"MONGODB_URL": mongo_url, "MONGODB_DB_NAME": unique_db(), **env},
        tmp_path_factory.mktemp("logs") / "server.log",
    )
    for name in ("ada", "tom", "vera"):
        live.add_user(name, "trader")
    return live


@pytest.fixture(scope="module")
def untrusting(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Default proxy settings (none trusted); login limits that a test can reach."""
    live = _server(
        mongo_url, tmp_path_factory, RATE_LIMIT_LOGIN="6/hour", RATE_LIMIT_LOGIN_USER="3/hour"
    ).start()
    yield live.url
    live.stop()


@pytest.fixture(scope="module")
def behind_proxy(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """127.0.0.1 is a trusted proxy, as when nginx on the same machine forwards."""
    live = _server(
        mongo_url,
        tmp_path_factory,
        RATE_LIMIT_LOGIN="6/hour",
        RATE_LIMIT_LOGIN_USER="3/hour",
        TRUSTED_PROXIES="127.0.0.1",
    ).start()
    yield live.url
    live.stop()


@pytest.fixture(scope="module")
def development(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """ENVIRONMENT=development with the placeholder SECRET_KEY."""
    live = _server(
        mongo_url, tmp_path_factory, ENVIRONMENT="development", SECRET_KEY="change-me"
    ).start()
    yield live
    live.stop()


# --- who the client is, and the login limits -------------------------------------------


def test_x_forwarded_for_does_not_pick_the_bucket_by_default(untrusting: str) -> None:
    with httpx.Client(base_url=untrusting, timeout=30) as http:
        guesses = [_login(http, "ada", f"guess-{n}", _spoofed()) for n in range(3)]
        assert guesses == [401] * 3
        assert _login(http, "ada", PASSWORD, _spoofed()) == 429  # (ada, this client): 3/hour
        assert _login(http, "tom", PASSWORD, _spoofed()) == 200  # another user: not locked
        assert _login(http, "sprayed-1", "guess", _spoofed()) == 401  # the client's 6th
        assert _login(http, "vera", PASSWORD, _spoofed()) == 429  # this client: 6/hour
        refused = http.post("/api/auth/token", data={"username": "vera", "password": PASSWORD})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "from this address" in refused.json()["detail"]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_buckets(
    behind_proxy: str,
) -> None:
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    with httpx.Client(base_url=behind_proxy, timeout=30) as http:
        assert [_login(http, "ada", f"guess-{n}", attacker) for n in range(3)] == [401] * 3
        assert _login(http, "ada", PASSWORD, attacker) == 429
        # the real ada, elsewhere, is not locked out; nor is another user at that address
        assert _login(http, "ada", PASSWORD, {"X-Forwarded-For": "192.0.2.10"}) == 200
        assert _login(http, "tom", PASSWORD, attacker) == 200
        # what the client itself put in front of the proxy's entry does not count
        for n in range(2):
            spoofed = {"X-Forwarded-For": f"10.9.9.{n}, 203.0.113.7"}
            assert _login(http, "vera", "wrong", spoofed) == (401 if n == 0 else 429)


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start(mongo_url: str) -> None:
    env = {
        **os.environ,
        **SERVER_DEFAULTS,
        "MONGODB_URL": mongo_url,
        "MONGODB_DB_NAME": unique_db(),
        "TRUSTED_PROXIES": "127.0.0.1,*",
    }
    result = subprocess.run(
        [str(BIN / "live-trading"), "run", "--port", "9"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "TRUSTED_PROXIES" in result.stderr and "'*'" in result.stderr


# --- headers ---------------------------------------------------------------------------

HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _assert_hardened(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp


def test_every_answer_has_the_security_headers(development: LiveServer) -> None:
    token = development.token("tom")
    with httpx.Client(base_url=development.url, timeout=30) as http:
        answers = [
            http.get("/"),
            http.get("/assets/missing.js"),
            http.get("/health"),
            http.get("/openapi.json"),
            http.get("/api/operations"),
            http.get("/api/nothing-here"),
            http.get("/docs"),
            http.post("/api/operations", content=b"x" * 2_000_000),
            http.get("/api/operations", headers={"Authorization": f"Bearer {token}"}),
        ]
        assert [a.status_code for a in answers] == [200, 404, 200, 200, 401, 404, 200, 413, 200]
        for answer in answers:
            _assert_hardened(answer)
    dashboard_csp = answers[0].headers["content-security-policy"]
    assert "script-src 'self';" in dashboard_csp  # no inline script on the dashboard
    assert "style-src 'self' 'unsafe-inline'" in dashboard_csp  # MUI/emotion's <style>
    assert "https://cdn.jsdelivr.net" in answers[6].headers["content-security-policy"]
    assert answers[8].headers["cache-control"] == "no-store"


def test_the_token_is_not_cached(development: LiveServer) -> None:
    response = httpx.post(
        f"{development.url}/api/auth/token",
        data={"username": "tom", "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    _assert_hardened(response)


# --- WebSocket origins -----------------------------------------------------------------


def _hello(url: str, token: str, origin: str | None) -> dict:
    ws_url = url.replace("http://", "ws://") + f"/ws/overall?token={token}"
    with connect(ws_url, origin=origin, proxy=None, open_timeout=30) as ws:
        return json.loads(ws.recv(timeout=30))


def test_a_websocket_from_another_origin_is_refused(development: LiveServer) -> None:
    token = development.token("vera")
    for origin in (
        "http://evil.example",
        "null",
        f"http://127.0.0.1:{development.port + 1}",
        "http://localhost:4000.evil.example",
    ):
        with pytest.raises(InvalidStatus) as refused:
            _hello(development.url, token, origin)
        assert refused.value.response.status_code == 403, origin


def test_a_websocket_from_the_server_its_dev_server_or_no_browser_is_admitted(
    development: LiveServer,
) -> None:
    token = development.token("vera")
    for origin in (None, development.url, "http://localhost:4000", "http://127.0.0.1:4000"):
        assert _hello(development.url, token, origin)["type"] == "hello", origin


# --- the development key ---------------------------------------------------------------


def test_the_development_key_signs_without_an_insecure_key_warning(development: LiveServer) -> None:
    token = development.token("tom")
    me = httpx.get(
        f"{development.url}/api/auth/me", timeout=30, headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200 and me.json()["username"] == "tom"
    log = development.log_path.read_text()
    assert "POST /api/auth/token" in log  # the log is the server's, and it was written to
    assert "InsecureKeyLengthWarning" not in log
