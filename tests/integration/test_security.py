"""Who may call what, over real HTTP against ``live-trading run``.

The route checks are generated from the app's route table, so a route added
later is checked without editing this file: every route but the listed
exemptions refuses no token, a bad, expired or wrongly signed token (401) and
a role below the one the policy gives it (403). Also: logging in, the users
API, disabled users, the user recorded in journal entries made through the
API, rate limits (429, then recovery) and the refusal of a placeholder
SECRET_KEY by the real CLI.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from bson import ObjectId
from fastapi.routing import iter_route_contexts

from live_trading.api.app import create_app
from live_trading.config import Settings
from live_trading.security import ROLE_RANK, Role, issue_token
from tests.auth_helpers import PASSWORD, TEST_SECRET, bearer, login
from tests.conftest import BIN, ROOT, SAMPLE_DATA, SERVER_DEFAULTS, LiveServer, unique_db

# Open on purpose; everything else needs a token.
EXEMPT = {
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/mode"),
    ("POST", "/api/auth/token"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}
USERS = {"vera": Role.VIEWER, "tom": Role.TRADER, "ada": Role.ADMIN}
BY_ROLE = {role: name for name, role in USERS.items()}
BARS = 120


def expected_role(method: str, path: str) -> Role:
    """The access policy: reads need viewer, changes trader; users, broker
    configurations and recovery runs admin."""
    if path.startswith("/api/users"):
        return Role.ADMIN
    if method == "GET":
        return Role.VIEWER
    if path.startswith(("/api/brokers", "/api/recovery")):
        return Role.ADMIN
    return Role.TRADER


def _required_role(dependant) -> Role | None:
    """The strongest role a route's dependency tree asks for (None: open)."""
    if dependant is None:
        return None
    found = [getattr(dependant.call, "required_role", None)]
    found += [_required_role(sub) for sub in dependant.dependencies]
    roles = [r for r in found if r is not None]
    return max(roles, key=ROLE_RANK.__getitem__) if roles else None


def route_table() -> list[tuple[str, str, Role | None]]:
    """(method, path, required role) of every HTTP route of the app."""
    app = create_app(Settings(secret_key=TEST_SECRET, mongodb_url="mongodb://127.0.0.1:9"))
    table = []
    for context in iter_route_contexts(app.routes):
        if not context.methods:  # WebSocket routes
            continue
        role = _required_role(getattr(context.original_route, "dependant", None))
        table += [(m, context.path, role) for m in sorted(context.methods - {"HEAD"})]
    return table


ROUTES = route_table()
PROTECTED = [(m, p, r) for m, p, r in ROUTES if (m, p) not in EXEMPT]


def _url(path: str) -> str:
    """The path with every parameter filled with an id that exists nowhere."""
    return "/".join(str(ObjectId()) if part.startswith("{") else part for part in path.split("/"))


def _call(http: httpx.Client, method: str, path: str, headers: dict | None = None):
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return http.request(method, _url(path), json=body, headers=headers or {})


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory):
    """Rate limits off (with tiny limits that would otherwise bite)."""
    data = tmp_path_factory.mktemp("replay")
    lines = (SAMPLE_DATA / "USDCAD_1h.csv").read_text().splitlines()[: BARS + 1]
    (data / "USDCAD_1h.csv").write_text("\n".join(lines) + "\n")
    live = LiveServer(
        {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB_NAME": unique_db(),
            "REPLAY_DATA_DIR": str(data),
            "RATE_LIMIT_ENABLED": "false",
            "RATE_LIMIT_LOGIN": "1/hour",
            "RATE_LIMIT_MUTATIONS": "1/hour",
        },
        tmp_path_factory.mktemp("logs") / "server.log",
    )
    for name, role in USERS.items():
        live.add_user(name, role)
    yield live.start()
    live.stop()


@pytest.fixture(scope="module")
def anon(server: LiveServer):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def test_every_route_follows_the_access_policy() -> None:
    assert len(PROTECTED) >= 20, PROTECTED
    for method, path, role in ROUTES:
        if (method, path) in EXEMPT:
            assert role is None, f"{method} {path} is exempt but asks for {role}"
        else:
            assert role == expected_role(method, path), f"{method} {path}: {role}"
    assert {(m, p) for m, p, _ in ROUTES} >= EXEMPT, "an exempt route is missing"


