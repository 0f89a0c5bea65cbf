"""The built dashboard (``frontend/dist``) served at ``/``.

A mount at ``/``, added after every API router, answers ``GET`` and
``HEAD`` of any path outside the API: a file of the build when there is one
(``/assets/...``, ``/favicon.svg``), else ``index.html`` so that the
dashboard's client-side routes (``/operations/<id>``) load on a reload. The
route never matches an API path (``/api``, ``/v1``, ``/ws``, ``/health``,
``/metrics``, ``/docs``, ``/redoc``, ``/openapi.json``) nor another method, so
an API 404 or 405 stays what it is. Without a build, ``/`` answers a short
page saying how to build the dashboard.

The build folder is looked up at each request, so ``npm run build`` while the
server runs is picked up without a restart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match, Mount, request_response
from starlette.types import Scope

API_PREFIXES = ("/api", "/v1", "/ws", "/health", "/metrics", "/docs", "/redoc", "/openapi.json")

# The repository's layout is fixed: frontend/ sits next to the package.
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"

NO_BUILD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>live_trading</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>live_trading</h1>
<p>The dashboard is not built. Build it with</p>
<pre>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>(<code>scripts/run-dev.sh</code> and <code>scripts/test.sh</code> do it for you)
and reload this page. Meanwhile the API is here:
<a href="/docs">/docs</a>.</p>
</body></html>
"""

IMMUTABLE = "public, max-age=31536000, immutable"


def is_api_path(path: str) -> bool:
    """True for a path the API owns (the dashboard never answers it)."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


def _route_path(scope: Scope) -> str:
    """The request's path below the application's (or the mount's) root path."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class DashboardMount(Mount):
    """The dashboard mounted at ``/``, matching only GET/HEAD of non-API
    paths: anything else falls through to the API's own 404/405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        if is_api_path(_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)


def _build_file(dist: Path, relative: str) -> Path | None:
    """The file of the build at ``relative``, or None (missing, a folder, or
    outside the build folder)."""
    if not relative:
        return None
    root = dist.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def dashboard_endpoint(dist: Path) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint answering every dashboard request from ``dist``."""

    async def serve(request: Request) -> Response:
        index = dist / "index.html"
        relative = _route_path(request.scope).lstrip("/")
        if not index.is_file():
            return HTMLResponse(NO_BUILD_PAGE, status_code=200 if not relative else 404)
        found = _build_file(dist, relative)
        if found is not None:
            cache = IMMUTABLE if relative.startswith("assets/") else "no-cache"
            return FileResponse(found, headers={"Cache-Control": cache})
        if relative.startswith("assets/"):
            # a missing hashed asset must not come back as HTML
            return Response("Not Found", status_code=404, media_type="text/plain")
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return serve


def install_dashboard(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the dashboard build at ``dist`` (default ``frontend/dist``).
    Call it after every API router is included."""
    app.router.routes.append(
        DashboardMount(
            "/", app=request_response(dashboard_endpoint(dist or DEFAULT_DIST)), name="dashboard"
        )
    )
