import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QueryClient, type QueryKey } from '@tanstack/react-query';
import { CacheUpdater, affectedKeys } from './cacheUpdater';
import type { JournalEntryMessage } from './messages';
import { queryKeys } from '../api/queryKeys';
import type { Operation } from '../api/models';

function operation(id: string, patch: Partial<Operation> = {}): Operation {
  return {
    id, asset: 'USD-CAD', bar_sizes: ['1 hour'], primary_bar_size: '1 hour', strategy_name: 'MomentumStrategy',
    strategy_config: {}, status: 'active', status_reason: null, stop_loss_type: 'ATR', stop_loss_value: 1.5,
    take_profit_type: 'RISK_REWARD', take_profit_value: 2, crash_recovery_mode: 'CLOSE_ALL',
    emergency_stop_loss_pct: 0.05, data_retention_bars: 1000, quantity: 10000, max_daily_loss: 500, broker: 'PAPER',
    live_account: false, created_at: '', updated_at: '', closed_at: null, initial_capital: 1e5, current_capital: 1e5,
    total_pnl: 0, total_pnl_pct: 0, total_commission: 0, trade_count: 0, last_sequence_number: 1, ...patch,
  };
}

function message(patch: Partial<JournalEntryMessage> & { source?: string; action?: string } = {}): JournalEntryMessage {
  const { source = 'engine', action = 'ORDER_FILLED', ...rest } = patch;
  return {
    type: 'journal_entry', operation_id: 'op1', sequence_number: 2, replayed: false,
    entry: { id: 'e', operation_id: 'op1', sequence_number: 2, action_type: action, action_data: {},
      timestamp: '', source, user: null, event_id: 'x' },
    changes: {},
    ...rest,
  };
}

const has = (keys: QueryKey[], key: QueryKey) => keys.some((k) => JSON.stringify(k) === JSON.stringify(key));

describe('affectedKeys', () => {
  it('marks lists, the operation, its journal and stats, and the overall stats', () => {
    const keys = affectedKeys(message());
    for (const key of [queryKeys.operationLists, queryKeys.operationDoc('op1'), queryKeys.operationResource('op1', 'journal'),
      queryKeys.operationStats('op1'), queryKeys.overallStats]) {
      expect(has(keys, key)).toBe(true);
    }
    expect(has(keys, queryKeys.operationResource('op1', 'trades'))).toBe(false);
  });

  it('adds the read models its changes touch', () => {
    const keys = affectedKeys(message({ changes: { positions: [{} as never], trades: [{} as never] } }));
    expect(has(keys, queryKeys.operationResource('op1', 'positions'))).toBe(true);
    expect(has(keys, queryKeys.operationResource('op1', 'trades'))).toBe(true);
    expect(has(keys, queryKeys.tradeLogs)).toBe(true);
    expect(has(keys, queryKeys.operationResource('op1', 'orders'))).toBe(false);
  });

  it('marks every read model of the operation for a replayed entry (no changes)', () => {
    const keys = affectedKeys(message({ replayed: true, changes: undefined }));
    for (const r of ['positions', 'trades', 'orders', 'transactions'] as const) {
      expect(has(keys, queryKeys.operationResource('op1', r))).toBe(true);
    }
  });

  it('refreshes the system status for worker cycles and broker connection changes', () => {
    expect(has(affectedKeys(message({ source: 'worker', action: 'PRICE_EVENT' })), queryKeys.health)).toBe(true);
    expect(has(affectedKeys(message({ action: 'BROKER_CONNECTION_CHANGED' })), queryKeys.workerStatus)).toBe(true);
    expect(has(affectedKeys(message()), queryKeys.health)).toBe(false);
    expect(has(affectedKeys(message({ source: 'recovery' })), queryKeys.recoveryReport)).toBe(true);
  });
});

describe('CacheUpdater', () => {
  let client: QueryClient;
  beforeEach(() => {
    vi.useFakeTimers();
    client = new QueryClient();
  });
  afterEach(() => {
    vi.useRealTimers();
    client.clear();
  });

  it('patches the operation in its detail query and in every list at once', () => {
    client.setQueryData(queryKeys.operationDoc('op1'), operation('op1'));
    client.setQueryData(queryKeys.operationList({ status: 'active' }), [operation('op0'), operation('op1')]);
    const updater = new CacheUpdater(client, 100);
    updater.apply(message({ changes: { trading_operations: [operation('op1', { status: 'paused', last_sequence_number: 2 })] } }));
    expect(client.getQueryData<Operation>(queryKeys.operationDoc('op1'))?.status).toBe('paused');
    const list = client.getQueryData<Operation[]>(queryKeys.operationList({ status: 'active' }));
    expect(list?.map((o) => o.status)).toEqual(['active', 'paused']);
  });

  it('does not replace a newer document with an older one', () => {
    client.setQueryData(queryKeys.operationDoc('op1'), operation('op1', { last_sequence_number: 9, status: 'closed' }));
    new CacheUpdater(client).apply(message({ changes: { trading_operations: [operation('op1', { last_sequence_number: 3 })] } }));
    expect(client.getQueryData<Operation>(queryKeys.operationDoc('op1'))?.status).toBe('closed');
  });

  it('invalidates the affected queries once per batch', () => {
    client.setQueryData(queryKeys.trades('op1', { limit: 10 }), []);
    client.setQueryData(queryKeys.trades('op2', {}), []);
    client.setQueryData(queryKeys.orders('op1', {}), []);
    const spy = vi.spyOn(client, 'invalidateQueries');
    const updater = new CacheUpdater(client, 100);
    updater.apply(message({ changes: { trades: [{} as never] } }));
    updater.apply(message({ sequence_number: 3, changes: { trades: [{} as never] } }));
    expect(client.getQueryState(queryKeys.trades('op1', { limit: 10 }))?.isInvalidated).toBe(false);
    vi.advanceTimersByTime(100);
    expect(client.getQueryState(queryKeys.trades('op1', { limit: 10 }))?.isInvalidated).toBe(true);
    expect(client.getQueryState(queryKeys.trades('op2', {}))?.isInvalidated).toBe(false);
    expect(client.getQueryState(queryKeys.orders('op1', {}))?.isInvalidated).toBe(false);
    const tradeInvalidations = spy.mock.calls.filter(([f]) =>
      JSON.stringify(f?.queryKey) === JSON.stringify(queryKeys.operationResource('op1', 'trades')));
    expect(tradeInvalidations).toHaveLength(1);
  });
});
