"""The trade log: a projection of the journal into files (trading mode).

``fold`` (journal records to trade log events), ``naming``, ``snapshot``
(the Markdown audit snapshot) and ``view`` (trades for the chart) are pure;
``files`` writes them to disk and ``service`` keeps them in step with the
journal. See :mod:`live_trading.tradelog.fold` for the records.
"""

from .fold import (
    ENTRY,
    EXIT,
    STOP_MOVE,
    TradeLogEvent,
    TradeLogState,
    apply,
    feed_dict,
    open_trade_view,
    trade_events,
)
from .naming import directory_name, parse_interval, parse_symbol
from .service import TradeLogService
from .view import build_trades

__all__ = [
    "ENTRY",
    "EXIT",
    "STOP_MOVE",
    "TradeLogEvent",
    "TradeLogService",
    "TradeLogState",
    "apply",
    "build_trades",
    "directory_name",
    "feed_dict",
    "open_trade_view",
    "parse_interval",
    "parse_symbol",
    "trade_events",
]
