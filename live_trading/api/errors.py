"""Mapping of domain and engine errors to HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from live_trading.engine.errors import InvalidStateError, OperationNotFoundError
from live_trading.engine.specs import InvalidSpecError
from live_trading.journal.mongo_journal import JournalConflictError


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidSpecError)
    async def invalid_spec(request: Request, error: InvalidSpecError) -> JSONResponse:
        where = "query" if request.method == "GET" else "body"
        loc = [where, *error.field.split(".")]
        return JSONResponse(status_code=422, content={
            "detail": [{"loc": loc, "msg": error.message, "type": "value_error"}]})

    @app.exception_handler(OperationNotFoundError)
    async def not_found(_: Request, error: OperationNotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(error)})

    @app.exception_handler(InvalidStateError)
    async def invalid_state(_: Request, error: InvalidStateError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(error)})

    @app.exception_handler(JournalConflictError)
    async def conflict(_: Request, error: JournalConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(error)})
