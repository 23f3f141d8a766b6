import { DEFAULT_CHUNK_SIZE } from '../queue/producer.js';
import { DEFAULT_PREFIX } from '../queue/scan-keys.js';
import { DEFAULT_IN_FLIGHT } from './dns-layout.js';

/**
 * Every default of the command line, in one place: the options parser falls
 * back to these and the help texts quote them.
 */
export const DEFAULTS = {
  /** Domains scanned at the same time (per worker for `exoscope worker`). */
  concurrency: 200,
  /** DNS queries per second; 0 = unlimited. */
  rate: 0,
  /** Deadline of one query try, ms. */
  timeoutMs: 2000,
  /** Extra tries per query. */
  retries: 2,
  /** Queries in flight to each resolver (at least; raised with --concurrency). */
  inFlight: DEFAULT_IN_FLIGHT,
  /** Scan threads of `scan`. */
  threads: 1,
  /** HTTPS port of the probe. */
  probePort: 443,
  /** Deadline of each probe request, ms. */
  probeTimeoutMs: 5000,
  /** Hosts probed at once, per process or thread. */
  probeConcurrency: 16,
  /** In-process queue workers of `scan --redis`. */
  workers: 2,
  /** Rows per queue job. */
  chunkSize: DEFAULT_CHUNK_SIZE,
  /** Redis key prefix (when EXOSCOPE_PREFIX is not set). */
  prefix: DEFAULT_PREFIX,
  /** Chunk jobs at once in one worker. */
  jobs: 2,
  /**
   * Job lock of a worker, ms (when EXOSCOPE_LOCK_MS is not set): a killed
   * worker's chunks return to the queue about this long after.
   */
  lockMs: 30_000,
  /** Domains per second for all workers together; 0 = no limit. */
  rateDomains: 0,
  /** Seconds the results stay in Redis after `collect` (`--keep`). */
  keepSeconds: 3600,
} as const;
