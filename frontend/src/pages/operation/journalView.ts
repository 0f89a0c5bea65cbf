/** Pure helpers of the journal table: which entries a page asks for, and one-line summaries. */
import type { JournalEntry } from '../../api/models';

/** Extra entries the first page asks for, in case the operation's last sequence number lags behind. */
export const LOOKAHEAD = 1000;

/**
 * The `after_sequence` and `limit` of page `page` (0 = newest) of `pageSize`
 * entries, newest first, of an operation whose last entry is `lastSequence`.
 * The first page also asks for up to LOOKAHEAD entries past `lastSequence`.
 */
export function journalPage(lastSequence: number, page: number, pageSize: number): { afterSequence: number; limit: number } {
  const upper = Math.max(0, lastSequence - page * pageSize);
  const afterSequence = Math.max(0, upper - pageSize);
  const limit = page === 0 ? pageSize + LOOKAHEAD : Math.max(1, upper - afterSequence);
  return { afterSequence, limit };
}

function num(value: unknown): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(6))) : '';
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
}

/** A one-line description of an entry's data. */
export function summarizeEntry(entry: JournalEntry): string {
  const d = entry.action_data;
  switch (entry.action_type) {
    case 'ORDER_SUBMITTED': {
      const price = d.limit_price ?? d.stop_price;
      return [text(d.role), text(d.side), text(d.order_type), num(d.quantity), price != null ? `@ ${num(price)}` : '',
        text(d.reason) ? `— ${text(d.reason)}` : ''].filter(Boolean).join(' ');
    }
    case 'ORDER_FILLED':
      return `${text(d.side)} ${num(d.quantity)} @ ${num(d.price)}`;
    case 'ORDER_CANCELLED':
    case 'ORDER_REJECTED':
      return [text(d.client_order_id), text(d.reason)].filter(Boolean).join(': ');
    case 'SIGNAL_GENERATED':
      return [text(d.target) || 'FLAT', text(d.reason), text(d.decision) ? `(${text(d.decision)})` : '']
        .filter(Boolean).join(' — ');
    case 'ORDER_ACCEPTED':
      return `${text(d.client_order_id)} accepted (broker id ${text(d.broker_order_id)})`;
    case 'PRICE_EVENT':
      return `${text(d.asset)} ${num(d.last)} (${text(d.price_source)})`;
    case 'TRIGGER_EVALUATED':
      return `${text(d.position_side) || 'flat'} at ${num(d.price)}: SL ${num(d.stop_loss) || '–'} / TP ${num(d.take_profit) || '–'}`
        + ` → ${text(d.triggered) || 'not triggered'}, ${text(d.action)}`;
    case 'GUARDRAIL_EVALUATED': {
      const checks = Array.isArray(d.checks) ? (d.checks as { name?: unknown; passed?: unknown }[]) : [];
      const failed = checks.filter((c) => c.passed === false).map((c) => text(c.name));
      return `${checks.length} checks, ${failed.length ? `failed: ${failed.join(', ')}` : 'all passed'}; ${text(d.action)}`;
    }
    default: {
      const json = JSON.stringify(d);
      return json === '{}' ? '' : json.length > 160 ? `${json.slice(0, 157)}…` : json;
    }
  }
}
