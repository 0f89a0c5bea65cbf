"""Which web pages may open the live feed's WebSockets.

Browsers send the page's ``Origin`` with a WebSocket handshake and, unlike
``fetch``, apply no same-origin rule to it: without a check, any page a
logged-in user visits could open the feed with a token it got hold of
(cross-site WebSocket hijacking). Admitted are: clients that send no
``Origin`` (scripts, not browsers); the server's own pages (the Origin's
host and port are the request's ``Host``); and the origins listed in
``WS_ALLOWED_ORIGINS`` (default: the dashboard's development server,
``http://localhost:4000`` and ``http://127.0.0.1:4000``).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def _normalized(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """True when a handshake with this ``Origin`` header (None: absent) and
    ``Host`` header may proceed; ``allowed`` are the listed origins
    (``scheme://host[:port]``)."""
    if origin is None:
        return True
    origin = _normalized(origin)
    if origin in {_normalized(entry) for entry in allowed}:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return host is not None and bool(host) and bool(netloc) and netloc == host.strip().lower()
