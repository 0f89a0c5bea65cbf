"""The built dashboard served at ``/`` by the API (``live_trading.api.dashboard``).

A tiny fake build stands in for ``frontend/dist``: its files are served,
client-side routes fall back to ``index.html``, and no API path (known or
unknown, any method) is ever answered by the dashboard. Without a build,
``/`` says how to build it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from live_trading.api.app import create_app
from live_trading.api.dashboard import API_PREFIXES, is_api_path
from live_trading.bootstrap import Services
from live_trading.config import Settings
from tests.auth_helpers import TEST_SECRET

INDEX = "<!doctype html><html><body><div id=root>FAKE-DASHBOARD-INDEX</div></body></html>"
SCRIPT = "console.log('FAKE-DASHBOARD-SCRIPT');"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    build = tmp_path / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text(INDEX)
    (build / "assets" / "index-abc123.js").write_text(SCRIPT)
    (build / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("NOT-PART-OF-THE-BUILD")
    return build


def _settings() -> Settings:
    # no store is opened: the lifespan does not run under ASGITransport
    return Settings(secret_key=TEST_SECRET, mongodb_url="mongodb://127.0.0.1:9")


@pytest.fixture
async def http(dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_settings(), dashboard_dir=dist)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        yield client


async def test_root_and_client_routes_answer_the_index(http: httpx.AsyncClient) -> None:
    for path in (
        "/",
        "/operations",
        "/operations/665f1c2e9b1e4a0001abcdef",
        "/operations/new",
        "/settings",
        "/login?next=%2Fsettings",
        "/apiary",
        "/healthy",
        "/docsy",
    ):
        response = await http.get(path)
        assert response.status_code == 200, path
        assert "FAKE-DASHBOARD-INDEX" in response.text, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.headers["cache-control"] == "no-cache", path
    head = await http.head("/operations/x")
    assert head.status_code == 200
    assert head.content == b""


async def test_build_files_are_served_with_their_type(http: httpx.AsyncClient) -> None:
    script = await http.get("/assets/index-abc123.js")
    assert script.status_code == 200
    assert script.text == SCRIPT
    assert "javascript" in script.headers["content-type"]
    assert "immutable" in script.headers["cache-control"]
    icon = await http.get("/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg")


async def test_a_missing_asset_is_404_not_the_index(http: httpx.AsyncClient) -> None:
    response = await http.get("/assets/index-old999.js")
    assert response.status_code == 404
    assert "FAKE-DASHBOARD-INDEX" not in response.text


async def test_nothing_outside_the_build_is_served(http: httpx.AsyncClient) -> None:
    for path in ("/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        response = await http.get(path)
        assert "NOT-PART-OF-THE-BUILD" not in response.text, path


@pytest.mark.parametrize(
    "path",
    [
        "/api/nothing-here",
        "/api",
        "/api/operations/x/nothing",
        "/v1/nothing",
        "/ws/nothing",
        "/ws/overall",
        "/health/x",
        "/metrics/x",
        "/docs/x",
        "/redoc/x",
        "/openapi.json/x",
    ],
)
async def test_unknown_api_paths_stay_json_404(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404, path
    assert response.json() == {"detail": "Not Found"}, path


async def test_api_routes_are_not_shadowed(http: httpx.AsyncClient) -> None:
    spec = await http.get("/openapi.json")
    assert spec.status_code == 200
    assert "/api/operations" in spec.json()["paths"]
    assert not any(not is_api_path(path) for path in spec.json()["paths"]), (
        "an API path outside the prefixes the dashboard leaves alone"
    )
    docs = await http.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert "FAKE-DASHBOARD-INDEX" not in docs.text
    # a known API path with a method it does not take: still 405
    wrong_method = await http.get("/api/auth/token")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"detail": "Method Not Allowed"}


async def test_other_methods_on_dashboard_paths_are_not_the_index(http: httpx.AsyncClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = await http.request(method, "/operations/new")
        assert response.status_code in (404, 405), method
        assert "FAKE-DASHBOARD-INDEX" not in response.text, method


async def test_the_dashboard_needs_no_token_and_api_routes_still_answer(
    services: Services, dist: Path
) -> None:
    """With a real store behind the app: the open API routes answer as
    before, and the dashboard's files are public (the data is not)."""
    app = create_app(services.settings, dashboard_dir=dist)
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        mode = await client.get("/api/v1/mode")
        operations = await client.get("/api/operations", headers={"Accept": "text/html"})
        index = await client.get("/")
    assert operations.status_code == 401  # its own answer, not the dashboard
    assert mode.status_code == 200
    assert mode.json()["caption"] == "Trading Portal - TRADING"
    assert "FAKE-DASHBOARD-INDEX" in index.text


async def test_without_a_build_root_says_how_to_build(tmp_path: Path) -> None:
    app = create_app(_settings(), dashboard_dir=tmp_path / "no-dist")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        root = await client.get("/")
        deep = await client.get("/operations/abc")
        api = await client.get("/api/nothing-here")
    assert root.status_code == 200
    assert "npm run build" in root.text
    assert root.headers["content-type"].startswith("text/html")
    assert deep.status_code == 404
    assert "npm run build" in deep.text
    assert api.json() == {"detail": "Not Found"}


async def test_a_build_made_while_serving_is_picked_up(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    app = create_app(_settings(), dashboard_dir=dist)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        before = await client.get("/")
        dist.mkdir()
        (dist / "index.html").write_text(INDEX)
        after = await client.get("/")
    assert "npm run build" in before.text
    assert "FAKE-DASHBOARD-INDEX" in after.text


def test_the_prefixes_cover_every_api_route() -> None:
    app = create_app(_settings())
    paths = [getattr(route, "path", "") for route in app.routes]
    api_paths = [p for p in paths if p]
    assert api_paths
    assert all(is_api_path(p) for p in api_paths), [p for p in api_paths if not is_api_path(p)]
    assert set(API_PREFIXES) >= {"/api", "/ws", "/v1"}
