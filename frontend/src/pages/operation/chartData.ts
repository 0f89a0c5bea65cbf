/**
 * What the operation chart draws, as pure functions (no canvas): trades of the
 * trade log (`GET /api/v1/trade-log`, markers and stop segments ready) merged
 * with the simulated trade events of the live feed (`trade_event` messages),
 * then snapped onto the loaded bars.
 */

export type MarkerPosition = 'aboveBar' | 'belowBar' | 'inBar';
export type MarkerShape = 'arrowUp' | 'arrowDown' | 'circle' | 'square';

/** A lightweight-charts series marker; `time` in UNIX seconds. */
export interface TradeMarker {
  time: number;
  position: MarkerPosition;
  shape: MarkerShape;
  color: string;
  text: string;
}

/** A stop-loss level held from `startTime` to `endTime` (null: still held), UNIX seconds. */
export interface StopSegment {
  startTime: number;
  endTime: number | null;
  price: number;
}

/** One trade of `GET /api/v1/trade-log`. */
export interface LoggedTrade {
  tradeId: string;
  operationId: string;
  side: string;
  quantity: number;
  entryDateTime: string;
  entryPrice: number;
  initialStopPrice: number | null;
  targetPrice: number | null;
  closeDateTime: string | null;
  closePrice: number | null;
  closeReason: string | null;
  points: number | null;
  pnl: number | null;
  snapshotFile?: string | null;
  context?: string | null;
  markers: TradeMarker[];
  stopSegments: StopSegment[];
}

export interface TradeLogResponse {
  mode: string;
  symbol: string;
  interval: string;
  trades: LoggedTrade[];
}

interface EventHead {
  time: string;
  tradeId: string;
  operationId: string;
  sequence: number;
  side: string;
}

export interface EntryEvent extends EventHead {
  type: 'entry';
  price: number;
  quantity: number;
  initialStopPrice: number | null;
  targetPrice: number | null;
  snapshotFile?: string | null;
  context?: string | null;
}

export interface StopMoveEvent extends EventHead {
  type: 'stop_move';
  price: number;
}

export interface ExitEvent extends EventHead {
  type: 'exit';
  closePrice: number;
  closeReason: string;
  quantity: number;
  remainingQuantity: number;
  entryPrice: number;
  points: number;
  pnl: number;
}

/** A trade log line as the live feed's `trade_event` message carries it. */
export type TradeEvent = EntryEvent | StopMoveEvent | ExitEvent;

export const UP_COLOR = '#26a69a';
export const DOWN_COLOR = '#ef5350';
const RANK: Record<TradeEvent['type'], number> = { exit: 0, entry: 1, stop_move: 2 };

/** UNIX seconds of an ISO-8601 time. */
export function unixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

function shortNumber(value: number, signed = false): string {
  const text = String(Number(value.toPrecision(6)));
  return signed && value >= 0 ? `+${text}` : text;
}

/** The entry marker and, once the trade is closed, the exit marker. */
export function buildMarkers(trade: LoggedTrade): TradeMarker[] {
  const long = trade.side === 'LONG';
  const markers: TradeMarker[] = [
    {
      time: unixSeconds(trade.entryDateTime),
      position: long ? 'belowBar' : 'aboveBar',
      shape: long ? 'arrowUp' : 'arrowDown',
      color: long ? UP_COLOR : DOWN_COLOR,
      text: `${trade.side} @ ${shortNumber(trade.entryPrice)}`,
    },
  ];
  if (trade.closeDateTime !== null && trade.closePrice !== null) {
    markers.push({
      time: unixSeconds(trade.closeDateTime),
      position: long ? 'aboveBar' : 'belowBar',
      shape: long ? 'arrowDown' : 'arrowUp',
      color: (trade.pnl ?? 0) >= 0 ? UP_COLOR : DOWN_COLOR,
      text: `${trade.closeReason ?? 'exit'} @ ${shortNumber(trade.closePrice)} (${shortNumber(trade.points ?? 0, true)})`,
    });
  }
  return markers;
}

