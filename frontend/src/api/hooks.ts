/**
 * Query and mutation hooks of the REST API. Queries poll only while the live
 * feed is down (the QueryClient default set by LiveFeedProvider); the feed
 * invalidates them otherwise. Mutations invalidate what they change.
 */
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from './client';
import { ApiError } from './errors';
import type {
  BrokerConfig, BrokerConfigCreate, BrokerConfigUpdate, CycleResult, Health, JournalEntry, KillSwitchProgress, KillSwitchResult, Mode, Operation,
  OperationStats, Order, OverallStats, Position, PositionClosing, RecoveryReport, StrategyInfo, Trade, TradeLog, Transaction,
  WorkerStatus,
} from './models';
import {
  queryKeys, type JournalParams, type OperationFilters, type PageParams, type TradeLogParams,
} from './queryKeys';

/** The gateway's mode and caption (no token needed). */
export function useMode() {
  return useQuery({
    queryKey: queryKeys.mode,
    queryFn: () => call<Mode>(api.GET('/api/v1/mode')),
    staleTime: Infinity,
    refetchInterval: false,
  });
}

/** `GET /health`: its body is the report for 200 and 503 alike. */
export function useHealth() {
  return useQuery({
    queryKey: queryKeys.health,
    queryFn: async () => {
      const { data, error, response } = await api.GET('/health');
      const body = (response.ok ? data : error) as Health | undefined;
      if (body && typeof body === 'object' && 'status' in body) return body;
      throw new ApiError(response.status, error);
    },
  });
}

export function useWorkerStatus() {
  return useQuery({
    queryKey: queryKeys.workerStatus,
    queryFn: () => call<WorkerStatus>(api.GET('/v1/trading/worker/status')),
  });
}

export function useOverallStats() {
  return useQuery({
    queryKey: queryKeys.overallStats,
    queryFn: () => call<OverallStats>(api.GET('/api/stats/overall')),
  });
}

export function useStrategies() {
  return useQuery({
    queryKey: queryKeys.strategies,
    queryFn: () => call<StrategyInfo[]>(api.GET('/api/strategies')),
    staleTime: Infinity,
    refetchInterval: false,
  });
}

/** Operations, newest first; filters are applied by the server. */
export function useOperations(filters: OperationFilters = {}) {
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== ''));
  return useQuery({
    queryKey: queryKeys.operationList(query),
    queryFn: () => call<Operation[]>(api.GET('/api/operations', { params: { query } })),
  });
}

export function useOperation(id: string) {
  return useQuery({
    queryKey: queryKeys.operationDoc(id),
    queryFn: () => call<Operation>(api.GET('/api/operations/{operation_id}', { params: { path: { operation_id: id } } })),
  });
}

export function useOperationStats(id: string) {
  return useQuery({
    queryKey: queryKeys.operationStats(id),
    queryFn: () => call<OperationStats>(api.GET('/api/operations/{operation_id}/stats',
      { params: { path: { operation_id: id } } })),
  });
}

export function usePositions(id: string, params: PageParams = {}) {
  return useQuery({
    queryKey: queryKeys.positions(id, params),
    queryFn: () => call<Position[]>(api.GET('/api/operations/{operation_id}/positions',
      { params: { path: { operation_id: id }, query: params } })),
  });
}

function tradesQuery(id: string, params: PageParams) {
  return {
    queryKey: queryKeys.trades(id, params),
    queryFn: () => call<Trade[]>(api.GET('/api/operations/{operation_id}/trades',
      { params: { path: { operation_id: id }, query: params } })),
  };
}

export function useTrades(id: string, params: PageParams = {}) {
  return useQuery(tradesQuery(id, params));
}

/** Trades of several operations, merged and sorted by exit time (oldest first). */
export function useTradesOf(operationIds: string[], params: PageParams = { limit: 10_000, sort: 'asc' }) {
  return useQueries({
    queries: operationIds.map((id) => tradesQuery(id, params)),
    combine: (results) => ({
      data: results.every((r) => r.data !== undefined)
        ? results.flatMap((r) => r.data ?? []).sort((a, b) => a.exit_time.localeCompare(b.exit_time))
        : undefined,
      isPending: results.some((r) => r.isPending),
      error: results.find((r) => r.error)?.error ?? null,
      refetch: () => results.forEach((r) => void r.refetch()),
    }),
  });
}

export function useOrders(id: string, params: PageParams = {}) {
  return useQuery({
    queryKey: queryKeys.orders(id, params),
    queryFn: () => call<Order[]>(api.GET('/api/operations/{operation_id}/orders',
      { params: { path: { operation_id: id }, query: params } })),
  });
}

