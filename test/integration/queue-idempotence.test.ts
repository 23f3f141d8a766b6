/**
 * At-least-once delivery gives exactly-once rows: a chunk processed twice,
 * a job re-added after completion, `enqueue` run again — none of them adds
 * or changes a row. Real Redis, fake DNS, the queue layer driven directly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from 'vitest';
import { openSource } from '../../src/adapters/csv-source.js';
import { openSink } from '../../src/adapters/output-sink.js';
import type { BuiltDeps } from '../../src/run/deps.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { domainScanner } from '../../src/core/report.js';
import { collectScan } from '../../src/queue/aggregator.js';
import { isChunkJobData } from '../../src/queue/chunk-codec.js';
import type { ChunkJobData } from '../../src/queue/chunk-codec.js';
import { createChunkProcessor } from '../../src/queue/chunk-processor.js';
import type { ChunkProcessor } from '../../src/queue/chunk-processor.js';
import { openChunkQueue } from '../../src/queue/chunk-queue.js';
import type { ChunkQueue } from '../../src/queue/chunk-queue.js';
import { startChunkWorker } from '../../src/queue/chunk-worker.js';
import { enqueueScan } from '../../src/queue/producer.js';
import type { EnqueueResult } from '../../src/queue/producer.js';
import { QueueError } from '../../src/queue/queue-error.js';
import { chunkJobId, scanKeys } from '../../src/queue/scan-keys.js';
import { startBlackHole } from '../helpers/dns-server.js';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import { waitFor } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { TempDir } from '../helpers/temp-dir.js';
import {
  freshPrefix,
  testRedis,
  dropPrefix,
  keysUnder,
  startDns,
  offlineDeps,
  inputCsv,
} from '../helpers/queue-world.js';

let dns: FakeDnsServer;
let built: BuiltDeps;
let redis: Redis;
let dir: TempDir;
let input: string;
let prefix: string;
let queue: ChunkQueue;
let process_: ChunkProcessor;

const ROWS = 350;
const CHUNK = 40;
const CHUNKS = Math.ceil(ROWS / CHUNK);

beforeAll(async () => {
  dns = await startDns();
  built = await offlineDeps(dns.address, 800, 0);
  redis = testRedis();
  dir = tempDir();
  input = dir.file('input.csv', inputCsv(ROWS));
});

beforeEach(() => {
  prefix = freshPrefix();
  queue = openChunkQueue(redis, prefix);
  process_ = processor(built);
});

afterEach(async () => {
  await queue.close();
  await dropPrefix(redis, prefix);
});

afterAll(async () => {
  built?.close();
  await dns?.close();
  await redis?.quit();
  dir?.remove();
});

function processor(deps: BuiltDeps): ChunkProcessor {
  return createChunkProcessor({
    redis,
    prefix,
    scan: domainScanner(deps.deps),
    dns: deps.deps.dns,
    concurrency: 50,
    clock: systemClock,
    scheduler: systemClock,
  });
}

async function enqueue(
  scanId: string,
  path = input,
  chunkSize: number | null = CHUNK,
): Promise<EnqueueResult> {
  const source = await openSource({ path });
  return enqueueScan({
    redis,
    queue,
    prefix,
    scanId,
    source,
    inputName: 'input.csv',
    format: null,
    chunkSize,
    now: Date.now,
  });
}

async function waitingJobs(): Promise<ChunkJobData[]> {
  const jobs = await queue.getJobs(['waiting']);
  return jobs.map((j) => j.data).filter(isChunkJobData);
}

/** Collects a scan to a file and returns its text. */
async function collect(scanId: string, name: string): Promise<string> {
  const path = join(dir.path, name);
  await collectScan({
    redis,
    queue,
    prefix,
    scanId,
    openSink: (meta) =>
      openSink({
        path,
        format: meta.format,
        inputHeader: meta.header,
        force: true,
      }),
    wait: false,
    keepSeconds: 60,
    now: Date.now,
  });
  return readFileSync(path, 'utf8');
}

