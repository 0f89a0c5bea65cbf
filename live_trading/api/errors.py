"""Mapping of domain and engine errors to HTTP answers.

Error answers are JSON with non-ASCII characters escaped, so that a detail
echoing the caller's input can always be sent, even text that is not valid
Unicode (a lone surrogate, which JSON can carry but UTF-8 cannot).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from live_trading.engine.errors import InvalidStateError, OperationNotFoundError
from live_trading.engine.specs import InvalidSpecError
from live_trading.journal.mongo_journal import JournalConflictError


class ErrorResponse(JSONResponse):
    """A JSON answer in plain ASCII (``\\uXXXX`` escapes)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        return ErrorResponse(status_code=422,
                             content={"detail": jsonable_encoder(error.errors())})

    @app.exception_handler(InvalidSpecError)
    async def invalid_spec(request: Request, error: InvalidSpecError) -> JSONResponse:
        where = "query" if request.method == "GET" else "body"
        loc = [where, *error.field.split(".")]
        return ErrorResponse(status_code=422, content={
            "detail": [{"loc": loc, "msg": error.message, "type": "value_error"}]})

    @app.exception_handler(OperationNotFoundError)
    async def not_found(_: Request, error: OperationNotFoundError) -> JSONResponse:
        return ErrorResponse(status_code=404, content={"detail": str(error)})

    @app.exception_handler(InvalidStateError)
    async def invalid_state(_: Request, error: InvalidStateError) -> JSONResponse:
        return ErrorResponse(status_code=409, content={"detail": str(error)})

    @app.exception_handler(JournalConflictError)
    async def conflict(_: Request, error: JournalConflictError) -> JSONResponse:
        return ErrorResponse(status_code=409, content={"detail": str(error)})