export function useTransactions(id: string, params: PageParams = {}) {
  return useQuery({
    queryKey: queryKeys.transactions(id, params),
    queryFn: () => call<Transaction[]>(api.GET('/api/operations/{operation_id}/transactions',
      { params: { path: { operation_id: id }, query: params } })),
  });
}

/** Journal entries in sequence order (`after_sequence`, `limit`). */
export function useJournal(id: string, params: JournalParams = {}) {
  return useQuery({
    queryKey: queryKeys.journal(id, params),
    queryFn: () => call<JournalEntry[]>(api.GET('/api/operations/{operation_id}/journal',
      { params: { path: { operation_id: id }, query: params } })),
  });
}

/** The trade log with chart markers and stop segments (`symbol` e.g. USD-CAD, `interval` e.g. 1h). */
export function useTradeLog(params: TradeLogParams, enabled = true) {
  return useQuery({
    queryKey: queryKeys.tradeLog(params),
    queryFn: () => call<TradeLog>(api.GET('/api/v1/trade-log', { params: { query: params } })),
    enabled,
  });
}

export function useRecoveryReport() {
  return useQuery({
    queryKey: queryKeys.recoveryReport,
    queryFn: () => call<RecoveryReport>(api.GET('/api/recovery/last')),
    retry: (count, error) => !(error instanceof ApiError && error.status === 404) && count < 2,
  });
}

export function useBrokers() {
  return useQuery({
    queryKey: queryKeys.brokers,
    queryFn: () => call<BrokerConfig[]>(api.GET('/api/brokers')),
  });
}

// --- mutations -------------------------------------------------------------

/** Refresh one operation (and lists, stats) after a mutation answered with its document. */
function useOperationSettled() {
  const client = useQueryClient();
  return (operation: Operation | undefined, id: string) => {
    if (operation) client.setQueryData(queryKeys.operationDoc(id), operation);
    void client.invalidateQueries({ queryKey: queryKeys.operation(id) });
    void client.invalidateQueries({ queryKey: queryKeys.operationLists });
    void client.invalidateQueries({ queryKey: queryKeys.overallStats });
  };
}

export type OperationAction = 'pause' | 'resume' | 'close';

/** Pause, resume or close (flatten, then close) an operation (trader). */
export function useOperationAction() {
  const settled = useOperationSettled();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: OperationAction }) => {
      const path = { params: { path: { operation_id: id } } };
      if (action === 'pause') return call<Operation>(api.POST('/api/operations/{operation_id}/pause', path));
      if (action === 'resume') return call<Operation>(api.POST('/api/operations/{operation_id}/resume', path));
      return call<Operation>(api.DELETE('/api/operations/{operation_id}', path));
    },
    onSettled: (data, _error, { id }) => settled(data, id),
  });
}

/** Close a position by hand (trader); journaled with source `api/manual`. */
export function useClosePosition() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (positionId: string) => call<PositionClosing>(
      api.POST('/api/positions/{position_id}/close', { params: { path: { position_id: positionId } } })),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ['operation'] });
      void client.invalidateQueries({ queryKey: queryKeys.operationLists });
      void client.invalidateQueries({ queryKey: queryKeys.overallStats });
    },
  });
}

/**
 * The kill-switch run in progress (or the last one; a 404 before the first
 * press is not retried). Polled every half second while `polling` (a press of
 * ours is waiting) or while the server says a run is going on.
 */
export function useKillSwitchProgress(polling: boolean) {
  return useQuery({
    queryKey: queryKeys.killSwitch,
    queryFn: () => call<KillSwitchProgress>(api.GET('/api/risk/kill-switch')),
    retry: (count, error) => !(error instanceof ApiError && error.status === 404) && count < 2,
    refetchInterval: (query) => (polling || query.state.data?.running ? 500 : false),
  });
}

/** Flatten every position and pause every operation (trader). */
export function useKillSwitch() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => call<KillSwitchResult>(api.POST('/api/risk/kill-switch')),
    onSettled: () => void client.invalidateQueries(),
  });
}

export function useSaveBroker() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id?: string; body: BrokerConfigCreate | BrokerConfigUpdate }) => id
      ? call<BrokerConfig>(api.PUT('/api/brokers/{config_id}', {
        params: { path: { config_id: id } }, body: body as BrokerConfigUpdate }))
      : call<BrokerConfig>(api.POST('/api/brokers', { body: body as BrokerConfigCreate })),
    onSettled: () => void client.invalidateQueries({ queryKey: queryKeys.brokers }),
  });
}

/** Run one trading cycle now (trader), journaled with source `api/manual`. */
export function useRunCycle() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (positionId?: string) => call<CycleResult>(api.POST('/v1/trading/cycle',
      { params: { query: positionId ? { position_id: positionId } : {} } })),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.health });
      void client.invalidateQueries({ queryKey: queryKeys.workerStatus });
    },
  });
}