/** The `id` column of a collected CSV: the input rows, in order, once each. */
function ids(csv: string): number[] {
  return csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[0]));
}

const inOrder = Array.from({ length: ROWS }, (_v, i) => i);

describe('exactly one row per input row', () => {
  it('processing every job twice (one after the other, and at once) stores each chunk once', async () => {
    await enqueue('twice');
    const jobs = await waitingJobs();
    expect(jobs).toHaveLength(CHUNKS);
    const keys = scanKeys(prefix, 'twice');

    for (const data of jobs.slice(0, 5)) {
      expect((await process_(data)).outcome).toBe('stored');
      const first = await redis.hgetBuffer(keys.results, String(data.chunk));
      expect((await process_(data)).outcome).toBe('done');
      expect(await redis.hgetBuffer(keys.results, String(data.chunk))).toEqual(
        first,
      );
    }
    for (const data of jobs.slice(5)) {
      const outcomes = await Promise.all([process_(data), process_(data)]);
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(['done', 'stored']);
    }
    expect(await redis.hlen(keys.results)).toBe(CHUNKS);
    const csv = await collect('twice', 'twice.csv');
    expect(ids(csv)).toEqual(inOrder);

    // BullMQ now delivers every job once more, and one is re-added after it
    // completed and was removed: still nothing changes.
    const worker = startChunkWorker({
      redis,
      prefix,
      process: process_,
      jobs: 2,
      lockMs: 5000,
      chunkIntervalMs: 0,
      log: () => undefined,
    });
    try {
      await waitFor(
        async () => (await queue.getJobCountByTypes('waiting', 'active')) === 0,
        'queue drained',
        undefined,
        30_000,
      );
      const again = jobs[0] as ChunkJobData;
      await queue.add('chunk', again, {
        jobId: chunkJobId('twice', again.chunk),
      });
      await waitFor(
        async () => (await queue.getJobCountByTypes('waiting', 'active')) === 0,
        'queue drained',
        undefined,
        30_000,
      );
    } finally {
      await worker.close();
    }
    expect(worker.stats.chunks).toBe(0); // every delivery found its result stored
    expect(await redis.hlen(keys.results)).toBe(CHUNKS);
    expect(await collect('twice', 'twice-again.csv')).toBe(csv);
  });

  it('re-running enqueue adds nothing, before and after the scan ran', async () => {
    const first = await enqueue('again');
    expect(first).toMatchObject({
      rows: ROWS,
      chunks: CHUNKS,
      submitted: CHUNKS,
      created: true,
    });
    const counts = await queue.getJobCounts();
    const second = await enqueue('again');
    expect(second).toMatchObject({
      rows: ROWS,
      chunks: CHUNKS,
      alreadyDone: 0,
      created: false,
    });
    expect(await queue.getJobCounts()).toEqual(counts);
    expect(counts.waiting).toBe(CHUNKS);

    for (const data of await waitingJobs()) await process_(data);
    await queue.drain();
    const keys = scanKeys(prefix, 'again');
    const csv = await collect('again', 'again.csv');
    const third = await enqueue('again');
    expect(third).toMatchObject({
      submitted: 0,
      alreadyDone: CHUNKS,
      retried: 0,
    });
    expect(await queue.getJobCountByTypes('waiting', 'active', 'delayed')).toBe(
      0,
    );
    expect(await redis.hlen(keys.results)).toBe(CHUNKS);
    expect(await collect('again', 'again-2.csv')).toBe(csv);
    expect(ids(csv)).toEqual(inOrder);
  });

  it('re-running enqueue re-queues a chunk that has neither result nor job', async () => {
    await enqueue('lost');
    for (const data of await waitingJobs()) await process_(data);
    await queue.drain();
    const keys = scanKeys(prefix, 'lost');
    const csv = await collect('lost', 'lost.csv');
    await redis.hdel(keys.results, '3'); // as if Redis lost it
    expect(await enqueue('lost')).toMatchObject({
      submitted: 1,
      alreadyDone: CHUNKS - 1,
    });
    const jobs = await waitingJobs();
    expect(jobs.map((j) => j.chunk)).toEqual([3]);
    await process_(jobs[0] as ChunkJobData);
    expect(await collect('lost', 'lost-2.csv')).toBe(csv);
  });

  it('refuses another input, format or chunk size under an existing scan id', async () => {
    await enqueue('mine');
    const other = dir.file(
      'other.csv',
      inputCsv(ROWS).replace('0,contoso.test', '0,other.test'),
    );
    const longer = dir.file('longer.csv', inputCsv(ROWS + 50));
    const shorter = dir.file('shorter.csv', inputCsv(ROWS - 50));
    for (const path of [other, longer, shorter]) {
      const err = await enqueue('mine', path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueError);
      expect((err as QueueError).code).toBe('EXO_SCAN_MISMATCH');
    }
    const size = await enqueue('mine', input, 10).catch((e: unknown) => e);
    expect((size as QueueError).code).toBe('EXO_SCAN_MISMATCH');
    // nothing was added by the refused runs
    expect(await queue.getJobCountByTypes('waiting')).toBe(CHUNKS);
  });

  it('a job whose scan is gone does nothing and creates no key', async () => {
    await enqueue('gone');
    const [data] = await waitingJobs();
    await redis.del(scanKeys(prefix, 'gone').meta);
    expect((await process_(data as ChunkJobData)).outcome).toBe('obsolete');
    expect(
      (await keysUnder(redis, prefix)).filter((k) => k.includes(':scan:gone:')),
    ).toEqual([]);
  });

  it('a chunk whose every domain times out because no resolver answers throws (BullMQ retries it)', async () => {
    const hole = await startBlackHole();
    const dead = await offlineDeps(hole.address, 200, 0);
    try {
      await enqueue('outage');
      const [data] = await waitingJobs();
      await expect(processor(dead)(data as ChunkJobData)).rejects.toThrow(
        /no DNS resolver answers/,
      );
      expect(await redis.hlen(scanKeys(prefix, 'outage').results)).toBe(0);
    } finally {
      dead.close();
      await hole.close();
    }
  });
});

