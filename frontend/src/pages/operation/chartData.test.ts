import { describe, expect, it } from 'vitest';
import {
  applyTradeEvents, chartOverlay, mergeLines, snapTime, tradeEventOf, unixSeconds,
  type EntryEvent, type ExitEvent, type LoggedTrade, type StopMoveEvent, type TradeLine,
} from './chartData';

const OP = 'op1';
const H = 3600;
const T0 = unixSeconds('2025-01-20T00:00:00Z');
/** hourly bars from T0 */
const bars = (n: number) => Array.from({ length: n }, (_, i) => T0 + i * H);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** A closed SHORT trade as GET /api/v1/trade-log gives it (shape copied from a real answer). */
function loggedTrade(overrides: Partial<LoggedTrade> = {}): LoggedTrade {
  const entry = T0 + 2 * H;
  const exit = T0 + 5 * H;
  return {
    tradeId: 'p1', operationId: OP, side: 'SHORT', quantity: 10000,
    entryDateTime: iso(entry), entryPrice: 1.42953, initialStopPrice: 1.43382, targetPrice: 1.42086,
    closeDateTime: iso(exit), closePrice: 1.43382, closeReason: 'stop', points: -0.00429, pnl: -43.46,
    snapshotFile: 'entry_x.md', context: 'SMA(10) crossed below SMA(30)',
    markers: [
      { time: entry, position: 'aboveBar', shape: 'arrowDown', color: '#ef5350', text: 'SHORT @ 1.42953' },
      { time: exit, position: 'belowBar', shape: 'arrowUp', color: '#ef5350', text: 'stop @ 1.43382 (-0.00429)' },
    ],
    stopSegments: [{ startTime: entry, endTime: exit, price: 1.43382 }],
    ...overrides,
  };
}

const head = { operationId: OP, side: 'LONG', tradeId: 'p2' };
const entryEvent = (seconds: number, sequence: number): EntryEvent => ({
  ...head, type: 'entry', time: iso(seconds), sequence, price: 1.4, quantity: 10000,
  initialStopPrice: 1.39, targetPrice: 1.42, snapshotFile: 'e.md', context: 'crossed up',
});
const stopMove = (seconds: number, sequence: number, price: number): StopMoveEvent => ({
  ...head, type: 'stop_move', time: iso(seconds), sequence, price,
});
const exitEvent = (seconds: number, sequence: number, extra: Partial<ExitEvent> = {}): ExitEvent => ({
  ...head, type: 'exit', time: iso(seconds), sequence, closePrice: 1.41, closeReason: 'signal', quantity: 10000,
  remainingQuantity: 0, entryPrice: 1.4, points: 0.01, pnl: 99.4, ...extra,
});

describe('snapTime', () => {
  const times = bars(3);
  it('snaps to the bar opening at or before the time', () => {
    expect(snapTime(times, T0)).toBe(T0);
    expect(snapTime(times, T0 + H + 59)).toBe(T0 + H);
  });
  it('puts anything after the last bar on the last bar, nothing before the first', () => {
    expect(snapTime(times, T0 + 100 * H)).toBe(T0 + 2 * H);
    expect(snapTime(times, T0 - 1)).toBeNull();
    expect(snapTime([], T0)).toBeNull();
  });
});

