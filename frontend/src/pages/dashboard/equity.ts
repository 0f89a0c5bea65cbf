import type { Trade } from '../../api/models';

export type EquityPoint = { time: number; value: number };

/**
 * Cumulative realized P/L after each trade, by exit time (epoch seconds).
 * Trades closing in the same second make one point (the chart needs
 * strictly increasing times); the curve starts at 0 at the first entry.
 */
export function equityPoints(trades: readonly Trade[]): EquityPoint[] {
  const sorted = [...trades].sort((a, b) => Date.parse(a.exit_time) - Date.parse(b.exit_time));
  const points: EquityPoint[] = [];
  let total = 0;
  for (const trade of sorted) {
    const time = Math.floor(Date.parse(trade.exit_time) / 1000);
    if (!Number.isFinite(time)) continue;
    total += trade.pnl;
    const last = points.at(-1);
    if (last && last.time === time) last.value = total;
    else points.push({ time, value: total });
  }
  if (points.length > 0) {
    const firstEntry = Math.min(...sorted.map((t) => Math.floor(Date.parse(t.entry_time) / 1000)));
    if (Number.isFinite(firstEntry) && firstEntry < points[0].time) points.unshift({ time: firstEntry, value: 0 });
  }
  return points;
}

/** The one quote currency all `assets` share, or '' when they differ. */
export function commonQuote(quotes: readonly string[]): string {
  const set = new Set(quotes.filter(Boolean));
  return set.size === 1 ? [...set][0] : '';
}
