/**
 * The DNS port of the core: what the scan asks, and the outcome of one query as
 * data. Adapters (node:dns, a raw UDP client, a test double) implement
 * {@link DnsPort}; the core never sees an exception for a DNS failure.
 */

/** The record types exoscope asks for. */
export type QueryType = 'MX' | 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'SRV';

export interface MxRecord {
  /** RFC 7505 null MX has exchange '' (the root) and priority 0. */
  exchange: string;
  priority: number;
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** The rdata shape of each record type, as the adapter hands it over. */
export interface RdataOf {
  MX: MxRecord;
  A: string;
  AAAA: string;
  CNAME: string;
  /** A TXT record's character-strings, joined without separator (RFC 7208 3.3). */
  TXT: string;
  SRV: SrvRecord;
}

/**
 * How a query ended.
 * - `ok`: NOERROR with at least one record of the asked type
 * - `nodata`: NOERROR, no record of that type (the name exists)
 * - `nxdomain`: the name does not exist
 * - `timeout`: no answer from any resolver within the deadline and retries
 * - `servfail`, `refused`: the resolver's RCODE, after trying every resolver
 * - `error`: anything else (malformed reply, TCP refused, bad name); see `error`
 */
export type QueryStatus =
  'ok' | 'nodata' | 'nxdomain' | 'timeout' | 'servfail' | 'refused' | 'error';

/** One query and its outcome: the unit of evidence. */
export interface QueryResult<T extends QueryType = QueryType> {
  name: string;
  type: T;
  status: QueryStatus;
  records: RdataOf[T][];
  /** The resolver that gave the final answer (or the last one tried). */
  resolver: string;
  /** Wall time spent on this query, all tries included, in milliseconds. */
  ms: number;
  /** Low-level error code or message when status is `error` (e.g. ECONNREFUSED). */
  error?: string;
  /**
   * The aliases followed from `name` to the answer, in order (lower-case, no
   * trailing dot), when the answer section held a CNAME chain: for an MX query
   * on `a.example` answered `a.example CNAME b.example`, `b.example MX ...`,
   * `['b.example']`. Absent when there was no alias, for CNAME queries, and
   * from adapters that cannot see the answer section (c-ares hides it).
   */
  cnames?: string[];
}

/** The DNS port: ask one question, get its outcome. Never rejects. */
export interface DnsPort {
  query<T extends QueryType>(name: string, type: T): Promise<QueryResult<T>>;
}

/** A failure of DNS itself (not an answer about the name). */
export function isFailure(status: QueryStatus): boolean {
  return (
    status === 'timeout' ||
    status === 'servfail' ||
    status === 'refused' ||
    status === 'error'
  );
}