function orderEvents(events: TradeEvent[]): TradeEvent[] {
  return [...events].sort(
    (a, b) =>
      a.sequence - b.sequence ||
      RANK[a.type] - RANK[b.type] ||
      a.time.localeCompare(b.time),
  );
}

interface Working {
  trade: LoggedTrade;
  exits: Map<number, ExitEvent>;
}

function newTrade(event: EntryEvent): LoggedTrade {
  const trade: LoggedTrade = {
    tradeId: event.tradeId,
    operationId: event.operationId,
    side: event.side,
    quantity: event.quantity,
    entryDateTime: event.time,
    entryPrice: event.price,
    initialStopPrice: event.initialStopPrice,
    targetPrice: event.targetPrice,
    closeDateTime: null,
    closePrice: null,
    closeReason: null,
    points: null,
    pnl: null,
    snapshotFile: event.snapshotFile ?? null,
    context: event.context ?? '',
    markers: [],
    stopSegments:
      event.initialStopPrice === null
        ? []
        : [{ startTime: unixSeconds(event.time), endTime: null, price: event.initialStopPrice }],
  };
  trade.markers = buildMarkers(trade);
  return trade;
}

function moveStop(work: Working, event: StopMoveEvent): void {
  const { trade } = work;
  const start = unixSeconds(event.time);
  if (trade.closeDateTime !== null) return;
  if (trade.stopSegments.some((s) => s.startTime === start && s.price === event.price)) return;
  const segments = trade.stopSegments.map((s) => (s.endTime === null ? { ...s, endTime: start } : s));
  segments.push({ startTime: start, endTime: null, price: event.price });
  trade.stopSegments = segments;
}

function closeTrade(work: Working, event: ExitEvent): void {
  const { trade } = work;
  if (trade.closeDateTime !== null) return;
  work.exits.set(event.sequence, event);
  if (event.remainingQuantity > 0) return;
  const exits = [...work.exits.values()].sort((a, b) => a.sequence - b.sequence);
  const quantity = exits.reduce((sum, e) => sum + e.quantity, 0);
  const weighted = (pick: (e: ExitEvent) => number): number =>
    exits.length === 1 || quantity <= 0
      ? pick(event)
      : exits.reduce((sum, e) => sum + pick(e) * e.quantity, 0) / quantity;
  const end = unixSeconds(event.time);
  trade.closeDateTime = event.time;
  trade.closePrice = weighted((e) => e.closePrice);
  trade.points = weighted((e) => e.points);
  trade.closeReason = event.closeReason;
  trade.pnl = exits.reduce((sum, e) => sum + e.pnl, 0);
  trade.stopSegments = trade.stopSegments
    .filter((s) => s.startTime <= end)
    .map((s) => (s.endTime === null || s.endTime > end ? { ...s, endTime: end } : s));
  trade.markers = buildMarkers(trade);
}

/**
 * The trades of `trades` (the trade log) updated with the live `events`
 * (entries, stop moves and exits, in any order, possibly repeated or already
 * contained in `trades`): applying an event twice changes nothing, and an
 * event for a trade the log shows closed is ignored. Sorted by entry time.
 */
export function applyTradeEvents(trades: LoggedTrade[], events: TradeEvent[]): LoggedTrade[] {
  const works = new Map<string, Working>();
  for (const trade of trades) {
    works.set(trade.tradeId, {
      trade: { ...trade, markers: [...trade.markers], stopSegments: [...trade.stopSegments] },
      exits: new Map(),
    });
  }
  for (const event of orderEvents(events)) {
    const work = works.get(event.tradeId);
    if (event.type === 'entry') {
      if (!work) works.set(event.tradeId, { trade: newTrade(event), exits: new Map() });
    } else if (work && event.type === 'stop_move') {
      moveStop(work, event);
    } else if (work && event.type === 'exit') {
      closeTrade(work, event);
    }
  }
  return [...works.values()]
    .map((w) => w.trade)
    .sort((a, b) => a.entryDateTime.localeCompare(b.entryDateTime) || a.tradeId.localeCompare(b.tradeId));
}

