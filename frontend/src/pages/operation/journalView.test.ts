import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../api/models';
import { journalPage, LOOKAHEAD, summarizeEntry } from './journalView';

const entry = (action_type: string, action_data: Record<string, unknown>): JournalEntry => ({
  id: 'e', operation_id: 'op', sequence_number: 1, action_type, action_data, timestamp: '2025-01-20T15:00:00Z',
  source: 'engine', user: null, event_id: 'x',
});

describe('journalPage', () => {
  it('asks for the newest entries first, with a look-ahead on the first page', () => {
    expect(journalPage(120, 0, 50)).toEqual({ afterSequence: 70, limit: 50 + LOOKAHEAD });
    expect(journalPage(120, 1, 50)).toEqual({ afterSequence: 20, limit: 50 });
    expect(journalPage(120, 2, 50)).toEqual({ afterSequence: 0, limit: 20 });
  });
  it('starts from the beginning of a short journal', () => {
    expect(journalPage(7, 0, 50)).toEqual({ afterSequence: 0, limit: 50 + LOOKAHEAD });
  });
});

describe('summarizeEntry', () => {
  it('describes orders, fills and signals in one line', () => {
    expect(summarizeEntry(entry('ORDER_SUBMITTED', {
      role: 'EXIT', side: 'BUY', order_type: 'MARKET', quantity: 10000, limit_price: null, stop_price: null,
      reason: 'closed by hand',
    }))).toBe('EXIT BUY MARKET 10000 — closed by hand');
    expect(summarizeEntry(entry('ORDER_FILLED', { side: 'SELL', quantity: 10000, price: 1.42952852 })))
      .toBe('SELL 10000 @ 1.42953');
    expect(summarizeEntry(entry('SIGNAL_GENERATED', { target: 'SHORT', reason: 'SMA(10) crossed below SMA(30)', decision: '' })))
      .toBe('SHORT — SMA(10) crossed below SMA(30)');
  });
  it('tells which guardrails failed', () => {
    expect(summarizeEntry(entry('GUARDRAIL_EVALUATED', {
      checks: [{ name: 'broker_connected', passed: true }, { name: 'max_daily_loss', passed: false }], action: 'none',
    }))).toBe('2 checks, failed: max_daily_loss; none');
  });
  it('falls back to the data as JSON', () => {
    expect(summarizeEntry(entry('OPERATION_PAUSED', { reason: 'by hand' }))).toBe('{"reason":"by hand"}');
  });
});
