"""The error answers of every operation, declared in the OpenAPI spec.

FastAPI documents the 2xx answer and, for a route with parameters, 422. The
others come from the layers around the handlers; :func:`declare_errors`
adds each to the routes that can give it:

* 401 (``WWW-Authenticate: Bearer``): every route that needs a token; 403:
  those needing more than the viewer role; 429 (``Retry-After``): every
  change made with a token (``RATE_LIMIT_MUTATIONS``) and the login;
* 413: every POST, PUT, PATCH and DELETE (``MAX_REQUEST_BYTES``);
* 404: routes with a path parameter, and :data:`MAY_NOT_FIND`;
* 409: :data:`MAY_CONFLICT` (an operation or position in the wrong state,
  a user that exists, the last admin, a concurrent journal write).

Every error body is ``{"detail": "..."}`` (:class:`ErrorMessage`), a 422's
``{"detail": [{"loc", "msg", "type"}]}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

from live_trading.security import ROLE_RANK, Role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAY_NOT_FIND = frozenset(
    {
        ("GET", "/api/recovery/last"),
        ("GET", "/api/risk/kill-switch"),
        ("POST", "/v1/trading/cycle"),
    }
)
MAY_CONFLICT = frozenset(
    {
        ("PUT", "/api/operations/{operation_id}"),
        ("DELETE", "/api/operations/{operation_id}"),
        ("POST", "/api/operations/{operation_id}/pause"),
        ("POST", "/api/operations/{operation_id}/resume"),
        ("POST", "/api/positions/{position_id}/close"),
        ("POST", "/v1/trading/cycle"),
        ("POST", "/api/risk/kill-switch"),
        ("POST", "/api/users"),
        ("PATCH", "/api/users/{username}"),
    }
)
LOGIN_PATH = "/api/auth/token"


class ErrorMessage(BaseModel):
    """An error answer: what went wrong, in words."""

    detail: str


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


ERRORS: dict[int, dict[str, Any]] = {
    401: {
        "description": "no token, or an invalid or expired one (or wrong credentials)",
        "headers": {"WWW-Authenticate": _header("Bearer")},
    },
    403: {"description": "the user's role is below the one this needs"},
    404: {"description": "no such resource"},
    409: {"description": "the resource is not in a state that allows this"},
    413: {"description": "the request body is larger than MAX_REQUEST_BYTES"},
    429: {
        "description": "over a rate limit",
        "headers": {"Retry-After": _header("whole seconds until a slot frees up")},
    },
}


def _required_role(dependant: Any) -> Role | None:
    """The strongest role a dependency tree asks for (None: open)."""
    found = [getattr(dependant.call, "required_role", None)]
    found += [_required_role(sub) for sub in dependant.dependencies]
    roles = [role for role in found if role is not None]
    return max(roles, key=ROLE_RANK.__getitem__) if roles else None


def error_codes(route: APIRoute) -> set[int]:
    """The error status codes ``route`` can answer besides 422."""
    codes: set[int] = set()
    methods = route.methods or set()
    changes = not methods <= SAFE_METHODS
    role = _required_role(route.dependant)
    if role is not None:
        codes |= {401} | ({403} if ROLE_RANK[role] > ROLE_RANK[Role.VIEWER] else set())
        codes |= {429} if changes else set()
    if route.path == LOGIN_PATH:
        codes |= {401, 429}
    codes |= {413} if changes else set()
    pairs = {(method, route.path) for method in methods}
    if "{" in route.path or pairs & MAY_NOT_FIND:
        codes.add(404)
    if pairs & MAY_CONFLICT:
        codes.add(409)
    return codes


def declare_errors(router: APIRouter) -> APIRouter:
    """Add the error answers of :func:`error_codes` to each route of
    ``router`` (before it is included; a code a route declares itself is
    kept). Returns ``router``."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            for code in sorted(error_codes(route)):
                route.responses.setdefault(code, {"model": ErrorMessage, **ERRORS[code]})
    return router
