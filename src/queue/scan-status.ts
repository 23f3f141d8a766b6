import type { Redis } from 'ioredis';
import { duration } from '../core/duration.js';
import type { ChunkQueue } from './chunk-queue.js';
import { QueueError } from './queue-error.js';
import { chunkJobId, scanKeys } from './scan-keys.js';
import { chunkRows, readMeta } from './scan-meta.js';
import type { ScanMeta } from './scan-meta.js';
import { escapeControls } from '../core/untrusted-text.js';

/** Where a scan stands: what `status` prints (and `--json` emits). */
export interface ScanStatus {
  scan: string;
  input: string;
  format: 'csv' | 'jsonl';
  /**
   * `enqueuing`: the producer is still reading the input (or was stopped);
   * `queued`: every chunk is queued and no worker has taken one yet;
   * `running`: chunks are waiting or being scanned; `failed`: every chunk
   * left has failed for good; `complete`: ready to collect; `collected`.
   */
  state:
    'enqueuing' | 'queued' | 'running' | 'failed' | 'complete' | 'collected';
  rows: {
    total: number | null;
    enqueued: number;
    done: number;
    failed: number;
  };
  chunks: { total: number | null; size: number; done: number; failed: number };
  /** Rows per second between the first and the latest stored chunk. */
  rowsPerSecond: number | null;
  /** Seconds left at that rate; null when unknown. */
  etaSeconds: number | null;
  created: string;
  firstResult: string | null;
  lastResult: string | null;
  collected: string | null;
  /** Seconds until the scan's keys expire (set by collect); null: kept. */
  expiresInSeconds: number | null;
  /** A few failed chunks and why. */
  failures: { chunk: number; reason: string }[];
  /** Job counts of the queue, shared by all scans. */
  queue: { waiting: number; active: number; delayed: number; failed: number };
}

/**
 * A scan's metadata, or the EXO_SCAN_NOT_FOUND error. Reads only: call it
 * before opening the queue (BullMQ writes its own keys when a queue opens),
 * so that asking about a scan that does not exist leaves Redis unchanged.
 */
export async function requireScan(
  redis: Redis,
  prefix: string,
  scanId: string,
): Promise<ScanMeta> {
  const meta = await readMeta(redis, scanKeys(prefix, scanId));
  if (!meta) {
    throw new QueueError(
      'EXO_SCAN_NOT_FOUND',
      `no scan '${scanId}' in Redis under prefix '${prefix}' (never enqueued, or collected and expired; another --prefix?)`,
    );
  }
  return meta;
}