describe('collect while the scan runs', () => {
  it('writes each chunk as soon as it and every chunk before it are stored, in input order', async () => {
    await enqueue('stream');
    const jobs = (await waitingJobs()).sort((x, y) => x.chunk - y.chunk);
    expect(jobs).toHaveLength(CHUNKS);
    const path = join(dir.path, 'stream.csv');
    let written = 0;
    const byChunk = (n: number) =>
      jobs.find((j) => j.chunk === n) as ChunkJobData;
    for (const n of [0, 1, 3]) await process_(byChunk(n));

    const collecting = collectScan({
      redis,
      queue,
      prefix,
      scanId: 'stream',
      openSink: async (meta) => {
        const sink = await openSink({
          path,
          format: meta.format,
          inputHeader: meta.header,
          force: true,
        });
        return {
          ...sink,
          writeRendered: (row) => {
            written++;
            return sink.writeRendered(row);
          },
        };
      },
      wait: true,
      pollMs: 20,
      keepSeconds: 60,
      now: Date.now,
    });
    // Chunks 0 and 1 go out while the scan runs; 3 waits for 2.
    await waitFor(
      () => written === 2 * CHUNK,
      'chunks 0 and 1',
      undefined,
      10_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(written).toBe(2 * CHUNK);
    for (const job of jobs.filter((j) => ![0, 1, 3].includes(j.chunk))) {
      await process_(job);
    }
    const result = await collecting;
    expect(result.rows).toBe(ROWS);
    expect(written).toBe(ROWS);
    expect(ids(readFileSync(path, 'utf8'))).toEqual(inOrder);
  });
});