describe('chartOverlay (trade log markers)', () => {
  it('draws the markers of this operation only, sorted by time', () => {
    const other = loggedTrade({ tradeId: 'x', operationId: 'other' });
    const later = loggedTrade({
      tradeId: 'p0',
      entryDateTime: iso(T0 + 7 * H), closeDateTime: null, closePrice: null, closeReason: null, pnl: null, points: null,
      markers: [{ time: T0 + 7 * H, position: 'belowBar', shape: 'arrowUp', color: '#26a69a', text: 'LONG @ 1.4' }],
      stopSegments: [{ startTime: T0 + 7 * H, endTime: null, price: 1.41 }],
    });
    const overlay = chartOverlay([later, loggedTrade(), other], bars(10), OP);
    expect(overlay.markers.map((m) => m.time)).toEqual([T0 + 2 * H, T0 + 5 * H, T0 + 7 * H]);
    expect(overlay.markers[0]?.text).toBe('SHORT @ 1.42953');
  });

  it('leaves out markers before the first bar and snaps those between bars', () => {
    const trade = loggedTrade();
    trade.markers = [
      { ...trade.markers[0]!, time: T0 - 10 * H },
      { ...trade.markers[1]!, time: T0 + 5 * H + 120 },
    ];
    const overlay = chartOverlay([trade], bars(10), OP);
    expect(overlay.markers.map((m) => m.time)).toEqual([T0 + 5 * H]);
  });

  it('has no marker without bars', () => {
    expect(chartOverlay([loggedTrade()], [], OP).markers).toEqual([]);
  });

  it('draws the stop (with its moves) as a step line and the target until the close', () => {
    const trade = loggedTrade({
      stopSegments: [
        { startTime: T0 + 2 * H, endTime: T0 + 3 * H, price: 1.434 },
        { startTime: T0 + 3 * H, endTime: T0 + 5 * H, price: 1.432 },
      ],
    });
    const { lines } = chartOverlay([trade], bars(10), OP);
    expect(lines.find((l) => l.kind === 'stop')?.points).toEqual([
      { time: T0 + 2 * H, value: 1.434 }, { time: T0 + 3 * H, value: 1.432 }, { time: T0 + 5 * H, value: 1.432 },
    ]);
    expect(lines.find((l) => l.kind === 'target')?.points).toEqual([
      { time: T0 + 2 * H, value: 1.42086 }, { time: T0 + 5 * H, value: 1.42086 },
    ]);
  });

  it('runs an open trade\'s levels to the last bar', () => {
    const open = loggedTrade({
      closeDateTime: null, closePrice: null, closeReason: null, pnl: null, points: null,
      stopSegments: [{ startTime: T0 + 2 * H, endTime: null, price: 1.434 }],
    });
    const { lines } = chartOverlay([open], bars(10), OP);
    for (const line of lines) expect(line.points.at(-1)?.time).toBe(T0 + 9 * H);
  });
});

describe('applyTradeEvents (simulation trade_event messages)', () => {
  it('adds a trade on its entry, with the entry marker and the initial stop', () => {
    const [trade] = applyTradeEvents([], [entryEvent(T0 + H, 10)]);
    expect(trade?.markers).toEqual([
      { time: T0 + H, position: 'belowBar', shape: 'arrowUp', color: '#26a69a', text: 'LONG @ 1.4' },
    ]);
    expect(trade?.stopSegments).toEqual([{ startTime: T0 + H, endTime: null, price: 1.39 }]);
    expect(trade?.closeDateTime).toBeNull();
  });

  it('moves the stop and closes the trade with an exit marker', () => {
    const events = [entryEvent(T0 + H, 10), stopMove(T0 + 3 * H, 14, 1.395), exitEvent(T0 + 6 * H, 20)];
    const [trade] = applyTradeEvents([], events);
    expect(trade?.stopSegments).toEqual([
      { startTime: T0 + H, endTime: T0 + 3 * H, price: 1.39 },
      { startTime: T0 + 3 * H, endTime: T0 + 6 * H, price: 1.395 },
    ]);
    expect(trade?.markers).toHaveLength(2);
    expect(trade?.markers[1]).toMatchObject({
      time: T0 + 6 * H, position: 'aboveBar', shape: 'arrowDown', color: '#26a69a', text: 'signal @ 1.41 (+0.01)',
    });
    expect(trade?.pnl).toBe(99.4);
  });

  it('gives the same result whatever the order and however often events come', () => {
    const events = [entryEvent(T0 + H, 10), stopMove(T0 + 3 * H, 14, 1.395), exitEvent(T0 + 6 * H, 20)];
    const once = applyTradeEvents([], events);
    const shuffled = applyTradeEvents([], [events[2]!, events[0]!, events[1]!, events[0]!, events[2]!, events[1]!]);
    expect(shuffled).toEqual(once);
  });

  it('ignores events for a trade the trade log already shows closed', () => {
    const logged = loggedTrade({ tradeId: 'p2' });
    const [trade] = applyTradeEvents([logged], [exitEvent(T0 + 9 * H, 30, { closeReason: 'manual' })]);
    expect(trade?.closeReason).toBe('stop');
    expect(trade?.markers).toEqual(logged.markers);
  });

  it('closes a trade the trade log shows open', () => {
    const open = loggedTrade({
      tradeId: 'p2', side: 'LONG', closeDateTime: null, closePrice: null, closeReason: null, pnl: null, points: null,
      markers: [loggedTrade().markers[0]!], stopSegments: [{ startTime: T0 + 2 * H, endTime: null, price: 1.39 }],
    });
    const [trade] = applyTradeEvents([open], [exitEvent(T0 + 6 * H, 20, { pnl: -5, closeReason: 'manual' })]);
    expect(trade?.closeReason).toBe('manual');
    expect(trade?.markers).toHaveLength(2);
    expect(trade?.markers[1]?.color).toBe('#ef5350');
    expect(trade?.stopSegments).toEqual([{ startTime: T0 + 2 * H, endTime: T0 + 6 * H, price: 1.39 }]);
  });

  it('waits for the last partial exit and weights the close price by quantity', () => {
    const events = [
      entryEvent(T0, 1),
      exitEvent(T0 + H, 5, { quantity: 4000, remainingQuantity: 6000, closePrice: 1.41, points: 0.01, pnl: 40 }),
    ];
    expect(applyTradeEvents([], events)[0]?.closeDateTime).toBeNull();
    const [closed] = applyTradeEvents([], [
      ...events, exitEvent(T0 + 2 * H, 9, { quantity: 6000, remainingQuantity: 0, closePrice: 1.42, points: 0.02, pnl: 120 }),
    ]);
    expect(closed?.closePrice).toBeCloseTo(1.416, 10);
    expect(closed?.pnl).toBe(160);
  });

  it('gives the chart one more marker per entry and exit', () => {
    const times = bars(10);
    const base = [loggedTrade()];
    const before = chartOverlay(applyTradeEvents(base, []), times, OP).markers.length;
    const afterEntry = chartOverlay(applyTradeEvents(base, [entryEvent(T0 + 6 * H, 40)]), times, OP).markers.length;
    const afterExit = chartOverlay(
      applyTradeEvents(base, [entryEvent(T0 + 6 * H, 40), exitEvent(T0 + 8 * H, 45)]), times, OP).markers.length;
    expect([before, afterEntry, afterExit]).toEqual([2, 3, 4]);
  });
});

