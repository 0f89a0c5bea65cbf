/** Errors of the API, with FastAPI's 422 details mapped onto form fields. */
import type { components } from './schema';

/** One item of a 422's `detail` (FastAPI's, as the OpenAPI schema gives it). */
export type ValidationIssue = components['schemas']['ValidationError'];

function isIssueList(detail: unknown): detail is ValidationIssue[] {
  return Array.isArray(detail) && detail.every(
    (d) => typeof d === 'object' && d !== null && Array.isArray((d as ValidationIssue).loc));
}

export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;
  readonly retryAfter: string | null;

  constructor(status: number, body: unknown, retryAfter: string | null = null) {
    const detail = typeof body === 'object' && body !== null && 'detail' in body
      ? (body as { detail: unknown }).detail : body;
    super(ApiError.describe(status, detail, retryAfter));
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  static describe(status: number, detail: unknown, retryAfter: string | null): string {
    if (status === 429) return `Too many requests${retryAfter ? `; retry in ${retryAfter} s` : ''}`;
    if (typeof detail === 'string' && detail) return detail;
    if (isIssueList(detail)) {
      return detail.map((d) => `${fieldName(d.loc) || 'request'}: ${d.msg}`).join('; ');
    }
    if (status === 0) return 'The server cannot be reached';
    return `Request failed (HTTP ${status})`;
  }

  /** The 422 issues, if any. */
  get issues(): ValidationIssue[] {
    return isIssueList(this.detail) ? this.detail : [];
  }
}

/**
 * The API field a validation issue's `loc` names: the location (`body`,
 * `query`, `path`) is dropped and the rest joined with dots, e.g.
 * `["body", "strategy_config", "fast_period"]` -> `strategy_config.fast_period`.
 */
export function fieldName(loc: (string | number)[]): string {
  const rest = ['body', 'query', 'path', 'header'].includes(String(loc[0])) ? loc.slice(1) : loc;
  return rest.map(String).join('.');
}

/** `{field: message}` of a 422 answer (several messages for one field are joined). */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError)) return out;
  for (const issue of error.issues) {
    const name = fieldName(issue.loc);
    out[name] = out[name] ? `${out[name]}; ${issue.msg}` : issue.msg;
  }
  return out;
}

/** A message fit for the user, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