/**
 * The bar time (UNIX seconds, `barTimes` ascending) at which something that
 * happened at `time` is drawn: the last bar opening at or before it, the last
 * bar for anything after the last bar; null before the first bar.
 */
export function snapTime(barTimes: readonly number[], time: number): number | null {
  if (barTimes.length === 0 || time < (barTimes[0] as number)) return null;
  let lo = 0;
  let hi = barTimes.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((barTimes[mid] as number) <= time) lo = mid;
    else hi = mid - 1;
  }
  return barTimes[lo] as number;
}

export interface LinePoint {
  time: number;
  value: number;
}

export interface TradeLine {
  tradeId: string;
  kind: 'stop' | 'target';
  /** Ascending, unique times; drawn as a step line. */
  points: LinePoint[];
}

export interface ChartOverlay {
  markers: TradeMarker[];
  lines: TradeLine[];
}

function stepPoints(raw: LinePoint[]): LinePoint[] {
  const byTime = new Map<number, number>();
  for (const point of raw) byTime.set(point.time, point.value); // a later level at the same bar wins
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
}

function stopLine(trade: LoggedTrade, barTimes: readonly number[]): TradeLine | null {
  const lastBar = barTimes[barTimes.length - 1] as number;
  const raw: LinePoint[] = [];
  for (const segment of trade.stopSegments) {
    const start = snapTime(barTimes, segment.startTime);
    const end = segment.endTime === null ? lastBar : snapTime(barTimes, segment.endTime);
    if (start === null || end === null) continue;
    raw.push({ time: start, value: segment.price }, { time: end, value: segment.price });
  }
  const points = stepPoints(raw);
  return points.length > 0 ? { tradeId: trade.tradeId, kind: 'stop', points } : null;
}

function targetLine(trade: LoggedTrade, barTimes: readonly number[]): TradeLine | null {
  if (trade.targetPrice === null) return null;
  const lastBar = barTimes[barTimes.length - 1] as number;
  const start = snapTime(barTimes, unixSeconds(trade.entryDateTime));
  const end = trade.closeDateTime === null ? lastBar : snapTime(barTimes, unixSeconds(trade.closeDateTime));
  if (start === null || end === null) return null;
  const points = stepPoints([
    { time: start, value: trade.targetPrice },
    { time: end, value: trade.targetPrice },
  ]);
  return { tradeId: trade.tradeId, kind: 'target', points };
}

/**
 * The markers (sorted by time, as lightweight-charts wants them) and the
 * stop-loss / take-profit lines of `operationId`'s trades, on the bars whose
 * open times are `barTimes` (ascending UNIX seconds). Markers before the
 * first bar are left out.
 */
export function chartOverlay(
  trades: readonly LoggedTrade[],
  barTimes: readonly number[],
  operationId: string,
): ChartOverlay {
  if (barTimes.length === 0) return { markers: [], lines: [] };
  const own = trades.filter((t) => t.operationId === operationId);
  const markers: TradeMarker[] = [];
  const lines: TradeLine[] = [];
  for (const trade of own) {
    for (const marker of trade.markers) {
      const time = snapTime(barTimes, marker.time);
      if (time !== null) markers.push({ ...marker, time });
    }
    const stop = stopLine(trade, barTimes);
    if (stop) lines.push(stop);
    const target = targetLine(trade, barTimes);
    if (target) lines.push(target);
  }
  markers.sort((a, b) => a.time - b.time);
  return { markers, lines };
}

