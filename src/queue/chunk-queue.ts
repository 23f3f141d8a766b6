import { Queue } from 'bullmq';
import type { DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChunkJobData } from './chunk-codec.js';
import { QUEUE_NAME } from './scan-keys.js';

/**
 * Options of every chunk job. Completed jobs are removed at once (the result
 * lives in the scan's results hash); failed ones are kept, bounded, for
 * `status` and for `enqueue` to retry. Transient failures (Redis, a resolver
 * outage) are retried with exponential backoff: 5, 10, 20, 40, 80 s.
 */
export const CHUNK_JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: true,
  removeOnFail: { count: 1000, age: 7 * 24 * 3600 },
} as const satisfies DefaultJobOptions;

export type ChunkQueue = Queue<ChunkJobData, { rows: number }, string>;

/** The queue all scans share, on an existing connection (not closed with it). */
export function openChunkQueue(redis: Redis, prefix: string): ChunkQueue {
  const queue = new Queue<ChunkJobData, { rows: number }, string>(QUEUE_NAME, {
    connection: redis,
    prefix,
    defaultJobOptions: CHUNK_JOB_OPTIONS,
    // the events stream is BullMQ's; nothing here reads it, keep it short
    streams: { events: { maxLen: 1000 } },
  });
  // The connection's errors are the connection's owner's to report (see
  // connectRedis), and a command that fails says why; without a listener
  // BullMQ prints each one as a raw multi-line dump.
  queue.on('error', () => undefined);
  return queue;
}
