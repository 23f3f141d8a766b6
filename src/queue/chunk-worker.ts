import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChunkJobData } from './chunk-codec.js';
import { isChunkJobData } from './chunk-codec.js';
import { OOM_ADVICE, isJobKeyGone, isRedisOom } from './queue-error.js';
import type { ChunkOutcome, ChunkProcessor } from './chunk-processor.js';
import { DEFAULT_WINDOW } from '../core/scan-rows.js';
import { isConnectionError } from './redis-connection.js';
import { QUEUE_NAME, scanKeys } from './scan-keys.js';

export interface ChunkWorkerOptions {
  /** A worker-role connection (`maxRetriesPerRequest: null`); shared, not closed here. */
  redis: Redis;
  prefix: string;
  process: ChunkProcessor;
  /**
   * Chunk jobs processed at once (BullMQ `concurrency`), at least. Two keep
   * the DNS busy while one chunk waits for its slowest domain. With `limit`,
   * more while the DNS has room. Default 2.
   */
  jobs: number;
  /**
   * The limit on the processor's domain scans. While it is not full (a
   * chunk waits for a domain whose servers do not answer: seconds), the
   * worker takes one more job, up to {@link MAX_ACTIVE_ROWS} rows in its
   * jobs.
   */
  limit?: { readonly full: boolean };
  /**
   * Lock of a job, in ms. Also the stalled-check interval: a SIGKILLed
   * worker's jobs go back to wait after one to two intervals. Default 30 000.
   */
  lockMs: number;
  /**
   * BullMQ's limiter, shared by every worker of the queue through Redis:
   * at most one chunk job starts every `chunkIntervalMs`. 0 = none.
   */
  chunkIntervalMs: number;
  /** The chunk size `chunkIntervalMs` was computed for; a scan with another one is warned about. */
  rateChunkSize?: number;
  /** Shown in BullMQ's job records (`processedBy`). */
  name?: string;
  /** One line of the worker's log (already free of secrets). */
  log: (line: string) => void;
  /**
   * Log BullMQ's errors of a broken Redis connection and of job keys gone
   * from Redis. Default true (the latter once until a chunk is stored
   * again); false where something else reports what the drop means (`scan
   * --redis`: its collect says the scan is lost).
   */
  logConnectionErrors?: boolean;
}

export interface ChunkWorker {
  readonly worker: Worker<ChunkJobData, ChunkOutcome, string>;
  /** Chunks stored and rows in them, by this worker. */
  readonly stats: { chunks: number; rows: number };
  /** Jobs being processed now. */
  active(): number;
  /**
   * Stops taking jobs and waits for the active ones to finish (graceful);
   * `force` gives them up at once: their locks expire, other workers redo them.
   * False when BullMQ did not finish closing (Redis down): its timers may
   * then keep the process alive.
   */
  close(force?: boolean): Promise<boolean>;
}

/**
 * Rows in a worker's jobs past which it takes no more than `jobs` of them:
 * as many as one process reads ahead of a slow row (a finished row waiting
 * for its chunk's slowest is a few KiB).
 */
export const MAX_ACTIVE_ROWS = DEFAULT_WINDOW;
/** How often a worker looks whether its DNS has room for one more job, in ms. */
const ROOM_CHECK_MS = 50;

/** How long `close` waits for BullMQ once no chunk is active. */
const CLOSE_GRACE_MS = 5000;

