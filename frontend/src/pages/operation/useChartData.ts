/**
 * The data of an operation's chart: its primary bars
 * (`GET /api/market-data/history`), its trades from the trade log
 * (`GET /api/v1/trade-log`: from the files in trading mode, folded from the
 * journal in simulation mode) and, in simulation mode, the `trade_event`
 * messages of the live feed since the page opened, merged on top.
 */
import { useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, call } from '../../api/client';
import { useMode, useTradeLog } from '../../api/hooks';
import type { Bar, Operation } from '../../api/models';
import { queryKeys } from '../../api/queryKeys';
import { useFeedMessages } from '../../feed/hooks';
import {
  applyTradeEvents, barSeconds, chartOverlay, chartWindow, intervalCode, tradeEventOf, type ChartOverlay,
  type LoggedTrade, type TradeEvent,
} from './chartData';

export type CandleBar = { time: number; open: number; high: number; low: number; close: number };

export type ChartData = {
  bars: CandleBar[];
  overlay: ChartOverlay;
  trades: LoggedTrade[];
  /** bars are loading for the first time */
  loading: boolean;
  error: unknown;
  refetch: () => void;
  /** where the markers come from */
  source: 'trade log' | 'trade log + live trade events';
};

const RUNNING = new Set(['active', 'paused', 'error']);

function eventKey(event: TradeEvent): string {
  return `${event.sequence}:${event.type}:${event.tradeId}`;
}

/** The live feed's simulated trade events of one operation, since the page opened. */
function useTradeEvents(operationId: string): TradeEvent[] {
  const [events, setEvents] = useState<TradeEvent[]>([]);
  useFeedMessages((message) => {
    const found = tradeEventOf(message);
    if (!found || found.operationId !== operationId) return;
    setEvents((list) => (list.some((e) => eventKey(e) === eventKey(found.event)) ? list : [...list, found.event]));
  }, { operationId, types: ['trade_event'] });
  return events;
}

function toCandles(bars: Bar[]): CandleBar[] {
  const out: CandleBar[] = [];
  for (const bar of bars) {
    const time = Math.floor(Date.parse(bar.time) / 1000);
    if (out.length > 0 && (out[out.length - 1] as CandleBar).time >= time) continue; // strictly ascending
    out.push({ time, open: bar.open, high: bar.high, low: bar.low, close: bar.close });
  }
  return out;
}

export type ChartOperation = Pick<Operation, 'id' | 'asset' | 'primary_bar_size' | 'created_at'> & { status: string };

export function useChartData(operation: ChartOperation): ChartData {
  const mode = useMode();
  const simulation = mode.data?.mode === 'simulation';
  const barSize = operation.primary_bar_size;
  const tradeLog = useTradeLog({ symbol: operation.asset, interval: intervalCode(barSize) });
  const events = useTradeEvents(operation.id);

  const trades = useMemo(() => {
    const logged = (tradeLog.data?.trades ?? []).filter((t) => t.operationId === operation.id);
    return applyTradeEvents(logged, events);
  }, [tradeLog.data, events, operation.id]);

  // `now` moves in whole bars, so the window (and the query key) changes once a bar.
  const bar = barSeconds(barSize) * 1000;
  const nowBucket = Math.ceil(Date.now() / bar) * bar;
  const running = RUNNING.has(operation.status);
  const range = useMemo(
    () => chartWindow(trades, operation.created_at, running, new Date(nowBucket + bar), barSize),
    [trades, operation.created_at, running, nowBucket, bar, barSize],
  );
  const params = { asset: operation.asset, bar_size: barSize, start: range.start.toISOString(), end: range.end.toISOString() };
  const history = useQuery({
    queryKey: queryKeys.marketHistory(params),
    queryFn: () => call<Bar[]>(api.GET('/api/market-data/history', { params: { query: params } })),
    placeholderData: keepPreviousData,
    staleTime: Infinity,
    // bars of a past window do not change: no polling (the window moves instead)
    refetchInterval: false,
  });

  const bars = useMemo(() => toCandles(history.data ?? []), [history.data]);
  const overlay = useMemo(
    () => chartOverlay(trades, bars.map((b) => b.time), operation.id),
    [trades, bars, operation.id],
  );

  return {
    bars,
    overlay,
    trades,
    loading: history.isPending || tradeLog.isPending,
    error: history.error ?? tradeLog.error ?? null,
    refetch: () => {
      void history.refetch();
      void tradeLog.refetch();
    },
    source: simulation ? 'trade log + live trade events' : 'trade log',
  };
}
