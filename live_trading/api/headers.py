"""Security headers on every HTTP answer, errors included.

* ``Content-Security-Policy``: the dashboard (a Vite build: scripts and
  styles from its own origin; MUI/emotion inject ``<style>`` elements, so
  ``style-src`` allows inline styles; lightweight-charts draws on canvas)
  loads nothing from elsewhere and talks only to its own origin (``connect-src
  'self'`` covers its WebSocket). The API docs pages (``/docs``, ``/redoc``)
  load Swagger UI and ReDoc from their CDN and start them with an inline
  script, so they get a policy allowing exactly that. ``frame-ancestors
  'none'`` everywhere.
* ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy:
  same-origin``.
* ``Cache-Control: no-store`` on every ``/api`` answer that sets no policy
  of its own: tokens and account data never land in a shared or disk cache.

``Strict-Transport-Security`` is the TLS-terminating proxy's to send
(``docs/reverse-proxy.md``).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {CDN}; "
    f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)
DOCS_PAGES = ("/docs", "/redoc")
COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the page at ``path``."""
    docs = any(path == page or path.startswith(page + "/") for page in DOCS_PAGES)
    return DOCS_CSP if docs else DASHBOARD_CSP


class SecurityHeadersMiddleware:
    """ASGI middleware adding the headers above to every HTTP answer (a
    header the answer sets itself is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in {**COMMON, "Content-Security-Policy": policy_for(path)}.items():
                    headers.setdefault(name, value)
                if path == "/api" or path.startswith("/api/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
