import type { Redis } from 'ioredis';
import type { Sink } from '../core/sink.js';
import { RESULT_COLUMNS } from '../core/output-row.js';
import type { RenderedRow } from '../core/output-row.js';
import { unpackRendered } from './chunk-codec.js';
import type { ChunkQueue } from './chunk-queue.js';
import { QueueError, scanLost } from './queue-error.js';
import { allScanKeys, chunkJobId, scanKeys } from './scan-keys.js';
import type { ScanKeys } from './scan-keys.js';
import { chunkRows, readMeta } from './scan-meta.js';
import type { ScanMeta } from './scan-meta.js';

/** Chunks fetched per HMGET while writing. */
const FETCH_CHUNKS = 16;
/** Time without progress before collect looks for failed or lost chunks. */
const STUCK_MS = 10_000;
/** Default time between looks at the results hash while waiting. */
const DEFAULT_POLL_MS = 250;

/** Where a scan stands, as collect sees it while waiting. */
export interface CollectProgress {
  done: number;
  failed: number;
  /** Null while the producer is still reading the input. */
  chunks: number | null;
  chunkSize: number;
  rows: number | null;
}

export interface CollectOptions {
  redis: Redis;
  queue: ChunkQueue;
  prefix: string;
  scanId: string;
  /** Opens the output once the scan's format and header are known. */
  openSink: (meta: ScanMeta) => Promise<Sink>;
  /** Wait for the scan to finish; false: fail at once when it has not. */
  wait: boolean;
  /** Seconds the scan's keys stay after writing; 0 deletes them at once. */
  keepSeconds: number;
  /** Between looks at the results hash while waiting. Default 250 ms. */
  pollMs?: number;
  onProgress?: (p: CollectProgress) => void;
  signal?: AbortSignal;
  now: () => number;
}

export interface CollectResult {
  rows: number;
  chunks: number;
  /** Rows per classification and per status, for the summary. */
  classification: Map<string, number>;
  /** Rows that had more fields than the header (flagged extra-fields). */
  extraFieldRows: number;
  status: Map<string, number>;
  /** Input lines enqueue skipped: blank and comment. */
  skipped: { blank: number; comment: number };
}

/**
 * `collect`: writes the scan's rows in input order through the sink (a
 * temporary file renamed at the end), chunk after chunk as soon as each is
 * stored and every chunk before it is written, so that little is left to
 * write when the last chunk arrives; then sets the scan's keys to expire.
 * Without `wait`, an unfinished scan fails before anything is opened.
 * Reading changes nothing, so running it again writes the same file.
 */
export async function collectScan(
  options: CollectOptions,
): Promise<CollectResult> {
  const { redis, scanId } = options;
  const keys = scanKeys(options.prefix, scanId);
  let state = await scanState(options, keys, false);
  if (!options.wait && !finished(state)) {
    const { meta, done, failed } = state;
    throw new QueueError(
      'EXO_SCAN_INCOMPLETE',
      `scan ${scanId} is not finished: ${done}/${meta.chunks ?? `${meta.enqueuedChunks}+`} chunks done, ${failed} failed${meta.chunks === null ? ', enqueue still reading' : ''}`,
    );
  }

  const sink = await options.openSink(state.meta);
  const classification = new Map<string, number>();
  const status = new Map<string, number>();
  const tally = tallier(state.meta, classification, status);
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const stuckPolls = Math.max(1, Math.ceil(STUCK_MS / pollMs));
  let next = 0;
  let rows = 0;
  let lastDone = -1;
  let still = 0;
  try {
    for (;;) {
      const { meta } = state;
      // Chunks whose size is certain: all once the producer is done, until
      // then all but the newest (which may be the short last one).
      const known = meta.chunks ?? Math.max(0, meta.enqueuedChunks - 1);
      while (next < known) {
        options.signal?.throwIfAborted();
        const ids: string[] = [];
        for (let i = next; i < Math.min(next + FETCH_CHUNKS, known); i++)
          ids.push(String(i));
        const stored = await redis.hmgetBuffer(keys.results, ...ids);
        const ready = stored.findIndex((buf) => !buf);
        for (const buf of ready < 0 ? stored : stored.slice(0, ready)) {
          const chunkRowsOut = unpackRendered(buf as Buffer);
          const expected =
            meta.rows === null
              ? meta.chunkSize
              : chunkRows(next, meta.chunkSize, meta.rows);
          if (chunkRowsOut.length !== expected) {
            throw new QueueError(
              'EXO_SCAN_INCOMPLETE',
              `scan ${scanId}: chunk ${next} holds ${chunkRowsOut.length} rows, expected ${expected}`,
            );
          }
          for (const row of chunkRowsOut) {
            await sink.writeRendered(row);
            tally(row);
          }
          rows += chunkRowsOut.length;
          next++;
        }
        if (ready >= 0) break;
      }
      if (meta.chunks !== null && next >= meta.chunks) break;
      if (finished(state)) {
        // Every chunk counted as stored, yet one is missing from the hash.
        throw new QueueError(
          'EXO_SCAN_INCOMPLETE',
          `scan ${scanId}: chunk ${next} has no result (expired?)`,
        );
      }
      options.onProgress?.({
        done: state.done,
        failed: state.failed,
        chunks: meta.chunks,
        chunkSize: meta.chunkSize,
        rows: meta.rows,
      });
      still = state.done === lastDone ? still + 1 : 0;
      lastDone = state.done;
      if (meta.chunks !== null && still >= stuckPolls) {
        still = 0;
        await findStuckChunks(options, keys, meta.chunks);
      }
      await sleep(pollMs, options.signal);
      state = await scanState(options, keys, true);
    }
    await sink.close();
  } catch (err) {
    await sink.abort();
    throw err;
  }

  await redis.hset(keys.meta, 'collected', options.now());
  if (options.keepSeconds > 0) {
    const multi = redis.multi();
    for (const key of allScanKeys(keys)) multi.expire(key, options.keepSeconds);
    await multi.exec();
  } else {
    await redis.del(...allScanKeys(keys));
  }
  return {
    rows,
    chunks: state.meta.chunks ?? 0,
    classification,
    status,
    skipped: {
      blank: state.meta.skippedBlank,
      comment: state.meta.skippedComment,
    },
    extraFieldRows: sink.extraFieldRows,
  };
}

