import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Delimiter } from '../adapters/csv-input/delimiter.js';
import type { RowInput } from '../core/report.js';
import { packRows } from './chunk-codec.js';
import type { ChunkJobData } from './chunk-codec.js';
import type { ChunkQueue } from './chunk-queue.js';
import { OOM_ADVICE, QueueError, isRedisOom } from './queue-error.js';
import { JOB_NAME, chunkJobId, scanKeys } from './scan-keys.js';
import { LAYOUT_VERSION, readMeta } from './scan-meta.js';
import type { ScanMeta } from './scan-meta.js';

/** Default rows per chunk job. */
export const DEFAULT_CHUNK_SIZE = 100;
/** Chunks per `addBulk` call: bounds memory and the size of one Redis request. */
export const BULK_CHUNKS = 50;

export interface EnqueueOptions {
  redis: Redis;
  queue: ChunkQueue;
  prefix: string;
  scanId: string;
  /** The input: its header, its rows (read once, streaming), its skipped lines. */
  source: {
    header: string[];
    rows: AsyncIterable<RowInput>;
    skipped: { blank: number; comment: number };
  };
  /** Shown by status: the file's base name, or `stdin`. */
  inputName: string;
  /** SHA-256 of the input file's bytes, for the scan's record; '' for stdin. */
  inputSha256?: string;
  /** Null: the scan's stored format, or csv for a new scan. */
  format: 'csv' | 'jsonl' | null;
  /** The CSV output's field delimiter, fixed at the scan's first enqueue. Default `,`. */
  delimiter?: Delimiter;
  /** Null: the scan's stored chunk size, or {@link DEFAULT_CHUNK_SIZE}. */
  chunkSize: number | null;
  now: () => number;
  /** Called after each bulk add with the rows read so far. */
  onProgress?: (rows: number) => void;
}

export interface EnqueueResult {
  scanId: string;
  rows: number;
  chunks: number;
  /** Chunks handed to BullMQ (it ignores those whose job still exists). */
  submitted: number;
  /** Of those, the chunks that had no job: the jobs this run added. */
  added: number;
  /** Chunks skipped because their result is already stored. */
  alreadyDone: number;
  /** Failed chunk jobs moved back to wait. */
  retried: number;
  /** False when the scan existed before this run. */
  created: boolean;
}

/**
 * Streams an input into the queue, one job per chunk of rows, in bulk adds
 * of {@link BULK_CHUNKS}. Idempotent: job ids derive from scan and chunk,
 * and chunks whose result is stored are skipped, so running it again for the
 * same scan (after a crash, or to be sure) adds nothing twice; it re-queues
 * chunks whose job was lost and retries chunks whose job failed for good.
 */
export async function enqueueScan(
  options: EnqueueOptions,
): Promise<EnqueueResult> {
  try {
    return await enqueueRows(options);
  } catch (err) {
    if (!isRedisOom(err)) throw err;
    // The chunks queued so far stay: the same enqueue, run again once there
    // is room, queues only the rest.
    throw new QueueError(
      'EXO_REDIS_OOM',
      `Redis is out of memory (OOM: maxmemory reached); scan ${options.scanId} is only partly queued: ${OOM_ADVICE}, then run enqueue again with --scan ${options.scanId} to queue the rest`,
      { cause: err },
    );
  }
}