@pytest.mark.parametrize(("method", "path"), sorted(EXEMPT))
def test_exempt_routes_answer_without_a_token(anon: httpx.Client, method: str, path: str) -> None:
    assert _call(anon, method, path).status_code not in (401, 403)


def _bad_tokens() -> dict[str, str]:
    return {
        "garbage": "not-a-jwt",
        "expired": issue_token(TEST_SECRET, "ada", Role.ADMIN, minutes=-5),
        "wrong signature": issue_token(
            "another-secret-" + TEST_SECRET, "ada", Role.ADMIN, minutes=5
        ),
        "unknown user": issue_token(TEST_SECRET, "nobody", Role.ADMIN, minutes=5),
    }


@pytest.mark.parametrize(
    ("method", "path", "role"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED]
)
def test_route_refuses_missing_bad_and_weak_credentials(
    server: LiveServer, anon: httpx.Client, method: str, path: str, role: Role
) -> None:
    response = _call(anon, method, path)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    for why, token in _bad_tokens().items():
        response = _call(anon, method, path, bearer(token))
        assert response.status_code == 401, (why, response.text)
    for weaker, name in BY_ROLE.items():
        if ROLE_RANK[weaker] < ROLE_RANK[role]:
            response = _call(anon, method, path, bearer(server.token(name)))
            assert response.status_code == 403, (weaker, response.text)
            assert str(role) in response.json()["detail"]
    if method == "GET":  # reads have no side effects: the role itself is let in
        response = _call(anon, method, path, bearer(server.token(BY_ROLE[role])))
        assert response.status_code not in (401, 403), response.text


def test_login_gives_a_working_token_and_refuses_a_wrong_password(anon: httpx.Client) -> None:
    token = login(str(anon.base_url), "tom")
    assert anon.get("/api/auth/me", headers=bearer(token)).json() == {
        "username": "tom",
        "role": "trader",
    }
    for username, password in (("tom", "wrong-password"), ("nobody", PASSWORD)):
        response = anon.post("/api/auth/token", data={"username": username, "password": password})
        assert response.status_code == 401
        assert "access_token" not in response.text


