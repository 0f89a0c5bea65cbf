/** Messages of the live feed (docs/live-feed.md). Unknown types are passed on as-is. */
import type { JournalEntry, Operation, Order, Position, Trade, Transaction } from '../api/models';

export type HelloMessage = { type: 'hello'; last_sequences: Record<string, number> };

export type FeedChanges = {
  trading_operations?: Operation[];
  orders?: Order[];
  transactions?: Transaction[];
  positions?: Position[];
  trades?: Trade[];
};

export type JournalEntryMessage = {
  type: 'journal_entry';
  operation_id: string;
  sequence_number: number;
  /** read back from the journal on resume: no `changes` */
  replayed: boolean;
  entry: JournalEntry;
  changes?: FeedChanges;
};

export type SnapshotMessage = {
  type: 'snapshot';
  operation_id: string;
  sequence_number: number;
  operation: Operation | null;
  positions: Position[];
  orders: Order[];
};

/** Simulation mode: a strategy signal (follows its SIGNAL_GENERATED entry). */
export type SignalMessage = {
  type: 'signal';
  operation_id: string;
  sequence_number: number;
  bar_size: string;
  bar: { time: string; open: number; high: number; low: number; close: number; volume?: number };
  target: string;
  reason: string;
  indicators: Record<string, number>;
  decision: string;
};

/**
 * Simulation mode: a simulated trade event, a trade-log line (`type` entry,
 * stop_move or exit, as in the trade log's index.jsonl) plus symbol and interval.
 */
export type TradeEventMessage = {
  type: 'trade_event';
  operation_id: string;
  sequence_number: number;
  event: Record<string, unknown> & { type: string };
};

export type OtherMessage = { type: string; operation_id?: string; [key: string]: unknown };

export type FeedMessage =
  | HelloMessage
  | JournalEntryMessage
  | SnapshotMessage
  | SignalMessage
  | TradeEventMessage;

export type AnyFeedMessage = FeedMessage | OtherMessage;

export function isJournalEntry(message: AnyFeedMessage): message is JournalEntryMessage {
  return message.type === 'journal_entry';
}
