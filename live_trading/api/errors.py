"""Mapping of domain and engine errors to HTTP answers.

Error answers are JSON with non-ASCII characters escaped, so that a detail
echoing the caller's input can always be sent, even text that is not valid
Unicode (a lone surrogate, which JSON can carry but UTF-8 cannot). A 422
echoes only scalar input, and a number JSON cannot carry (NaN, Infinity,
``1e309`` read as infinity) as text (``"NaN"``, ``"Infinity"``), so the
answer can always be rendered. A body nested too deeply for the JSON parser
is a 422 too (``loc: ["body"]``), not FastAPI's 400, and so is a body that
is not UTF-8. A 405 names in ``Allow`` every method the path has.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from live_trading.engine.errors import InvalidStateError, OperationNotFoundError
from live_trading.engine.specs import InvalidSpecError
from live_trading.journal.mongo_journal import JournalConflictError


class ErrorResponse(JSONResponse):
    """A JSON answer in plain ASCII (``\\uXXXX`` escapes)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode("ascii")


MAX_ECHO_CHARS = 200  # of a text input echoed in a 422


def _echo(value: Any) -> Any:
    """What a 422 may echo of an input: a scalar JSON can carry, else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return value[:MAX_ECHO_CHARS]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return None  # an object or list: possibly huge or deep, never echoed


def _context(value: Any) -> Any:
    shown = _echo(value)
    return str(value)[:MAX_ECHO_CHARS] if shown is None else shown


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic/FastAPI validation errors as JSON-ready dicts: ``loc``,
    ``msg``, ``type``, the ``input`` only when :func:`_echo` allows it and
    ``ctx`` values likewise."""
    out = []
    for error in errors:
        loc = [str(p) if not isinstance(p, int) else p for p in error["loc"]]
        item: dict[str, Any] = {"loc": loc, "msg": str(error["msg"]), "type": str(error["type"])}
        if (shown := _echo(error.get("input"))) is not None:
            item["input"] = shown
        if ctx := error.get("ctx"):
            item["ctx"] = {str(k): _context(v) for k, v in ctx.items()}
        out.append(item)
    return out


def _unreadable_body(cause: BaseException) -> ErrorResponse:
    """422 for a body FastAPI could not parse (its own answer is a bare 400):
    nested too deeply for the JSON parser, or not UTF-8."""
    if isinstance(cause, RecursionError):
        msg, kind = "JSON nested too deeply", "json_too_deep"
    else:
        msg, kind = "the body is not JSON text (UTF-8)", "json_invalid"
    return ErrorResponse(
        status_code=422, content={"detail": [{"loc": ["body"], "msg": msg, "type": kind}]}
    )


def allowed_methods(app: FastAPI, scope: Mapping[str, Any]) -> set[str]:
    """Every method some route serves at the request's path (Starlette's own
    405 names only the first route's)."""
    path = scope["path"]
    root = scope.get("root_path", "")
    path = path[len(root) :] if root and path.startswith(root) else path
    methods: set[str] = set()
    for context in iter_route_contexts(app.routes):
        regex = getattr(context.route, "path_regex", None)
        if context.methods and regex is not None and regex.match(path):
            methods |= set(context.methods)
    return methods


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        return ErrorResponse(status_code=422, content={"detail": safe_errors(error.errors())})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 400 and error.__cause__ is not None:
            return _unreadable_body(error.__cause__)
        if error.status_code == 405:
            allowed = ", ".join(sorted(allowed_methods(app, request.scope)))
            return ErrorResponse(
                status_code=405,
                headers={"Allow": allowed},
                content={"detail": "Method Not Allowed"},
            )
        return await http_exception_handler(request, error)

    @app.exception_handler(InvalidSpecError)
    async def invalid_spec(request: Request, error: InvalidSpecError) -> JSONResponse:
        where = "query" if request.method == "GET" else "body"
        loc = [where, *error.field.split(".")]
        return ErrorResponse(
            status_code=422,
            content={"detail": [{"loc": loc, "msg": error.message, "type": "value_error"}]},
        )

    @app.exception_handler(OperationNotFoundError)
    async def not_found(_: Request, error: OperationNotFoundError) -> JSONResponse:
        return ErrorResponse(status_code=404, content={"detail": str(error)})

    @app.exception_handler(InvalidStateError)
    async def invalid_state(_: Request, error: InvalidStateError) -> JSONResponse:
        return ErrorResponse(status_code=409, content={"detail": str(error)})

    @app.exception_handler(JournalConflictError)
    async def conflict(_: Request, error: JournalConflictError) -> JSONResponse:
        return ErrorResponse(status_code=409, content={"detail": str(error)})
