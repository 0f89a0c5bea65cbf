/**
 * TanStack Query keys. The live feed invalidates by prefix, so keep every
 * query of one operation under `operation(id)`:
 *
 *   ['operations', filters]                    lists (any filters)
 *   ['operation', id]                          prefix of everything below
 *   ['operation', id, 'doc']                   the operation
 *   ['operation', id, 'positions', params]     (and trades, orders, transactions, stats, journal)
 */
export type OperationFilters = { status?: string; asset?: string; strategy_name?: string; limit?: number };
export type PageParams = { limit?: number; offset?: number; sort?: 'asc' | 'desc' };
export type JournalParams = { after_sequence?: number; limit?: number };
export type OperationResource = 'positions' | 'trades' | 'orders' | 'transactions' | 'stats' | 'journal';
export type TradeLogParams = { symbol: string; interval: string; since?: string };

export const queryKeys = {
  mode: ['mode'] as const,
  me: ['auth', 'me'] as const,
  health: ['health'] as const,
  workerStatus: ['worker', 'status'] as const,
  overallStats: ['stats', 'overall'] as const,
  strategies: ['strategies'] as const,
  brokers: ['brokers'] as const,
  recoveryReport: ['recovery', 'last'] as const,
  killSwitch: ['risk', 'kill-switch'] as const,
  /** every operations list, whatever its filters */
  operationLists: ['operations'] as const,
  operationList: (filters: OperationFilters = {}) => ['operations', filters] as const,
  /** everything of one operation */
  operation: (id: string) => ['operation', id] as const,
  operationDoc: (id: string) => ['operation', id, 'doc'] as const,
  operationResource: (id: string, resource: OperationResource) => ['operation', id, resource] as const,
  positions: (id: string, params: PageParams = {}) => ['operation', id, 'positions', params] as const,
  trades: (id: string, params: PageParams = {}) => ['operation', id, 'trades', params] as const,
  orders: (id: string, params: PageParams = {}) => ['operation', id, 'orders', params] as const,
  transactions: (id: string, params: PageParams = {}) => ['operation', id, 'transactions', params] as const,
  operationStats: (id: string) => ['operation', id, 'stats'] as const,
  journal: (id: string, params: JournalParams = {}) => ['operation', id, 'journal', params] as const,
  /** every trade-log query (trading mode's chart markers) */
  tradeLogs: ['trade-log'] as const,
  tradeLog: (params: TradeLogParams) => ['trade-log', params] as const,
  /** not under ['operation', id]: the feed's invalidations must not refetch it per entry */
  operationBars: (id: string) => ['operation-bars', id] as const,
};
