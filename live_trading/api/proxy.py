"""Who the client is: the peer of the connection, unless that peer is a
trusted reverse proxy.

``uvicorn`` believes ``X-Forwarded-For`` from 127.0.0.1 by default; with the
default bind every client (an SSH tunnel, a local script) is 127.0.0.1, so
any client could pick its own address and with it its rate-limit bucket.
``live-trading run`` therefore starts uvicorn with ``proxy_headers=False``
and the app believes the headers only from the proxies listed in
``TRUSTED_PROXIES`` (addresses or CIDR networks; empty by default). From
those, the client is the right-most address of ``X-Forwarded-For`` that is
not itself a trusted proxy, and ``X-Forwarded-Proto`` sets the scheme.
Set-up: ``docs/reverse-proxy.md``.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, cast

from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

if TYPE_CHECKING:
    from uvicorn._types import ASGI3Application


def check_trusted_proxies(entries: list[str]) -> list[str]:
    """``entries`` when each is an IP address or network (``10.0.0.0/8``).

    Raises:
        ValueError: naming TRUSTED_PROXIES and the entry that is neither
            (``*`` is refused too: it would trust every client).
    """
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                "such as 127.0.0.1 or 10.0.0.0/8"
            ) from None
    return entries


def behind_trusted_proxies(app: ASGIApp, trusted: list[str]) -> ASGIApp:
    """``app`` reading the client address and scheme from the forwarding
    headers of the ``trusted`` proxies only (``app`` itself when none).

    Raises:
        ValueError: an entry of ``trusted`` is not an address or network.
    """
    if not check_trusted_proxies(trusted):
        return app
    # Starlette and uvicorn each spell the ASGI callable with their own scope types.
    inner = cast("ASGI3Application", app)
    return cast(ASGIApp, ProxyHeadersMiddleware(inner, trusted_hosts=list(trusted)))
