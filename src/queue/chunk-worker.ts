import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChunkJobData } from './chunk-codec.js';
import { isChunkJobData } from './chunk-codec.js';
import { OOM_ADVICE, isRedisOom } from './queue-error.js';
import type { ChunkOutcome, ChunkProcessor } from './chunk-processor.js';
import { QUEUE_NAME, scanKeys } from './scan-keys.js';

/** Default chunk jobs one worker processes at once. */
export const DEFAULT_JOBS = 2;
/** Default job lock: a killed worker's chunks return to the queue about this long after. */
export const DEFAULT_LOCK_MS = 30_000;

export interface ChunkWorkerOptions {
  /** A worker-role connection (`maxRetriesPerRequest: null`); shared, not closed here. */
  redis: Redis;
  prefix: string;
  process: ChunkProcessor;
  /**
   * Chunk jobs processed at once (BullMQ `concurrency`). Two keep the DNS
   * busy while one chunk waits for its slowest domain. Default 2.
   */
  jobs: number;
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
  const warned = new Set<string>();
  const worker = new Worker<ChunkJobData, ChunkOutcome, string>(
    QUEUE_NAME,
    async (job: Job<ChunkJobData, ChunkOutcome, string>) => {
      active++;
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
  worker.on('error', (err) => options.log(`worker error: ${reason(err)}`));
  return {
    worker,
    stats,
    active: () => active,
    close: async (force = false) => {
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
