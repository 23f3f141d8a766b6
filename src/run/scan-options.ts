import type { Delimiter } from '../adapters/csv-input/delimiter.js';
import type { ProbeSettings, ResolverOrigin } from './deps.js';
import type { DnsClient } from './dns-layout.js';

/** Options shared by every command that resolves DNS. */
export interface DnsOptions {
  /** Resolver addresses (`ip[:port]`); default: the system's, or EXOSCOPE_RESOLVERS. */
  resolvers: string[];
  /** Where `resolvers` came from, for the message when none answers. */
  resolverOrigin: ResolverOrigin;
  /** Domains scanned at the same time. Default 200. */
  concurrency: number;
  /** DNS queries per second for the whole run; 0 = unlimited. Default 0. */
  rate: number;
  /** Per-query deadline in ms, enforced by exoscope. Default 2000. */
  timeoutMs: number;
  /** Extra tries per query, each on the next resolver. Default 2. */
  retries: number;
  /** Where MX address owners come from. Default `packaged`. */
  asnSource: 'packaged' | 'cymru' | 'none';
  /** A user's own IP-to-ASN file (CSV or iptoasn TSV, optionally .gz). */
  asnDb: string | null;
  /** DNS client (see {@link DnsClient}). Default `auto`. */
  dnsClient: DnsClient;
  /**
   * Most DNS queries in flight to each resolver, per thread or worker.
   * Default: `concurrency`, at least 200.
   */
  inFlight: number;
  /** The HTTPS probe of candidate Exchange hosts; null (the default) = off. */
  probe: ProbeSettings | null;
}

/** The options of a scan, validated: what the scan runners take. */
export interface ScanOptions extends DnsOptions {
  /** Input path, or `-` for stdin. */
  input: string;
  /** Output path; null or `-` for stdout. */
  output: string | null;
  format: 'csv' | 'jsonl';
  /** Name of the domain column; default: found by name. */
  column: string | null;
  /** CSV output field delimiter; null: the input's. */
  delimiter: Delimiter | null;
  /** Overwrite an existing output file. */
  force: boolean;
  /** Progress line on stderr: auto = when stderr is a terminal. */
  progress: 'auto' | 'always' | 'never';
  /** Print no summary. */
  quiet: boolean;
  /**
   * Worker threads scanning in parallel (each with its own resolvers, cache
   * and ASN table); 1 scans on the main thread. Default 1.
   */
  threads: number;
}

/** Where the distributed mode's keys live. */
export interface RedisTarget {
  /** `redis://...`, as given or from REDIS_URL. */
  url: string;
  /** Key prefix. */
  prefix: string;
}

/** What `scan --redis` adds to a scan's options. */
export interface DistributedScanOptions extends RedisTarget {
  /** Scan id in Redis. */
  scanId: string;
  /** In-process queue workers. */
  workers: number;
  /** Rows per queue job. */
  chunkSize: number;
  /** Job lock of the workers, ms. */
  lockMs: number;
}