describe('tradeEventOf', () => {
  it('reads a trade_event message', () => {
    const event = entryEvent(T0, 3);
    expect(tradeEventOf({ type: 'trade_event', operation_id: OP, sequence_number: 3, event })).toEqual({ operationId: OP, event });
  });
  it('rejects other messages and malformed events', () => {
    expect(tradeEventOf({ type: 'journal_entry', operation_id: OP })).toBeNull();
    expect(tradeEventOf({ type: 'trade_event', operation_id: OP, event: { type: 'bogus' } })).toBeNull();
    expect(tradeEventOf(null)).toBeNull();
  });
});

describe('mergeLines', () => {
  const line = (tradeId: string, points: [number, number][]): TradeLine => ({
    tradeId, kind: 'stop', points: points.map(([time, value]) => ({ time, value })),
  });

  it('hides the stretch between two trades and moves to the new level at a bar between them', () => {
    const items = mergeLines([line('b', [[T0 + 6 * H, 2], [T0 + 8 * H, 2]]), line('a', [[T0, 1], [T0 + 3 * H, 1]])],
      'stop', bars(10));
    expect(items).toEqual([
      { time: T0, value: 1 },
      { time: T0 + 3 * H, value: 1, hidden: true },
      { time: T0 + 4 * H, value: 2, hidden: true },
      { time: T0 + 6 * H, value: 2 },
      { time: T0 + 8 * H, value: 2 },
    ]);
  });

  it('lets a reversal\'s new level win at the shared bar', () => {
    const items = mergeLines([line('a', [[T0, 1], [T0 + 3 * H, 1]]), line('b', [[T0 + 3 * H, 2], [T0 + 5 * H, 2]])],
      'stop', bars(10));
    expect(items).toEqual([{ time: T0, value: 1 }, { time: T0 + 3 * H, value: 2 }, { time: T0 + 5 * H, value: 2 }]);
  });

  it('spreads consecutive trades over lanes', () => {
    const lines = [line('a', [[T0, 1], [T0 + 2 * H, 1]]), line('b', [[T0 + 2 * H, 2], [T0 + 4 * H, 2]]),
      line('c', [[T0 + 4 * H, 3], [T0 + 6 * H, 3]])];
    expect(mergeLines(lines, 'stop', bars(10), 0, 2)).toEqual([
      { time: T0, value: 1 }, { time: T0 + 2 * H, value: 1, hidden: true }, { time: T0 + 3 * H, value: 3, hidden: true },
      { time: T0 + 4 * H, value: 3 }, { time: T0 + 6 * H, value: 3 },
    ]);
    expect(mergeLines(lines, 'stop', bars(10), 1, 2)).toEqual([{ time: T0 + 2 * H, value: 2 }, { time: T0 + 4 * H, value: 2 }]);
  });

  it('keeps only the lines of the kind asked for', () => {
    expect(mergeLines([{ ...line('a', [[T0, 1]]), kind: 'target' }], 'stop', bars(3))).toEqual([]);
  });
});