// Records a chunk whose job failed for good, unless its scan is gone.
const RECORD_FAILURE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
`;

/** Starts a BullMQ worker on the chunk queue. */
export function startChunkWorker(options: ChunkWorkerOptions): ChunkWorker {
  const stats = { chunks: 0, rows: 0 };
  let active = 0;
  let activeRows = 0;
  let closing = false;
  const warned = new Set<string>();
  const worker = new Worker<ChunkJobData, ChunkOutcome, string>(
    QUEUE_NAME,
    async (job: Job<ChunkJobData, ChunkOutcome, string>) => {
      active++;
      const rows = isChunkJobData(job.data) ? job.data.count : 0;
      activeRows += rows;
      try {
        const outcome = await options.process(job.data);
        const size = outcome.chunkSize;
        if (
          options.chunkIntervalMs > 0 &&
          options.rateChunkSize !== undefined &&
          size !== undefined &&
          size !== options.rateChunkSize &&
          !warned.has(job.data.scan)
        ) {
          warned.add(job.data.scan);
          options.log(
            `WARNING: scan ${job.data.scan} has chunks of ${size} rows but --rate-domains was converted for --chunk-size ${options.rateChunkSize}: its domain rate is ${(size / options.rateChunkSize).toFixed(2)}x the one asked`,
          );
        }
        if (outcome.outcome === 'stored') {
          stats.chunks++;
          stats.rows += outcome.rows;
        }
        return outcome;
      } finally {
        activeRows -= rows;
        active--;
      }
    },
    {
      connection: options.redis,
      prefix: options.prefix,
      concurrency: options.jobs,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      // A job stalls when its worker dies; a few deaths in a row are still
      // not the job's fault. Past that it fails and `status` shows it.
      maxStalledCount: 5,
      ...(options.chunkIntervalMs > 0
        ? { limiter: { max: 1, duration: options.chunkIntervalMs } }
        : {}),
      ...(options.name ? { name: options.name } : {}),
    },
  );
  // One more job while the scans have room (the jobs held wait for
  // stragglers); back to `jobs` when they have none. BullMQ's main loop,
  // once it holds `concurrency` jobs, waits for one of them to end: pause +
  // resume wakes it (what BullMQ's resume() does for a paused loop).
  let waking = false;
  const adjust = (): void => {
    const room =
      options.limit !== undefined &&
      !options.limit.full &&
      activeRows < MAX_ACTIVE_ROWS;
    const target = Math.max(options.jobs, room ? active + 1 : active);
    if (target === worker.concurrency) return;
    const grew = target > worker.concurrency;
    worker.concurrency = target;
    if (!grew || waking || closing || !worker.isRunning()) return;
    waking = true;
    void worker
      .pause(true)
      .then(() => (closing ? undefined : worker.resume()))
      .catch((err: unknown) => options.log(`worker error: ${String(err)}`))
      .finally(() => (waking = false));
  };
  const roomCheck = setInterval(adjust, ROOM_CHECK_MS);
  roomCheck.unref();
  worker.on('closing', () => clearInterval(roomCheck));
  worker.on('failed', (job, err) => {
    if (!job) return;
    void (async () => {
      const final = (await job.getState()) === 'failed';
      options.log(
        `chunk ${job.id} ${final ? 'FAILED for good' : 'failed, will retry'} (attempt ${job.attemptsMade}): ${reason(err)}`,
      );
      if (final && isChunkJobData(job.data)) {
        const keys = scanKeys(options.prefix, job.data.scan);
        await options.redis.eval(
          RECORD_FAILURE,
          2,
          keys.meta,
          keys.failed,
          String(job.data.chunk),
          err.message.slice(0, 500),
        );
      }
    })().catch((e: unknown) =>
      options.log(`cannot record failure of chunk ${job.id}: ${String(e)}`),
    );
  });
  worker.on('stalled', (jobId) =>
    options.log(
      `chunk ${jobId} stalled (its worker stopped): back in the queue`,
    ),
  );
  // Redis restarted without persistence: every job held fails alike.
  let keysGoneSaid = false;
  worker.on('completed', () => (keysGoneSaid = false));
  worker.on('error', (err) => {
    const quiet = options.logConnectionErrors === false;
    if (quiet && isConnectionError(err)) return;
    if (isJobKeyGone(err)) {
      if (quiet || keysGoneSaid) return;
      keysGoneSaid = true;
      options.log(
        `worker error: ${err.message}: the keys of the chunk jobs this worker held are gone from Redis (restarted without persistence, or deleted); their rows are lost until the scan is enqueued again`,
      );
      return;
    }
    options.log(`worker error: ${reason(err)}`);
  });
  return {
    worker,
    stats,
    active: () => active,
    close: async (force = false) => {
      closing = true;
      clearInterval(roomCheck);
      // BullMQ's close waits for an 'end' event that ioredis never emits
      // while the connection is down (taskforcesh/bullmq#4656): once no
      // chunk is being processed, stop waiting after a grace period.
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<boolean>((resolve) => {
        const check = (): void => {
          timer =
            force || active === 0
              ? setTimeout(() => resolve(false), CLOSE_GRACE_MS)
              : setTimeout(check, 200);
        };
        check();
      });
      try {
        return await Promise.race([worker.close(force).then(() => true), idle]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** An error as one log line; Redis's OOM reply says what to do about it. */
function reason(err: Error): string {
  return isRedisOom(err)
    ? `Redis is out of memory (OOM: maxmemory reached): ${OOM_ADVICE}`
    : err.message;
}

/** The limiter interval that gives `domainsPerSecond` with chunks of `chunkSize` rows. */
export function chunkInterval(
  domainsPerSecond: number,
  chunkSize: number,
): number {
  if (domainsPerSecond <= 0) return 0;
  return Math.max(1, Math.round((chunkSize * 1000) / domainsPerSecond));
}
