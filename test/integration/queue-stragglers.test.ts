/**
 * A worker whose chunk jobs wait only for domains whose name servers do not
 * answer takes more jobs meanwhile, instead of idling until their timeouts
 * end. Real Redis and BullMQ, fake DNS (`slow*.test` is never answered).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/adapters/csv-source.js';
import type { BuiltDeps } from '../../src/run/deps.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { domainScanner } from '../../src/core/report.js';
import { StraggleLimit } from '../../src/core/straggle-limit.js';
import { unpackRendered } from '../../src/queue/chunk-codec.js';
import { createChunkProcessor } from '../../src/queue/chunk-processor.js';
import { openChunkQueue } from '../../src/queue/chunk-queue.js';
import { startChunkWorker } from '../../src/queue/chunk-worker.js';
import { enqueueScan } from '../../src/queue/producer.js';
import { scanKeys } from '../../src/queue/scan-keys.js';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import { waitFor } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { TempDir } from '../helpers/temp-dir.js';
import {
  freshPrefix,
  testRedis,
  dropPrefix,
  startDns,
  offlineDeps,
  inputCsv,
} from '../helpers/queue-world.js';

let dns: FakeDnsServer;
let built: BuiltDeps;
let redis: Redis;
let dir: TempDir;

beforeAll(async () => {
  dns = await startDns();
  // A never-answered domain takes 2 tries of 1 s.
  built = await offlineDeps(dns.address, 1000, 1);
  redis = testRedis();
  dir = tempDir();
});

afterAll(async () => {
  built?.close();
  await dns?.close();
  await redis?.quit();
  dir?.remove();
});

describe('a worker and domains that never answer', () => {
  it('takes more chunk jobs while its own wait for stragglers, and stores every row', async () => {
    const prefix = freshPrefix();
    const queue = openChunkQueue(redis, prefix);
    const limit = new StraggleLimit(50, {
      straggleMs: 100,
      clock: systemClock,
      scheduler: systemClock,
    });
    const scan = domainScanner(built.deps);
    const CHUNKS = 6;
    const CHUNK = 10;
    // Row 0 of every chunk is a slow*.test name.
    const input = dir.file('slow.csv', inputCsv(CHUNKS * CHUNK, CHUNK));
    try {
      await enqueueScan({
        redis,
        queue,
        prefix,
        scanId: 'slow',
        source: await openSource({ path: input }),
        inputName: 'slow.csv',
        format: null,
        chunkSize: CHUNK,
        now: Date.now,
      });
      const events: string[] = [];
      const worker = startChunkWorker({
        redis,
        prefix,
        process: createChunkProcessor({
          redis,
          prefix,
          scan: (domain) => limit.run(() => scan(domain)),
          dns: built.deps.dns,
          concurrency: 50,
          clock: systemClock,
          scheduler: systemClock,
        }),
        jobs: 1,
        limit,
        lockMs: 10_000,
        chunkIntervalMs: 0,
        log: () => undefined,
      });
      worker.worker.on('active', () => events.push('active'));
      worker.worker.on('completed', () => events.push('completed'));
      try {
        await waitFor(
          async () =>
            (await redis.hlen(scanKeys(prefix, 'slow').results)) === CHUNKS,
          'every chunk stored',
          undefined,
          30_000,
        );
        // Back to one job at a time once nothing is held.
        await waitFor(
          () => worker.active() === 0 && worker.worker.concurrency === 1,
          'one job at a time again',
          undefined,
          5_000,
        );
      } finally {
        await worker.close();
      }
      // With one job at a time, each chunk would wait out its slow row (2 s)
      // before the next began: every chunk started before the first ended.
      expect(events.slice(0, CHUNKS)).toEqual(Array(CHUNKS).fill('active'));
      expect(events.filter((e) => e === 'completed')).toHaveLength(CHUNKS);

      const stored = await redis.hgetallBuffer(
        scanKeys(prefix, 'slow').results,
      );
      const rows = Object.values(stored).flatMap((b) => unpackRendered(b));
      expect(rows).toHaveLength(CHUNKS * CHUNK);
      const slow = rows.filter((r) => String(r).includes('slow'));
      expect(slow).toHaveLength(CHUNKS);
      for (const r of slow) expect(String(r)).toContain('timeout');
    } finally {
      limit.close();
      await queue.close();
      await dropPrefix(redis, prefix);
    }
  });

  it('takes no job past `jobs` while the scans have no room', async () => {
    const prefix = freshPrefix();
    const queue = openChunkQueue(redis, prefix);
    const input = dir.file('four.csv', inputCsv(40));
    const limit = { full: true };
    const gate = { open: () => undefined as void };
    const opened = new Promise<void>((resolve) => (gate.open = resolve));
    let started = 0;
    try {
      await enqueueScan({
        redis,
        queue,
        prefix,
        scanId: 'four',
        source: await openSource({ path: input }),
        inputName: 'four.csv',
        format: null,
        chunkSize: 10,
        now: Date.now,
      });
      const worker = startChunkWorker({
        redis,
        prefix,
        // Chunks that end only when the test opens the gate.
        process: async (data) => {
          started++;
          await opened;
          return { rows: (data as { count: number }).count, outcome: 'done' };
        },
        jobs: 2,
        limit,
        lockMs: 10_000,
        chunkIntervalMs: 0,
        log: () => undefined,
      });
      try {
        await waitFor(() => started === 2, 'two jobs', undefined, 5_000);
        // Many room checks later, still two.
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(started).toBe(2);
        expect(worker.worker.concurrency).toBe(2);
        // Room: the other two chunks start while the first two still run.
        limit.full = false;
        await waitFor(() => started === 4, 'four jobs', undefined, 5_000);
        gate.open();
        await waitFor(
          async () =>
            (await queue.getJobCountByTypes('waiting', 'active')) === 0,
          'queue drained',
          undefined,
          5_000,
        );
      } finally {
        gate.open();
        await worker.close();
      }
    } finally {
      await queue.close();
      await dropPrefix(redis, prefix);
    }
  });
});
