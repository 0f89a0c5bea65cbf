"""Trades for the chart, from trade log lines. Pure, no I/O.

:func:`build_trades` groups ``entry``, ``stop_move`` and ``exit`` lines by
``tradeId`` into one item per trade, with lightweight-charts markers
(``SeriesMarker``: ``time`` in UNIX seconds, ``position``, ``shape``,
``color``, ``text``) and the stop-loss as segments (``startTime``,
``endTime`` in UNIX seconds, ``endTime`` None while the trade is open).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .fold import ENTRY, EXIT, STOP_MOVE, line_key
from .naming import parse_iso_time, unix_seconds

UP, DOWN = "#26a69a", "#ef5350"


def build_trades(
    lines: list[dict[str, Any]], since: datetime | None = None
) -> list[dict[str, Any]]:
    """One item per trade entered at or after ``since`` (aware), in entry
    order: ``tradeId, operationId, side, quantity, entryDateTime,
    entryPrice, initialStopPrice, targetPrice, closeDateTime, closePrice,
    closeReason, points, pnl, snapshotFile, context, markers,
    stopSegments``. A trade closed in several exits gets the
    quantity-weighted close price and points, the summed P/L and the last
    exit's time and reason; close fields are None while it is open."""
    trades: dict[str, dict[str, Any]] = {}
    stops: dict[str, list[tuple[str, float | None]]] = {}
    exits: dict[str, list[dict[str, Any]]] = {}
    for line in sorted(lines, key=line_key):
        trade_id = line["tradeId"]
        if line["type"] == ENTRY:
            if since is None or parse_iso_time(line["time"]) >= since:
                trades[trade_id] = _new_trade(line)
                stops[trade_id] = [(line["time"], line["initialStopPrice"])]
                exits[trade_id] = []
        elif trade_id not in trades:
            continue
        elif line["type"] == STOP_MOVE:
            stops[trade_id].append((line["time"], line["price"]))
        elif line["type"] == EXIT:
            exits[trade_id].append(line)
    for trade_id, trade in trades.items():
        _close(trade, exits[trade_id])
        trade["markers"] = _markers(trade)
        trade["stopSegments"] = _segments(stops[trade_id], trade["closeDateTime"])
    return list(trades.values())


def _new_trade(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "tradeId": line["tradeId"],
        "operationId": line["operationId"],
        "side": line["side"],
        "quantity": line["quantity"],
        "entryDateTime": line["time"],
        "entryPrice": line["price"],
        "initialStopPrice": line["initialStopPrice"],
        "targetPrice": line["targetPrice"],
        "closeDateTime": None,
        "closePrice": None,
        "closeReason": None,
        "points": None,
        "pnl": None,
        "snapshotFile": line["snapshotFile"],
        "context": line.get("context", ""),
    }


def _close(trade: dict[str, Any], exits: list[dict[str, Any]]) -> None:
    if not exits or exits[-1]["remainingQuantity"] > 0:
        return
    last = exits[-1]
    if len(exits) == 1:
        price, points = last["closePrice"], last["points"]
    else:
        quantity = sum(e["quantity"] for e in exits)
        price = sum(e["closePrice"] * e["quantity"] for e in exits) / quantity
        points = sum(e["points"] * e["quantity"] for e in exits) / quantity
    trade.update(
        closeDateTime=last["time"],
        closePrice=price,
        closeReason=last["closeReason"],
        points=points,
        pnl=sum(e["pnl"] for e in exits),
    )


def _markers(trade: dict[str, Any]) -> list[dict[str, Any]]:
    long = trade["side"] == "LONG"
    markers = [
        {
            "time": unix_seconds(trade["entryDateTime"]),
            "position": "belowBar" if long else "aboveBar",
            "shape": "arrowUp" if long else "arrowDown",
            "color": UP if long else DOWN,
            "text": f"{trade['side']} @ {trade['entryPrice']:.6g}",
        }
    ]
    if trade["closeDateTime"] is not None:
        markers.append(
            {
                "time": unix_seconds(trade["closeDateTime"]),
                "position": "aboveBar" if long else "belowBar",
                "shape": "arrowDown" if long else "arrowUp",
                "color": UP if trade["pnl"] >= 0 else DOWN,
                "text": f"{trade['closeReason']} @ {trade['closePrice']:.6g} "
                f"({trade['points']:+.6g})",
            }
        )
    return markers


def _segments(stops: list[tuple[str, float | None]], closed: str | None) -> list[dict[str, Any]]:
    segments = []
    for i, (start, price) in enumerate(stops):
        end = stops[i + 1][0] if i + 1 < len(stops) else closed
        if price is None:
            continue
        if closed is not None and start > closed:
            break
        segments.append(
            {
                "startTime": unix_seconds(start),
                "endTime": None if end is None else unix_seconds(min(end, closed or end)),
                "price": price,
            }
        )
    return segments