async function enqueueRows(options: EnqueueOptions): Promise<EnqueueResult> {
  const { redis, queue, scanId, source } = options;
  const keys = scanKeys(options.prefix, scanId);
  const existing = await readMeta(redis, keys);
  const settings = existing
    ? checkCompatible(existing, options)
    : {
        format: options.format ?? 'csv',
        chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      };
  if (!existing) {
    await redis.hset(keys.meta, {
      version: LAYOUT_VERSION,
      input: options.inputName,
      inputSha256: options.inputSha256 ?? '',
      format: settings.format,
      header: JSON.stringify(source.header),
      delimiter: options.delimiter ?? ',',
      chunkSize: settings.chunkSize,
      created: options.now(),
      enqueuedChunks: 0,
      enqueuedRows: 0,
      hash: '',
      firstHash: '',
    });
  }
  const firstHash = existing ? await redis.hget(keys.meta, 'firstHash') : null;
  const size = settings.chunkSize;

  const hash = createHash('sha256');
  let rows = 0;
  let chunk: RowInput[] = [];
  let chunks = 0;
  let submitted = 0;
  let added = 0;
  let alreadyDone = 0;
  let batch: { chunk: number; data: ChunkJobData }[] = [];

  const mismatch = (why: string): QueueError =>
    new QueueError(
      'EXO_SCAN_MISMATCH',
      `scan '${scanId}' was enqueued from a different input (${why}); use another --scan id`,
    );

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const done = await redis.hmget(
      keys.results,
      ...batch.map((b) => String(b.chunk)),
    );
    const todo = batch.filter((_b, i) => done[i] === null);
    alreadyDone += batch.length - todo.length;
    if (todo.length > 0) {
      const jobs = redis.pipeline();
      for (const b of todo)
        jobs.exists(queue.toKey(chunkJobId(scanId, b.chunk)));
      const had = (await jobs.exec()) ?? [];
      added += had.filter(([err, n]) => err === null && n === 0).length;
      await queue.addBulk(
        todo.map((b) => ({
          name: JOB_NAME,
          data: b.data,
          opts: { jobId: chunkJobId(scanId, b.chunk) },
        })),
      );
      submitted += todo.length;
    }
    batch = [];
    // Progress (and the fingerprint of what was read) only moves forward.
    if (chunks > (existing?.enqueuedChunks ?? 0)) {
      await redis.hset(keys.meta, {
        enqueuedChunks: chunks,
        enqueuedRows: rows,
        hash: digest(hash),
      });
    }
    options.onProgress?.(rows);
  };

  const endChunk = async (): Promise<void> => {
    const i = chunks++;
    if (existing) {
      if (existing.chunks !== null && i >= existing.chunks) {
        throw mismatch(`more than its ${existing.rows} rows`);
      }
      if (i === 0 && firstHash && digest(hash) !== firstHash) {
        throw mismatch('its first rows differ');
      }
      if (i + 1 === existing.enqueuedChunks && digest(hash) !== existing.hash) {
        throw mismatch(`its first ${existing.enqueuedRows} rows differ`);
      }
    } else if (i === 0) {
      await redis.hset(keys.meta, 'firstHash', digest(hash));
    }
    batch.push({
      chunk: i,
      data: {
        scan: scanId,
        chunk: i,
        count: chunk.length,
        rows: packRows(chunk),
      },
    });
    chunk = [];
    if (batch.length >= BULK_CHUNKS) await flush();
  };

  for await (const row of source.rows) {
    const input: RowInput = {
      index: row.index,
      value: row.value,
      fields: row.fields,
    };
    hash.update(JSON.stringify([input.value, input.fields]));
    hash.update('\n');
    chunk.push(input);
    rows++;
    if (chunk.length === size) await endChunk();
  }
  if (chunk.length > 0) await endChunk();
  await flush();

  if (existing) {
    if (
      chunks < existing.enqueuedChunks ||
      (existing.rows !== null && rows !== existing.rows)
    ) {
      throw mismatch(
        `${rows} rows, not ${existing.rows ?? `at least ${existing.enqueuedRows}`}`,
      );
    }
    if (existing.chunks !== null && digest(hash) !== existing.hash) {
      throw mismatch('its rows differ');
    }
  }
  await redis.hset(keys.meta, {
    enqueuedChunks: chunks,
    enqueuedRows: rows,
    hash: digest(hash),
    chunks,
    rows,
    skippedBlank: source.skipped.blank,
    skippedComment: source.skipped.comment,
  });
  const retried = await retryFailed(redis, queue, scanId, keys.failed);
  return {
    scanId,
    rows,
    chunks,
    submitted,
    added,
    alreadyDone,
    retried,
    created: !existing,
  };
}

function digest(hash: Hash): string {
  return hash.copy().digest('hex');
}

/** The scan's settings, or a mismatch error when this run asks for others. */
function checkCompatible(
  meta: ScanMeta,
  options: EnqueueOptions,
): { format: 'csv' | 'jsonl'; chunkSize: number } {
  const fail = (why: string): QueueError =>
    new QueueError(
      'EXO_SCAN_MISMATCH',
      `scan '${options.scanId}' already exists with ${why}; use another --scan id`,
    );
  if (meta.version !== LAYOUT_VERSION) {
    throw fail(
      `key layout version ${meta.version} (this exoscope writes ${LAYOUT_VERSION})`,
    );
  }
  if (options.format !== null && options.format !== meta.format) {
    throw fail(`--format ${meta.format}`);
  }
  if (options.chunkSize !== null && options.chunkSize !== meta.chunkSize) {
    throw fail(`--chunk-size ${meta.chunkSize}`);
  }
  if (JSON.stringify(meta.header) !== JSON.stringify(options.source.header)) {
    throw fail(`another input header (${meta.header.join(',').slice(0, 80)})`);
  }
  return { format: meta.format, chunkSize: meta.chunkSize };
}

/** Moves the scan's failed chunk jobs back to wait; returns how many. */
async function retryFailed(
  redis: Redis,
  queue: ChunkQueue,
  scanId: string,
  failedKey: string,
): Promise<number> {
  const failed = await redis.hkeys(failedKey);
  let retried = 0;
  for (const c of failed) {
    const job = await queue.getJob(chunkJobId(scanId, Number(c)));
    if (job && (await job.getState()) === 'failed') {
      await job.retry('failed');
      retried++;
    }
    await redis.hdel(failedKey, c);
  }
  return retried;
}
