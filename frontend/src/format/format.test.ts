import { describe, expect, it } from 'vitest';
import {
  assetInfo, formatDateTime, formatDuration, formatMoney, formatPercent, formatPips, formatPnl, formatPrice,
  formatQuantity, formatRelative, pnlColor, sourceLabel, toPips,
} from './format';

describe('assetInfo', () => {
  it('knows FX pairs, their digits and pip size', () => {
    expect(assetInfo('USD-CAD')).toMatchObject({ base: 'USD', quote: 'CAD', isFx: true, priceDigits: 5, pipSize: 0.0001 });
    expect(assetInfo('eurusd')).toMatchObject({ base: 'EUR', quote: 'USD', isFx: true });
    expect(assetInfo('USD/JPY')).toMatchObject({ quote: 'JPY', priceDigits: 3, pipSize: 0.01 });
  });

  it('treats other symbols as non-FX with 2 digits', () => {
    expect(assetInfo('AAPL')).toMatchObject({ isFx: false, priceDigits: 2 });
  });
});

describe('prices and pips', () => {
  it('shows FX prices with 5 decimals and JPY quotes with 3', () => {
    expect(formatPrice(1.42952852, 'USD-CAD')).toBe('1.42953');
    expect(formatPrice(1.4, 'USD-CAD')).toBe('1.40000');
    expect(formatPrice(151.2345, 'USD-JPY')).toBe('151.235');
    expect(formatPrice(null, 'USD-CAD')).toBe('–');
  });

  it('converts price differences to pips', () => {
    expect(toPips(0.0012, 'USD-CAD')).toBeCloseTo(12);
    expect(toPips(0.12, 'USD-JPY')).toBeCloseTo(12);
    expect(formatPips(-0.00205, 'USD-CAD')).toBe('-20.5 pips');
    expect(formatPips(0.0047, 'USD-CAD')).toBe('+47.0 pips');
    expect(formatPips(1.5, 'AAPL')).toBe('+150.0 ticks');
  });
});

describe('money and percentages', () => {
  it('formats P/L signed in the quote currency with 2 decimals', () => {
    expect(formatPnl(-43.46457, 'USD-CAD')).toBe('-43.46 CAD');
    expect(formatPnl(1234.5, 'USD-CAD')).toBe('+1,234.50 CAD');
    expect(formatPnl(0, 'USD-CAD')).toBe('0.00 CAD');
    expect(formatMoney(-0.001, 'CAD')).toBe('0.00 CAD');
    expect(formatMoney(99712.564, '')).toBe('99,712.56');
  });

  it('formats fractions as percentages', () => {
    expect(formatPercent(-0.0028743)).toBe('-0.29%');
    expect(formatPercent(0.27083, 1)).toBe('27.1%');
    expect(formatPercent(0.01, 2, true)).toBe('+1.00%');
  });

  it('formats quantities', () => {
    expect(formatQuantity(10000)).toBe('10,000');
    expect(formatQuantity(-10000)).toBe('-10,000');
  });

  it('colours gains and losses, but not what shows as zero', () => {
    expect(pnlColor(5)).toBe('success.main');
    expect(pnlColor(-5)).toBe('error.main');
    expect(pnlColor(-0.0001)).toBeUndefined();
  });
});

describe('times', () => {
  it('shows times in the given zone', () => {
    expect(formatDateTime('2025-01-20T15:00:00Z', { timeZone: 'UTC' })).toBe('2025-01-20 15:00');
    expect(formatDateTime('2025-01-20T15:00:00Z', { timeZone: 'America/Toronto' })).toBe('2025-01-20 10:00');
    expect(formatDateTime('2025-01-20T15:00:05Z', { timeZone: 'Asia/Tokyo', seconds: true })).toBe('2025-01-21 00:00:05');
  });

  it('accepts epoch seconds (chart times)', () => {
    expect(formatDateTime(1737385200, { timeZone: 'UTC' })).toBe('2025-01-20 15:00');
  });

  it('handles missing and bad values', () => {
    expect(formatDateTime(null)).toBe('–');
    expect(formatDateTime('not a date')).toBe('–');
  });

  it('formats durations and relative times', () => {
    expect(formatDuration(25200)).toBe('7h 00m');
    expect(formatDuration(90061)).toBe('1d 1h');
    expect(formatDuration(45)).toBe('45s');
    const now = new Date('2025-01-20T15:00:00Z');
    expect(formatRelative('2025-01-20T14:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2025-01-20T15:00:40Z', now)).toBe('in 40 s');
  });
});

describe('sourceLabel', () => {
  it('names the journal sources as the audit trail shows them', () => {
    expect(sourceLabel('worker')).toBe('Auto (worker)');
    expect(sourceLabel('api/manual')).toBe('Manual (console)');
    expect(sourceLabel('engine')).toBe('Engine');
    expect(sourceLabel('recovery')).toBe('Recovery');
    expect(sourceLabel('cli/demo')).toBe('cli/demo');
  });
});