interface ScanState {
  meta: ScanMeta;
  /** Chunks with a result. */
  done: number;
  /** Chunks that failed for good. */
  failed: number;
}

const finished = ({ meta, done }: ScanState): boolean =>
  meta.chunks !== null && done >= meta.chunks;

/**
 * Where the scan stands; throws when it does not exist or cannot finish, or
 * when its keys vanished after it was `seen`.
 */
async function scanState(
  options: CollectOptions,
  keys: ScanKeys,
  seen: boolean,
): Promise<ScanState> {
  const { redis, scanId } = options;
  options.signal?.throwIfAborted();
  const meta = await readMeta(redis, keys);
  if (!meta && seen) throw scanLost(scanId);
  if (!meta) {
    throw new QueueError(
      'EXO_SCAN_NOT_FOUND',
      `no scan '${scanId}' in Redis (never enqueued, or collected and expired)`,
    );
  }
  const [done, failed] = await Promise.all([
    redis.hlen(keys.results),
    redis.hlen(keys.failed),
  ]);
  if (meta.chunks !== null && failed > 0 && done + failed >= meta.chunks) {
    const reasons = await redis.hgetall(keys.failed);
    const [chunk, reason] = Object.entries(reasons)[0] ?? ['?', '?'];
    throw new QueueError(
      'EXO_SCAN_FAILED',
      `scan ${scanId}: ${failed} chunk(s) failed for good (chunk ${chunk}: ${reason}); fix the cause, then re-run enqueue with --scan ${scanId} to retry them`,
    );
  }
  return { meta, done, failed };
}

/**
 * When no chunk finished for a while: records chunks whose job failed for
 * good without a worker noticing (a stall past the limit), and stops with a
 * clear message when a chunk has neither result nor job (lost with a Redis
 * restart without persistence): `enqueue` queues it again.
 */
async function findStuckChunks(
  options: CollectOptions,
  keys: ScanKeys,
  chunks: number,
): Promise<void> {
  const { redis, queue, scanId } = options;
  const done = new Set(await redis.hkeys(keys.results));
  const lost: number[] = [];
  let looked = 0;
  for (let i = 0; i < chunks && looked < 50; i++) {
    if (done.has(String(i))) continue;
    looked++;
    const id = chunkJobId(scanId, i);
    const state = await queue.getJobState(id);
    if (state === 'failed') {
      const job = await queue.getJob(id);
      await redis.hset(keys.failed, String(i), job?.failedReason ?? 'failed');
    } else if (
      state === 'unknown' &&
      !(await redis.hexists(keys.results, String(i)))
    ) {
      lost.push(i);
    }
  }
  if (lost.length > 0) {
    throw new QueueError(
      'EXO_SCAN_INCOMPLETE',
      `scan ${scanId}: chunk(s) ${lost.slice(0, 10).join(', ')} have neither a result nor a job (lost); re-run enqueue on the same input with --scan ${scanId} to queue them again`,
    );
  }
}

/** Counts classification and status of each written row. */
function tallier(
  meta: ScanMeta,
  classification: Map<string, number>,
  status: Map<string, number>,
): (row: RenderedRow) => void {
  const width = meta.header.length;
  const ci = width + RESULT_COLUMNS.indexOf('classification');
  const si = width + RESULT_COLUMNS.indexOf('status');
  const bump = (m: Map<string, number>, k: unknown): void => {
    const key = typeof k === 'string' ? k : '?';
    m.set(key, (m.get(key) ?? 0) + 1);
  };
  return (row) => {
    if (Array.isArray(row)) {
      bump(classification, row[ci]);
      bump(status, row[si]);
    } else {
      bump(classification, row.classification);
      bump(status, row.status);
    }
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(
        signal?.reason instanceof Error ? signal.reason : new Error('aborted'),
      );
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