def test_users_api_lists_creates_and_validates(server: LiveServer) -> None:
    with server.client("ada") as http:
        listed = http.get("/api/users").json()
        assert {u["username"] for u in listed} >= set(USERS) | {"admin"}
        assert all(set(u) == {"username", "role", "disabled", "created_at"} for u in listed)
        assert "argon2" not in http.get("/api/users").text
        created = http.post(
            "/api/users", json={"username": "nina", "password": "long-enough-1", "role": "trader"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["role"] == "trader" and not created.json()["disabled"]
        again = http.post("/api/users", json={"username": "nina", "password": "other-pass-2"})
        assert again.status_code == 409
        for body, field in (
            ({"username": "x1", "password": "short"}, "password"),
            ({"username": "bad name", "password": "long-enough-1"}, "username"),
            ({"username": "x2", "password": "long-enough-1", "role": "god"}, "role"),
        ):
            response = http.post("/api/users", json=body)
            assert response.status_code == 422, body
            assert [e["loc"] for e in response.json()["detail"]] == [["body", field]]
        assert http.patch("/api/users/ghost", json={"role": "viewer"}).status_code == 404
    assert login(server.url, "nina", "long-enough-1")


def test_disabling_a_user_stops_their_token_and_a_role_change_applies_at_once(
    server: LiveServer, anon: httpx.Client
) -> None:
    with server.client("ada") as admin:
        admin.post("/api/users", json={"username": "dora", "password": "long-enough-1"})
        token = login(server.url, "dora", "long-enough-1")
        missing = f"/api/operations/{ObjectId()}"
        assert anon.put(missing, json={}, headers=bearer(token)).status_code == 403
        assert admin.patch("/api/users/dora", json={"role": "trader"}).json()["role"] == "trader"
        assert anon.put(missing, json={}, headers=bearer(token)).status_code == 404
        assert admin.patch("/api/users/dora", json={"disabled": True}).json()["disabled"]
        assert anon.get("/api/auth/me", headers=bearer(token)).status_code == 401
        refused = anon.post(
            "/api/auth/token", data={"username": "dora", "password": "long-enough-1"}
        )
        assert refused.status_code == 401
        admin.patch("/api/users/dora", json={"disabled": False})
        assert anon.get("/api/auth/me", headers=bearer(token)).status_code == 200


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(server: LiveServer) -> None:
    with server.client("ada") as http:
        assert http.patch("/api/users/admin", json={"disabled": True}).status_code == 200
        for change in ({"disabled": True}, {"role": "trader"}):
            response = http.patch("/api/users/ada", json=change)
            assert response.status_code == 409, response.text
            assert "last enabled admin" in response.json()["detail"]
        assert http.patch("/api/users/admin", json={"disabled": False}).status_code == 200
        assert http.patch("/api/users/ada", json={"role": "admin"}).status_code == 200


def test_journal_entries_made_through_the_api_record_the_user(server: LiveServer) -> None:
    with server.client("tom") as tom, server.client("ada") as ada:
        created = tom.post(
            "/api/operations",
            json={"asset": "USD-CAD", "bar_sizes": ["1 hour"], "strategy_name": "MomentumStrategy"},
        )
        assert created.status_code == 201, created.text
        op_id = created.json()["id"]
        server.wait_idle()
        assert tom.post(f"/api/operations/{op_id}/pause").status_code == 200
        assert ada.post(f"/api/operations/{op_id}/resume").status_code == 200
        assert tom.delete(f"/api/operations/{op_id}").status_code == 200
        entries = tom.get(f"/api/operations/{op_id}/journal", params={"limit": 10_000}).json()
    users = {e["action_type"]: e["user"] for e in entries if e["source"] == "api/manual"}
    assert users["OPERATION_CREATED"] == "tom"
    assert users["OPERATION_PAUSED"] == "tom"
    assert users["OPERATION_RESUMED"] == "ada"
    assert users["OPERATION_CLOSE_REQUESTED"] == "tom"
    assert all(e["user"] for e in entries if e["source"] == "api/manual")


def test_rate_limits_are_off_when_disabled(server: LiveServer, anon: httpx.Client) -> None:
    missing = f"/api/operations/{ObjectId()}"
    for _ in range(3):  # the limits are 1/hour: each of these would be refused
        assert login(server.url, "vera")
        assert anon.put(missing, json={}, headers=bearer(server.token("tom"))).status_code == 404


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert "rate limit" in response.json()["detail"]
    return int(response.headers["retry-after"])


def test_rate_limits_answer_429_then_recover(mongo_url: str, tmp_path: Path) -> None:
    """Also: ENVIRONMENT=development starts with a placeholder SECRET_KEY."""
    live = LiveServer(
        {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB_NAME": unique_db(),
            "RATE_LIMIT_LOGIN": "3 per 3 seconds",
            "RATE_LIMIT_MUTATIONS": "3 per 3 seconds",
            "ENVIRONMENT": "development",
            "SECRET_KEY": "change-me",
        },
        tmp_path / "server.log",
    )
    live.add_user("tom", "trader")
    live.start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            form = {"username": "admin", "password": "wrong-password"}
            assert [http.post("/api/auth/token", data=form).status_code for _ in range(3)] == [
                401
            ] * 3
            wait = _retry_after(http.post("/api/auth/token", data={**form, "password": PASSWORD}))
            assert 1 <= wait <= 3
            time.sleep(wait)
            admin, tom = bearer(login(live.url, "admin")), bearer(login(live.url, "tom"))
            for _ in range(3):
                assert http.post("/api/risk/kill-switch", headers=admin).status_code == 200
            wait = _retry_after(http.post("/api/risk/kill-switch", headers=admin))
            assert http.get("/api/operations", headers=admin).status_code == 200
            assert http.post("/api/risk/kill-switch", headers=tom).status_code == 200
            time.sleep(wait)
            assert http.post("/api/risk/kill-switch", headers=admin).status_code == 200
    finally:
        live.stop()


@pytest.mark.parametrize("secret", ["change-me", "", "too-short-0123456789"])
def test_the_cli_refuses_a_placeholder_secret_key_outside_development(
    mongo_url: str, secret: str
) -> None:
    env = {
        **os.environ,
        **SERVER_DEFAULTS,
        "MONGODB_URL": mongo_url,
        "MONGODB_DB_NAME": unique_db(),
        "SECRET_KEY": secret,
        "ENVIRONMENT": "production",
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
    assert "SECRET_KEY is a placeholder" in result.stderr
    assert "ENVIRONMENT=development" in result.stderr
