"""Bearer tokens sent in WebSocket URLs never reach the logs."""

from __future__ import annotations

import io
import json
import logging

from live_trading.observability.logs import configure_logging


def test_tokens_in_uvicorn_lines_are_redacted():
    stream = io.StringIO()
    handler = configure_logging("INFO", "json", stream=stream)
    try:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5",
            "GET",
            "/ws/overall?token=eyJ.secret.sig&last_sequences=%7B%7D",
            "1.1",
            101,
        )
        logging.getLogger("uvicorn.error").info(
            '%s - "WebSocket %s" [accepted]',
            "127.0.0.1:6",
            "/ws/operations/abc?last_sequence=4&token=eyJ.other.sig",
        )
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    assert "secret" not in stream.getvalue() and "other" not in stream.getvalue()
    assert "token=***" in lines[0]["message"] and "last_sequence=4" in lines[1]["message"]
    assert lines[0]["path"] == "/ws/overall?token=***&last_sequences=%7B%7D"
