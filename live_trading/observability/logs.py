"""Logging set-up: JSON lines (``LOG_FORMAT=json``, the default) or plain text.

:func:`configure_logging` installs one handler on the root logger, writing to
the current ``sys.stderr``, and routes uvicorn's loggers (``uvicorn``,
``uvicorn.error``, ``uvicorn.access``) through it, so access logs are JSON
too; pass ``log_config=None`` to ``uvicorn.run`` so that uvicorn keeps it.

A JSON record is one line: ``time`` (ISO-8601, UTC), ``level``, ``logger``,
``message``, then any extras given with ``extra={...}`` and ``exc_info`` for
exceptions. Access records also carry ``client``, ``method``, ``path``,
``http_version`` and ``status_code``.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

HANDLER_NAME = "live_trading"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status_code")
SKIPPED = (*RESERVED_ATTRS, "color_message")  # uvicorn's ANSI-coloured copy of the message


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_TOKEN_IN_QUERY = re.compile(r"(?i)([?&](?:access_)?token=)[^&\s\"]+")


def redact_tokens(text: str) -> str:
    """``text`` with the value of any ``token=`` query parameter replaced by
    ``***`` (WebSocket clients send their bearer token in the URL)."""
    return _TOKEN_IN_QUERY.sub(r"\1***", text)


class RedactTokens(logging.Filter):
    """Hides bearer tokens in the URLs uvicorn logs (access and WebSocket lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        return True


class AccessFields(logging.Filter):
    """Copies uvicorn's access-log arguments into named record attributes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == len(ACCESS_FIELDS):
            for name, value in zip(ACCESS_FIELDS, args, strict=True):
                setattr(record, name, value)
        return True


def json_formatter() -> JsonFormatter:
    """One JSON object per record: time (UTC ISO), level, logger, message, extras."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        timestamp="time",
        rename_fields={"levelname": "level", "name": "logger"},
        reserved_attrs=SKIPPED,
        json_ensure_ascii=False,
    )


def configure_logging(
    level: str = "INFO", fmt: Literal["json", "text"] = "json", stream=None
) -> logging.Handler:
    """Install the handler (replacing one installed before) at ``level``.

    ``stream`` defaults to the current ``sys.stderr`` at each record.
    Returns the handler. Raises ValueError for an unknown ``fmt`` or level.
    """
    if fmt not in ("json", "text"):
        raise ValueError(f"log format must be json or text, not {fmt!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    handler = _CurrentStderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.disabled = False  # a dictConfig run before (uvicorn's own) may have disabled it
        logger.setLevel(logging.NOTSET)
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessFields) for f in access.filters):
        access.addFilter(AccessFields())
    logging.captureWarnings(True)
    return handler