/** Reads a scan's status: a handful of cheap commands, fine while it runs. */
export async function scanStatus(
  redis: Redis,
  queue: ChunkQueue,
  prefix: string,
  scanId: string,
): Promise<ScanStatus> {
  const keys = scanKeys(prefix, scanId);
  const meta = await requireScan(redis, prefix, scanId);
  const size = meta.chunkSize;
  const lastChunk =
    meta.chunks !== null && meta.chunks > 0 ? String(meta.chunks - 1) : null;
  const [done, failedAll, lastDone, ttl, counts, firstJob] = await Promise.all([
    redis.hlen(keys.results),
    redis.hgetall(keys.failed),
    lastChunk === null
      ? Promise.resolve(0)
      : redis.hexists(keys.results, lastChunk),
    redis.ttl(keys.meta),
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
    // Workers take the oldest job first: while chunk 0 waits, none has
    // taken any chunk of this scan.
    queue.getJobState(chunkJobId(scanId, 0)),
  ]);
  const total = meta.rows;
  let doneRows = done * size;
  if (lastDone && total !== null && meta.chunks !== null) {
    doneRows -= size - chunkRows(meta.chunks - 1, size, total);
  }
  const failedChunks = Object.keys(failedAll).map(Number);
  const failedRows = failedChunks.reduce(
    (n, c) => n + (total === null ? size : chunkRows(c, size, total)),
    0,
  );

  let rate: number | null = null;
  if (
    meta.started !== null &&
    meta.lastDone !== null &&
    meta.lastDone > meta.started &&
    done > 1
  ) {
    // `started` is when the first chunk was stored: count the rows after it.
    rate = ((done - 1) * size) / ((meta.lastDone - meta.started) / 1000);
  }
  const remaining =
    total === null ? null : Math.max(0, total - doneRows - failedRows);
  const eta =
    rate && remaining !== null
      ? Math.round(remaining / rate)
      : remaining === 0
        ? 0
        : null;

  let state: ScanStatus['state'];
  if (meta.collected !== null) state = 'collected';
  else if (meta.chunks === null) state = 'enqueuing';
  else if (done >= meta.chunks) state = 'complete';
  else if (failedChunks.length > 0 && done + failedChunks.length >= meta.chunks)
    state = 'failed';
  else if (
    done === 0 &&
    failedChunks.length === 0 &&
    (firstJob === 'waiting' || firstJob === 'prioritized')
  )
    state = 'queued';
  else state = 'running';

  const iso = (t: number | null): string | null =>
    t === null ? null : new Date(t).toISOString();
  return {
    scan: scanId,
    input: meta.input,
    format: meta.format,
    state,
    rows: {
      total,
      enqueued: meta.enqueuedRows,
      done: doneRows,
      failed: failedRows,
    },
    chunks: { total: meta.chunks, size, done, failed: failedChunks.length },
    rowsPerSecond: rate === null ? null : Math.round(rate),
    etaSeconds: state === 'running' ? eta : null,
    created: new Date(meta.created).toISOString(),
    firstResult: iso(meta.started),
    lastResult: iso(meta.lastDone),
    collected: iso(meta.collected),
    expiresInSeconds: ttl > 0 ? ttl : null,
    failures: Object.entries(failedAll)
      .slice(0, 5)
      .map(([chunk, reason]) => ({ chunk: Number(chunk), reason })),
    queue: {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    },
  };
}

/** The status as a few lines for a person. */
export function formatStatus(s: ScanStatus, now: number): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const pct =
    s.rows.total && s.rows.total > 0
      ? ` (${((100 * s.rows.done) / s.rows.total).toFixed(1)} %)`
      : '';
  const lines = [
    `scan ${s.scan} (${s.input}, ${s.format}, chunks of ${s.chunks.size} rows): ${s.state}`,
    `  rows:    ${n(s.rows.done)} / ${s.rows.total === null ? `${n(s.rows.enqueued)} so far (enqueue still reading)` : n(s.rows.total)} done${pct}, ${n(s.rows.failed)} failed`,
    `  chunks:  ${n(s.chunks.done)} / ${s.chunks.total === null ? '?' : n(s.chunks.total)} done, ${n(s.chunks.failed)} failed`,
  ];
  if (s.rowsPerSecond !== null) {
    lines.push(
      `  rate:    ${n(s.rowsPerSecond)} rows/s${s.etaSeconds !== null ? `, ETA ${duration(s.etaSeconds)}` : ''}`,
    );
  }
  const last = s.lastResult
    ? `, last result ${duration(Math.round((now - Date.parse(s.lastResult)) / 1000))} ago`
    : '';
  lines.push(`  created: ${s.created}${last}`);
  if (s.collected) {
    lines.push(
      `  collected: ${s.collected}${s.expiresInSeconds !== null ? `; keys expire in ${duration(s.expiresInSeconds)}` : ''}`,
    );
  }
  if (s.state === 'queued') {
    lines.push(
      '  no worker has taken a chunk of this scan yet (is one running? `exoscope worker`)',
    );
  }
  for (const f of s.failures)
    lines.push(`  failed chunk ${f.chunk}: ${f.reason}`);
  lines.push(
    `  queue (all scans): ${n(s.queue.waiting)} waiting, ${n(s.queue.active)} active, ${n(s.queue.delayed)} delayed (retry backoff), ${n(s.queue.failed)} failed`,
  );
  // The input's name, times and failure reasons come from Redis (shared, and
  // the name from whoever enqueued): escaped for the terminal.
  return `${lines.map(escapeControls).join('\n')}\n`;
}
