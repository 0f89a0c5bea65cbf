import { describe, expect, it } from 'vitest';
import type { Trade } from '../../api/models';
import { commonQuote, equityPoints } from './equity';

function trade(pnl: number, entry: string, exit: string): Trade {
  return {
    id: exit + pnl, operation_id: 'op', position_id: 'p', position_type: 'LONG', entry_transaction_id: 'e',
    exit_transaction_id: 'x', entry_price: 1, exit_price: 1, quantity: 1, gross_pnl: pnl, pnl, pnl_pct: 0,
    total_commission: 0, entry_time: entry, exit_time: exit, duration_seconds: 0, exit_reason: null,
  };
}

describe('equityPoints', () => {
  it('sums realized P/L by exit time, starting at 0 at the first entry', () => {
    const points = equityPoints([
      trade(-10, '2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z'),
      trade(25, '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z'),
    ]);
    expect(points).toEqual([
      { time: Date.parse('2025-01-01T00:00:00Z') / 1000, value: 0 },
      { time: Date.parse('2025-01-02T00:00:00Z') / 1000, value: 25 },
      { time: Date.parse('2025-01-03T00:00:00Z') / 1000, value: 15 },
    ]);
  });

  it('merges trades closing in the same second (times must increase)', () => {
    const points = equityPoints([
      trade(5, '2025-01-01T00:00:00Z', '2025-01-01T10:00:00Z'),
      trade(7, '2025-01-01T00:00:00Z', '2025-01-01T10:00:00Z'),
    ]);
    expect(points.map((p) => p.value)).toEqual([0, 12]);
    expect(new Set(points.map((p) => p.time)).size).toBe(points.length);
  });

  it('is empty without trades', () => {
    expect(equityPoints([])).toEqual([]);
  });
});

describe('commonQuote', () => {
  it('is the shared currency or empty', () => {
    expect(commonQuote(['CAD', 'CAD'])).toBe('CAD');
    expect(commonQuote(['CAD', 'USD'])).toBe('');
  });
});
