"""The API's JSON shapes of read-model documents and journal entries: those of
:mod:`live_trading.journal.serialize`, which the live feed and the CLI share."""

from live_trading.journal.serialize import document_json, journal_json

__all__ = ["document_json", "journal_json"]
