/**
 * The data of an operation's chart: its primary bars
 * (`GET /api/operations/{id}/bars`: the bars its engine processed), its trades from the trade log
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
  applyTradeEvents, chartOverlay, intervalCode, tradeEventOf, type ChartOverlay,
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

const RUNNING = new Set(['active', 'paused', 'closing', 'error']);
const BAR_LIMIT = 2000;
const BARS_REFRESH_ENTRIES = 10;

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

export type ChartOperation = Pick<Operation, 'id' | 'asset' | 'primary_bar_size' | 'created_at'> & {
  status: string;
  /** see {@link barsVersion} */
  barsVersion: number;
};

/** Moves every BARS_REFRESH_ENTRIES journal entries of the operation: the bars
 * are refetched then (the live feed moves last_sequence_number; no polling). */
export function barsVersion(lastSequenceNumber: number): number {
  return Math.floor(lastSequenceNumber / BARS_REFRESH_ENTRIES);
}

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

  // The operation's own bars (what its engine processed, up to its retention),
  // refetched when barsVersion moves while it runs.
  const running = RUNNING.has(operation.status);
  const bucket = running ? operation.barsVersion : -1;
  const history = useQuery({
    queryKey: [...queryKeys.operationBars(operation.id), bucket],
    queryFn: () => call<Bar[]>(api.GET('/api/operations/{operation_id}/bars', {
      params: { path: { operation_id: operation.id }, query: { limit: BAR_LIMIT } },
    })),
    placeholderData: keepPreviousData,
    staleTime: Infinity,
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
    loading: history.isPending,
    error: history.error ?? tradeLog.error ?? null,
    refetch: () => {
      void history.refetch();
      void tradeLog.refetch();
    },
    source: simulation ? 'trade log + live trade events' : 'trade log',
  };
}