/** Seconds in a bar of this size (IB name or code); one hour when unknown. */
export function barSeconds(barSize: string): number {
  const table: Record<string, number> = {
    '1 min': 60, '1m': 60,
    '5 mins': 300, '5m': 300,
    '15 mins': 900, '15m': 900,
    '30 mins': 1800, '30m': 1800,
    '1 hour': 3600, '1h': 3600,
    '4 hours': 14400, '4h': 14400,
    '1 day': 86400, '1d': 86400,
  };
  return table[barSize.trim().toLowerCase()] ?? 3600;
}

/** The trade log's interval code of a bar size (`1 hour` → `1h`). */
export function intervalCode(barSize: string): string {
  const codes: Record<string, string> = {
    '1 min': '1m', '5 mins': '5m', '15 mins': '15m', '30 mins': '30m',
    '1 hour': '1h', '4 hours': '4h', '1 day': '1d',
  };
  const name = barSize.trim().toLowerCase();
  return codes[name] ?? name;
}


/** A `trade_event` message of the live feed, or null for any other message. */
export function tradeEventOf(message: unknown): { operationId: string; event: TradeEvent } | null {
  if (typeof message !== 'object' || message === null) return null;
  const m = message as { type?: unknown; operation_id?: unknown; event?: unknown };
  if (m.type !== 'trade_event' || typeof m.operation_id !== 'string') return null;
  const event = m.event as { type?: unknown; tradeId?: unknown; time?: unknown; sequence?: unknown } | undefined;
  if (
    !event ||
    (event.type !== 'entry' && event.type !== 'stop_move' && event.type !== 'exit') ||
    typeof event.tradeId !== 'string' ||
    typeof event.time !== 'string' ||
    typeof event.sequence !== 'number'
  ) {
    return null;
  }
  return { operationId: m.operation_id, event: event as TradeEvent };
}

/**
 * A point of a level line series. `hidden`: the horizontal stretch from this
 * point to the next one is not drawn (lightweight-charts draws the stretch
 * leading to a point in the colour of the point before it; whitespace does
 * not break a line).
 */
export type LineItem = { time: number; value: number; hidden?: boolean };

function nextBar(barTimes: readonly number[], time: number): number | null {
  let lo = 0;
  let hi = barTimes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((barTimes[mid] as number) <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo < barTimes.length ? (barTimes[lo] as number) : null;
}

/**
 * The lines of one kind (every trade's stop-loss, or take-profit) as the
 * data of one step-line series, trades in time order; with `lanes` > 1,
 * only every `lanes`-th trade from the `lane`-th (so that one series never
 * holds two consecutive trades: a reversal's levels change at one bar, and
 * a step line's jump there could not be hidden). Between two trades of a
 * series the line is hidden: the last point of a trade is `hidden`, and
 * when a bar lies between the two trades a hidden point at the next trade's
 * level is added there, so that the line moves to the new level unseen.
 * Where a trade starts at the bar the previous one ended, the new level
 * wins at that bar.
 */
export function mergeLines(
  lines: readonly TradeLine[], kind: TradeLine['kind'], barTimes: readonly number[], lane = 0, lanes = 1,
): LineItem[] {
  const own = lines
    .filter((l) => l.kind === kind && l.points.length > 0)
    .sort((a, b) => (a.points[0] as LinePoint).time - (b.points[0] as LinePoint).time)
    .filter((_, i) => i % lanes === lane);
  const items: LineItem[] = [];
  for (const line of own) {
    const first = line.points[0] as LinePoint;
    const last = items[items.length - 1];
    if (last !== undefined && last.time < first.time) {
      last.hidden = true;
      const gap = nextBar(barTimes, last.time);
      if (gap !== null && gap < first.time) items.push({ time: gap, value: first.value, hidden: true });
    }
    for (const point of line.points) {
      const tail = items[items.length - 1];
      if (tail !== undefined && tail.time >= point.time) {
        if (tail.time === point.time) items[items.length - 1] = { time: point.time, value: point.value };
        continue; // overlapping trades (bad input): keep the line ascending
      }
      items.push({ time: point.time, value: point.value });
    }
  }
  return items;
}
