"""Line a peer's trades up with the engine's, to explain every difference.

Trade rows (one per closed trade) carry ``entry_bar`` and ``exit_bar`` --
indexes into the bars, in the engine's labelling: a fill is labelled with
the bar it happened in, a market order with the bar whose open it filled at
-- ``side`` (+1 long, -1 short) and ``pnl`` (net, quote currency). Every entry comes from
a crossover signal, identical in every engine (same closes, same rule), so
trades are matched by (entry bar, side); a matched trade whose exit bar
differs was closed by a different fill, and a trade found in only one engine
was opened after a position closed differently.
"""

from __future__ import annotations

from typing import Any

from live_trading.domain.values import Bar


def compare(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of a peer's trades against the engine's (backtest mode) ones.

    Returns ``same_entry`` (trades opened on the same bar and side),
    ``same_exit`` (of those, closed on the same bar too), ``exit_earlier`` /
    ``exit_later`` (closed on an earlier / later bar than ours),
    ``only_peer`` / ``only_ours`` (unmatched trades) and
    ``pnl_gap_same_bars`` (their net P/L minus ours over the trades with the
    same entry and exit bars: the cost model's difference, quote currency).
    """
    by_entry = {(r["entry_bar"], r["side"]): r for r in ours}
    pairs = [
        (by_entry[(t["entry_bar"], t["side"])], t)
        for t in theirs
        if (t["entry_bar"], t["side"]) in by_entry
    ]
    same = [(o, t) for o, t in pairs if o["exit_bar"] == t["exit_bar"]]
    return {
        "same_entry": len(pairs),
        "same_exit": len(same),
        "exit_earlier": sum(1 for o, t in pairs if t["exit_bar"] < o["exit_bar"]),
        "exit_later": sum(1 for o, t in pairs if t["exit_bar"] > o["exit_bar"]),
        "only_peer": len(theirs) - len(pairs),
        "only_ours": len(ours) - len(pairs),
        "pnl_gap_same_bars": round(sum(t["pnl"] - o["pnl"] for o, t in same), 2),
    }


def exits_profile(ours: list[dict[str, Any]], bars: list[Bar]) -> dict[str, int]:
    """Where the engine's own rules could differ from a peer's: trades whose
    stop-loss or take-profit filled on the entry bar itself, and exit bars
    that reached both the stop and the target (the engine takes the stop)."""
    entry_bar = sum(
        1
        for r in ours
        if r["exit"] in ("STOP_LOSS", "TAKE_PROFIT") and r["exit_bar"] == r["entry_bar"]
    )
    both = 0
    for r in ours:
        if r["exit"] not in ("STOP_LOSS", "TAKE_PROFIT") or r["stop_loss"] is None:
            continue
        bar = bars[r["exit_bar"]]
        low_side, high_side = (
            (r["stop_loss"], r["take_profit"])
            if r["side"] > 0
            else (r["take_profit"], r["stop_loss"])
        )
        both += bar.low <= low_side and bar.high >= high_side
    reasons: dict[str, int] = {}
    for r in ours:
        reasons[str(r["exit"])] = reasons.get(str(r["exit"]), 0) + 1
    return {"exit_on_entry_bar": entry_bar, "exit_bar_reached_both": both, **reasons}
