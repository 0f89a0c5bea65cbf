/**
 * Keeps the TanStack Query cache in step with the live feed.
 *
 * Each `journal_entry` patches what it carries (the operation document, in
 * its detail query and in every list) at once, and marks the queries it
 * affects stale. Invalidations are batched (`delayMs`) so a burst of entries
 * (a replay on resume, a fast market replay) refetches each query once.
 */
import type { QueryClient, QueryKey } from '@tanstack/react-query';
import type { Operation } from '../api/models';
import { queryKeys, type OperationResource } from '../api/queryKeys';
import type { AnyFeedMessage, FeedChanges, JournalEntryMessage } from './messages';

const RESOURCE_OF_CHANGE: Partial<Record<keyof FeedChanges, OperationResource>> = {
  positions: 'positions',
  trades: 'trades',
  orders: 'orders',
  transactions: 'transactions',
};

/** The query keys (prefixes) a journal entry makes stale. */
export function affectedKeys(message: JournalEntryMessage): QueryKey[] {
  const id = message.operation_id;
  const keys: QueryKey[] = [
    queryKeys.operationLists,
    queryKeys.operationDoc(id),
    queryKeys.operationResource(id, 'journal'),
    queryKeys.operationResource(id, 'stats'),
    queryKeys.overallStats,
  ];
  const changes = message.changes;
  if (message.replayed || changes === undefined) {
    // no documents with it: anything of the operation may have changed
    keys.push(...(['positions', 'trades', 'orders', 'transactions'] as const)
      .map((r) => queryKeys.operationResource(id, r)));
    keys.push(queryKeys.tradeLogs);
  } else {
    for (const [collection, resource] of Object.entries(RESOURCE_OF_CHANGE)) {
      const docs = changes[collection as keyof FeedChanges];
      if (docs && docs.length > 0 && resource) keys.push(queryKeys.operationResource(id, resource));
    }
    if (changes.positions?.length || changes.trades?.length) keys.push(queryKeys.tradeLogs);
  }
  const { source, action_type: action } = message.entry;
  if (source === 'worker' || action === 'BROKER_CONNECTION_CHANGED') {
    keys.push(queryKeys.health, queryKeys.workerStatus);
  }
  if (source === 'recovery') keys.push(queryKeys.recoveryReport);
  return keys;
}

function patchOperation(client: QueryClient, operation: Operation): void {
  client.setQueryData<Operation>(queryKeys.operationDoc(operation.id), (old) =>
    old === undefined || old.last_sequence_number <= operation.last_sequence_number ? operation : old);
  client.setQueriesData<Operation[]>({ queryKey: queryKeys.operationLists }, (list) =>
    Array.isArray(list) ? list.map((o) => (o.id === operation.id ? operation : o)) : list);
}

export class CacheUpdater {
  private pending = new Map<string, QueryKey>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly client: QueryClient, private readonly delayMs = 150) {}

  apply(message: AnyFeedMessage): void {
    if (message.type === 'journal_entry') {
      const entry = message as JournalEntryMessage;
      for (const operation of entry.changes?.trading_operations ?? []) patchOperation(this.client, operation);
      for (const key of affectedKeys(entry)) this.pending.set(JSON.stringify(key), key);
      this.schedule();
    }
  }

  /** Invalidate everything queued now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const keys = [...this.pending.values()];
    this.pending.clear();
    for (const queryKey of keys) void this.client.invalidateQueries({ queryKey });
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }
}
