"""The Markdown audit snapshot of a trade entry. Pure, no I/O.

One file per entry records what led to it: the entry and its levels, the
signal (target, reason, decision), the indicators, the operation (strategy,
parameters, protection rules) and a table of the recent OHLCV bars up to the
signal bar, all taken from the journal, so a rebuild renders the same bytes.
Prices in quote currency, quantities in base-asset units, times UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .naming import iso_time


def render_snapshot(line: dict[str, Any], snapshot: dict[str, Any]) -> str:
    """The Markdown of the entry ``line`` (an ``index.jsonl`` entry record)
    with its ``snapshot`` data (``asset``, ``interval``, ``signal`` (the
    SIGNAL_GENERATED data, or None) and ``operation``)."""
    signal = snapshot.get("signal")
    parts = [
        (
            f"# Trade entry: {line['side']} {snapshot['asset']} {snapshot['interval']} "
            f"at {line['time']}\n"
        ),
        _table(
            ("field", "value"),
            [
                ("trade id", f"`{line['tradeId']}`"),
                ("operation id", f"`{line['operationId']}`"),
                ("journal sequence", line["sequence"]),
                ("entry time (UTC)", line["time"]),
            ],
        ),
        _levels(line),
        _signal(signal),
        _indicators(signal),
        _operation(snapshot["operation"]),
        _bars(signal),
    ]
    return "\n".join(parts)


def _levels(line: dict[str, Any]) -> str:
    entry, quantity = line["price"], line["quantity"]
    rows = [("entry", _num(entry), "", "")]
    for name, key in (("stop-loss", "initialStopPrice"), ("take-profit", "targetPrice")):
        level = line.get(key)
        if level is None:
            rows.append((name, "none", "", ""))
            continue
        rows.append((name, _num(level), _num(level - entry), _num((level - entry) * quantity)))
    return f"## Levels\n\n{line['side']} {_num(quantity)} units (base asset).\n\n" + _table(
        ("level", "price", "distance from entry", "P/L at level (quote)"), rows
    )


def _signal(signal: dict[str, Any] | None) -> str:
    if signal is None:
        return "## Signal\n\nNo strategy signal led to this entry (an order placed otherwise).\n"
    bar = signal.get("bar") or {}
    return "## Signal\n\n" + _table(
        ("field", "value"),
        [
            ("target", signal.get("target") or "flat"),
            ("reason", signal.get("reason", "")),
            ("decision", signal.get("decision", "")),
            ("bar size", signal.get("bar_size", "")),
            ("signal bar (open time, UTC)", _time(bar.get("time"))),
            ("signal bar close", _num(bar.get("close"))),
            ("journal sequence", signal.get("sequence", "")),
        ],
    )


def _indicators(signal: dict[str, Any] | None) -> str:
    indicators = (signal or {}).get("indicators") or {}
    if not indicators:
        return "## Indicators\n\nNone recorded.\n"
    return "## Indicators\n\n" + _table(
        ("indicator", "value"), [(name, _num(value)) for name, value in indicators.items()]
    )


def _operation(operation: dict[str, Any]) -> str:
    rows = [
        ("strategy", operation.get("strategy_name")),
        ("asset", operation.get("asset")),
        ("primary bar size", operation.get("primary_bar_size")),
        ("bar sizes", ", ".join(operation.get("bar_sizes") or [])),
        ("stop-loss rule", _rule(operation, "stop_loss")),
        ("take-profit rule", _rule(operation, "take_profit")),
        ("quantity", _num(operation.get("quantity"))),
    ]
    params = operation.get("strategy_config") or {}
    text = "## Operation\n\n" + _table(("setting", "value"), rows)
    if params:
        text += "\n### Strategy parameters\n\n" + _table(
            ("parameter", "value"), [(k, _num(v)) for k, v in sorted(params.items())]
        )
    return text


def _rule(operation: dict[str, Any], name: str) -> str:
    return f"{operation.get(name + '_type')} {_num(operation.get(name + '_value'))}"


def _bars(signal: dict[str, Any] | None) -> str:
    bars = list((signal or {}).get("recent_bars") or [])
    if not bars and signal and signal.get("bar"):
        bars = [signal["bar"]]
    if not bars:
        return "## Bars\n\nNone recorded.\n"
    signal_time = (signal or {}).get("bar", {}).get("time")
    rows = [
        (
            _time(b.get("time")),
            _num(b.get("open")),
            _num(b.get("high")),
            _num(b.get("low")),
            _num(b.get("close")),
            _num(b.get("volume")),
            "signal" if b.get("time") == signal_time else "",
        )
        for b in bars
    ]
    return (
        f"## Bars\n\nThe last {len(bars)} {signal.get('bar_size', '') if signal else ''} "
        "bars up to the signal bar (open times, UTC).\n\n"
        + _table(("time (UTC)", "open", "high", "low", "close", "volume", ""), rows)
    )


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return " ".join(str(value).replace("|", "\\|").split())


def _time(value: Any) -> str:
    return iso_time(value) if isinstance(value, datetime) else str(value or "")


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    return f"{value:.10g}"
