/**
 * How one try of a DNS query ended, which endings are worth another server,
 * and the {@link QueryResult} a query hands back: pure helpers for the
 * resolver adapters, so they agree on retry rules and result shape.
 */
import type {
  QueryResult,
  QueryStatus,
  QueryType,
  RdataOf,
} from '../../core/dns.js';

/** The outcome of one try on one server. */
export interface TryOutcome {
  status: QueryStatus;
  /** The records of the asked type; kept only when `status` is `ok`. */
  records: RdataOf[QueryType][];
  /** Low-level code when `status` is `error` (ECONNREFUSED, EBADRESP, ...). */
  error?: string;
  /** The CNAME chain followed in the answer, when there was one. */
  cnames?: string[];
}

export const TIMED_OUT: TryOutcome = Object.freeze({
  status: 'timeout',
  records: [],
});

export const CANCELLED: TryOutcome = errorOutcome('ECANCELLED');

/** An `error` outcome with its low-level code. */
export function errorOutcome(code: string): TryOutcome {
  return Object.freeze({ status: 'error', records: [], error: code });
}

/**
 * Error codes about the server or the path to it rather than the name, so the
 * next server may do better. EBADRESP is an unparseable reply carrying our
 * query id (c-ares' name for it); EOF a TCP connection closed before the
 * answer; the unreachable/unavailable codes come from a socket that cannot
 * reach the server at all.
 */
export const RETRYABLE_ERRORS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EOF',
  'EBADRESP',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
]);

/** Timeout, SERVFAIL, REFUSED and transport errors move on to the next server. */
export function isRetryable(outcome: TryOutcome): boolean {
  switch (outcome.status) {
    case 'timeout':
    case 'servfail':
    case 'refused':
      return true;
    case 'error':
      return RETRYABLE_ERRORS.has(outcome.error ?? '');
    default:
      return false;
  }
}

/** The result of a query from its last try's outcome. */
export function toQueryResult<T extends QueryType>(
  name: string,
  type: T,
  outcome: TryOutcome,
  resolver: string,
  started: number,
): QueryResult<T> {
  const result: QueryResult<T> = {
    name,
    type,
    status: outcome.status,
    records: (outcome.status === 'ok' ? outcome.records : []) as RdataOf[T][],
    resolver,
    ms: performance.now() - started,
  };
  if (outcome.error !== undefined) result.error = outcome.error;
  if (outcome.cnames !== undefined) result.cnames = outcome.cnames;
  return result;
}

/** The low-level code of a socket's error (ECONNREFUSED, ...); EIO when it has none. */
export function errorCode(err: unknown): string {
  return err !== null && typeof err === 'object' && 'code' in err
    ? String(err.code)
    : 'EIO';
}
