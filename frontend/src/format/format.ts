/**
 * Number and time formatting for traders: prices with the asset's digits,
 * pips for FX (0.0001, or 0.01 for JPY quotes), P/L in the quote currency
 * with 2 decimals, times in the user's time zone.
 */

export type AssetInfo = {
  symbol: string;
  base: string;
  quote: string;
  isFx: boolean;
  /** decimals a price is shown with */
  priceDigits: number;
  /** one pip (FX) or one tick, in price units */
  pipSize: number;
};

const CURRENCY = /^[A-Z]{3}$/;

/** What the formatters need to know of an asset (`USD-CAD`, `EURUSD`, `EUR/JPY`, `AAPL`). */
export function assetInfo(asset: string): AssetInfo {
  const symbol = asset.trim().toUpperCase();
  const parts = symbol.includes('-') || symbol.includes('/') || symbol.includes('_')
    ? symbol.split(/[-/_]/) : symbol.length === 6 ? [symbol.slice(0, 3), symbol.slice(3)] : [symbol];
  const [base = symbol, quote = ''] = parts;
  const isFx = parts.length === 2 && CURRENCY.test(base) && CURRENCY.test(quote);
  if (!isFx) return { symbol, base, quote, isFx, priceDigits: 2, pipSize: 0.01 };
  const jpy = quote === 'JPY';
  return { symbol, base, quote, isFx, priceDigits: jpy ? 3 : 5, pipSize: jpy ? 0.01 : 0.0001 };
}

/** The currency P/L of `asset` is in (its quote currency), '' when unknown. */
export function quoteCurrency(asset: string): string {
  return assetInfo(asset).quote;
}

const DASH = '–';

function isNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function fixed(value: number, digits: number, signed = false): string {
  return new Intl.NumberFormat('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: signed ? 'exceptZero' : 'negative',
  }).format(value);
}

/** A price with the asset's digits: `formatPrice(1.4295285, 'USD-CAD')` = `1.42953`. */
export function formatPrice(value: number | null | undefined, asset: string): string {
  if (!isNumber(value)) return DASH;
  return fixed(value, assetInfo(asset).priceDigits);
}

/** A price difference in pips (FX) or ticks: `toPips(0.0012, 'USD-CAD')` = 12. */
export function toPips(priceDifference: number, asset: string): number {
  return priceDifference / assetInfo(asset).pipSize;
}

/** `+12.3 pips` (one decimal, signed); `ticks` for assets that are not FX. */
export function formatPips(priceDifference: number | null | undefined, asset: string): string {
  if (!isNumber(priceDifference)) return DASH;
  const unit = assetInfo(asset).isFx ? 'pips' : 'ticks';
  return `${fixed(toPips(priceDifference, asset), 1, true)} ${unit}`;
}

/** Money with 2 decimals and the currency code: `-287.44 CAD`. `signed` adds `+`. */
export function formatMoney(value: number | null | undefined, currency = '', signed = false): string {
  if (!isNumber(value)) return DASH;
  const text = fixed(value, 2, signed);
  return currency ? `${text} ${currency}` : text;
}

/** P/L of `asset`: signed, 2 decimals, in its quote currency. */
export function formatPnl(value: number | null | undefined, asset?: string): string {
  return formatMoney(value, asset ? quoteCurrency(asset) : '', true);
}

/** A fraction as a percentage: `formatPercent(-0.0028)` = `-0.28%`. */
export function formatPercent(fraction: number | null | undefined, digits = 2, signed = false): string {
  if (!isNumber(fraction)) return DASH;
  return `${fixed(fraction * 100, digits, signed)}%`;
}

/** A quantity in base-asset units: `10,000`; shorts keep their sign. */
export function formatQuantity(value: number | null | undefined, digits = 0): string {
  if (!isNumber(value)) return DASH;
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }).format(value);
}

/** A plain number with `digits` decimals (ratios, factors). */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (!isNumber(value)) return DASH;
  return fixed(value, digits);
}

/** The user's IANA time zone (from the browser). */
export function userTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export type TimeOptions = { timeZone?: string; locale?: string; seconds?: boolean };

function toDate(value: string | number | Date): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value * 1000); // epoch seconds
  return new Date(value);
}

/** Date and time in the user's zone: `2025-01-20 16:00` (24 h). */
export function formatDateTime(value: string | number | Date | null | undefined, options: TimeOptions = {}): string {
  if (value === null || value === undefined || value === '') return DASH;
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return DASH;
  const parts = new Intl.DateTimeFormat(options.locale ?? 'en-CA', {
    timeZone: options.timeZone,
    year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: options.seconds ? '2-digit' : undefined,
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const time = `${get('hour')}:${get('minute')}${options.seconds ? `:${get('second')}` : ''}`;
  return `${get('year')}-${get('month')}-${get('day')} ${time}`;
}

/** `3h 05m`, `2d 4h`, `45s`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (!isNumber(seconds)) return DASH;
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `5 min ago`, `in 40 s` relative to `now`. */
export function formatRelative(value: string | null | undefined, now: Date = new Date()): string {
  if (!value) return DASH;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return DASH;
  const diff = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(diff);
  const [amount, unit] = abs < 60 ? [abs, 's'] : abs < 3_600 ? [Math.round(abs / 60), 'min']
    : abs < 86_400 ? [Math.round(abs / 3_600), 'h'] : [Math.round(abs / 86_400), 'd'];
  return diff < 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

/** The sign's colour role for a P/L: 'success' (> 0), 'error' (< 0) or undefined. */
export function pnlColor(value: number | null | undefined): 'success.main' | 'error.main' | undefined {
  if (!isNumber(value) || Math.abs(value) < 0.005) return undefined; // shows as 0.00
  return value > 0 ? 'success.main' : 'error.main';
}

/** Label of a journal entry's source, as the audit trail shows it. */
export function sourceLabel(source: string): string {
  switch (source) {
    case 'worker':
      return 'Auto (worker)';
    case 'api/manual':
      return 'Manual (console)';
    case 'engine':
      return 'Engine';
    case 'recovery':
      return 'Recovery';
    default:
      return source;
  }
}
