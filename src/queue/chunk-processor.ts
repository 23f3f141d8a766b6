import { randomBytes } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock, Scheduler } from '../core/clock.js';
import type { DnsPort } from '../core/dns.js';
import { renderRow } from '../core/output-row.js';
import type { RenderedRow } from '../core/output-row.js';
import type { DomainScanner } from '../core/report.js';
import { scanRows } from '../core/scan-rows.js';
import { packRendered, unpackRows } from './chunk-codec.js';
import type { ChunkJobData } from './chunk-codec.js';
import { scanKeys } from './scan-keys.js';

/** What processing one chunk job did. */
export interface ChunkOutcome {
  /** Rows in the chunk. */
  rows: number;
  /**
   * `stored`: scanned and stored; `done`: a result was already stored (the
   * job ran before: a retry after a lost lock, a duplicate), nothing changed;
   * `obsolete`: the scan no longer exists (collected and expired, or deleted).
   */
  outcome: 'stored' | 'done' | 'obsolete';
  /** The scan's chunk size, when the scan exists. */
  chunkSize?: number;
}

export interface ChunkProcessorDeps {
  /** A connection for the processor's own commands. */
  redis: Redis;
  prefix: string;
  /** Scans one domain; the caller bounds its concurrency across jobs. */
  scan: DomainScanner;
  /** Asked once when a whole chunk fails at DNS level: are the resolvers alive? */
  dns: DnsPort;
  /** Rows of one chunk in flight at once (the scanner bounds the real DNS work). */
  concurrency: number;
  /** Times the rows' scans and stamps the stored result. */
  clock: Clock;
  /** Runs the chunk scan's straggler sweep. */
  scheduler: Scheduler;
}

/** The chunk's data as the job carries it; the processor never sees a BullMQ Job. */
export type ChunkProcessor = (data: unknown) => Promise<ChunkOutcome>;

// Stores a chunk's rows only if the scan still exists and the chunk has no
// result yet: a second run of the same job changes nothing, and a job that
// outlived its scan leaves no key behind (without a TTL) after it expired.
const STORE_RESULT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local stored = redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSETNX', KEYS[1], 'started', ARGV[3])
redis.call('HSET', KEYS[1], 'lastDone', ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[1])
return stored
`;

const DNS_DOWN = new Set(['timeout', 'error']);

/**
 * The processor of a chunk job: scan its rows with the core, render them in
 * the scan's format, store them once. An input row that cannot be scanned is
 * a result row (the core makes it `invalid` or `error`); the job throws only
 * for infrastructure: Redis failing, or every resolver silent (then BullMQ
 * retries it later). Malformed job data is `UnrecoverableError`.
 */
export function createChunkProcessor(deps: ChunkProcessorDeps): ChunkProcessor {
  return async (data) => {
    const rows = unpackRows(data);
    if (rows === null) {
      throw new UnrecoverableError(
        'malformed chunk job: not written by exoscope enqueue',
      );
    }
    const { scan: scanId, chunk } = data as ChunkJobData;
    const keys = scanKeys(deps.prefix, scanId);
    const replies = (await deps.redis
      .multi()
      .hmget(keys.meta, 'version', 'format', 'header', 'chunkSize')
      .hexists(keys.results, String(chunk))
      .exec()) as [[Error | null, (string | null)[]], [Error | null, number]];
    const [[metaError, meta], [existsError, exists]] = replies;
    if (metaError || existsError) throw metaError ?? existsError;
    const [version, format, headerJson, size] = meta;
    const chunkSize = Number(size);
    if (!version) return { rows: rows.length, outcome: 'obsolete' };
    if (exists) return { rows: rows.length, outcome: 'done', chunkSize };
    if (format !== 'csv' && format !== 'jsonl') {
      throw new UnrecoverableError(
        `scan ${scanId}: unknown format '${format}'`,
      );
    }
    const header = JSON.parse(headerJson ?? '[]') as string[];

    const rendered: RenderedRow[] = [];
    let scanned = 0;
    let dnsDown = 0;
    for await (const report of scanRows(rows, deps.scan, {
      concurrency: deps.concurrency,
      clock: deps.clock,
      scheduler: deps.scheduler,
    })) {
      rendered.push(renderRow(report, format, header));
      if (report.evidence) {
        scanned++;
        if (DNS_DOWN.has(report.status)) dnsDown++;
      }
    }
    if (
      scanned >= 3 &&
      dnsDown === scanned &&
      !(await resolversAnswer(deps.dns))
    ) {
      throw new Error(
        `chunk ${chunk} of ${scanId}: no DNS resolver answers; retrying later`,
      );
    }
    const stored = (await deps.redis.eval(
      STORE_RESULT,
      3,
      keys.meta,
      keys.results,
      keys.failed,
      String(chunk),
      packRendered(rendered),
      String(deps.clock.now()),
    )) as number;
    return {
      rows: rows.length,
      outcome: stored === 1 ? 'stored' : stored === 0 ? 'done' : 'obsolete',
      chunkSize,
    };
  };
}

/**
 * Whether any resolver answers at all: a name under .invalid (RFC 6761) that
 * no cache has seen, so the answer comes from the network.
 */
async function resolversAnswer(dns: DnsPort): Promise<boolean> {
  const name = `exoscope-alive-${randomBytes(6).toString('hex')}.invalid`;
  const r = await dns.query(name, 'A');
  return !DNS_DOWN.has(r.status);
}
