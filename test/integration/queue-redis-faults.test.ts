/**
 * Robustness, queue and infrastructure (issue #5, items 20–25): Redis gone
 * at start and mid-scan, workers killed, jobs delivered twice, enqueue run
 * again, Redis out of memory, a password in the URL. Issue #16: `collect`
 * whose output fails (a full disk, a reader that stops reading), Redis
 * restarted without persistence mid-scan, names `status` prints. The built CLI against
 * the shared test Redis (a fresh key prefix per test) or a private
 * `redis-server` on its own port, and the fake DNS server.
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openChunkQueue } from '../../src/queue/chunk-queue.js';
import { isChunkJobData } from '../../src/queue/chunk-codec.js';
import { chunkJobId } from '../../src/queue/scan-keys.js';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import {
  REDIS_URL,
  dnsFlags,
  dropPrefix,
  freshPrefix,
  inputCsv,
  runCli,
  spawnCli,
  startDns,
  tempDir,
  testRedis,
  until,
  waitExit,
} from '../integration/queue-fixture.js';
import type { SpawnedCli, TempDir } from '../integration/queue-fixture.js';
import {
  RAW_CONTROL,
  expectOneLineError,
  runCliToFile,
  smallTmpfs,
} from './helpers.js';
import { startPrivateRedis } from './redis-server.js';
import type { PrivateRedis } from './redis-server.js';

let dns: FakeDnsServer;
let shared: Redis;
let dir: TempDir;
const prefixes: string[] = [];
const servers: PrivateRedis[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dns = await startDns();
  shared = testRedis();
  dir = tempDir();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
  for (const server of servers.splice(0)) await server.stop();
  while (prefixes.length > 0)
    await dropPrefix(shared, prefixes.pop() as string);
});

afterAll(async () => {
  await dns?.close();
  await shared?.quit();
  dir?.remove();
});

/** Env of a test on the shared Redis, under a prefix of its own. */
function sharedEnv(): { EXOSCOPE_PREFIX: string; REDIS_URL: string } {
  const p = freshPrefix();
  prefixes.push(p);
  return { EXOSCOPE_PREFIX: p, REDIS_URL };
}

async function privateRedis(
  config: string[] = [],
  password?: string,
): Promise<PrivateRedis> {
  const server = await startPrivateRedis(config, password);
  servers.push(server);
  return server;
}

/** A worker of the built CLI, killed after the test whatever happens. */
function worker(env: NodeJS.ProcessEnv, extra: string[] = []): SpawnedCli {
  const w = spawnCli(
    ['worker', '--jobs', '2', ...dnsFlags(dns, 1000), ...extra],
    env,
  );
  children.push(w.process);
  return w;
}

/** Stops a worker with SIGTERM; it must exit 0 after finishing its chunks. */
async function stopWorker(w: SpawnedCli): Promise<string> {
  // before `ready` it has no handler yet: SIGTERM would just end it
  await until(() => / ready: /.test(w.output.stderr), 60_000, 'worker ready');
  w.process.kill('SIGTERM');
  const exit = await waitExit(w.process, w.output, 60_000);
  expect({
    code: exit.code,
    signal: exit.signal,
    stderr: exit.stderr,
  }).toMatchObject({ code: 0 });
  return exit.stderr;
}

/**
 * `enqueue` of `rows` rows in chunks of 5, each chunk with a domain that
 * never answers (so each takes about a second); returns the scan id.
 */
async function enqueueSlow(
  env: NodeJS.ProcessEnv,
  rows: number,
  scan = 'slow',
): Promise<string> {
  const input = dir.file(`${scan}-${rows}.csv`, inputCsv(rows, 5));
  const r = await runCli(
    ['enqueue', input, '--scan', scan, '--chunk-size', '5'],
    env,
  );
  expect(r.stderr).toMatch(new RegExp(`${rows} rows in ${rows / 5} chunks`));
  expect(r.code).toBe(0);
  return input;
}

/** `collect` to a file: asserts every input row is there exactly once, in order. */
async function collectAll(
  env: NodeJS.ProcessEnv,
  scan: string,
  rows: number,
): Promise<string> {
  const out = join(dir.path, `${scan}-${freshPrefix()}.csv`);
  const r = await runCli(['collect', scan, '-o', out], env, 120_000);
  expect(r.stderr).toMatch(new RegExp(`collected scan ${scan}: ${rows} rows`));
  expect(r.code).toBe(0);
  const csv = readFileSync(out, 'utf8');
  const ids = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[0]));
  expect(ids).toEqual(Array.from({ length: rows }, (_v, i) => i));
  return csv;
}

/** No stack trace, no internal frames: what a user may read in a log. */
function expectReadable(log: string): void {
  expect(log).not.toMatch(/\n\s+at |node:internal|unexpected error/);
}

describe('queue and infrastructure', { timeout: 240_000 }, () => {
  it('#20 Redis down at start: enqueue fails in seconds with one line and queues nothing', async () => {
    const server = await privateRedis();
    await server.kill();
    const input = dir.file('down.csv', inputCsv(50));
    const started = Date.now();
    const r = await runCli(
      ['enqueue', input, '--redis', server.url],
      {},
      30_000,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expectOneLineError(
      r,
      1,
      new RegExp(
        `^exoscope: cannot reach Redis at redis://127\\.0\\.0\\.1:${server.port}: .*ECONNREFUSED`,
      ),
    );
    expect(r.stdout).toBe('');
    await server.restart();
    expect(await server.client().dbsize()).toBe(0);
  });

  it('#20 Redis down mid-scan: the worker reconnects and the scan finishes, every row once', async () => {
    const server = await privateRedis();
    const env = { REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' };
    const rows = 60;
    await enqueueSlow(env, rows);
    const w = worker(env);
    const redis = server.client();
    await until(
      async () => (await redis.hlen('exo:scan:slow:results')) >= 2,
      60_000,
      'two chunks done',
    );
    await server.kill();
    await until(
      () => /ECONNREFUSED|Connection is closed/.test(w.output.stderr),
      30_000,
      'the worker to notice',
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.restart();

    await collectAll(env, 'slow', rows);
    expect(w.process.exitCode).toBeNull(); // still running: no crash
    const log = await stopWorker(w);
    expectReadable(log);
    expect(log).toMatch(/Redis: .*ECONNREFUSED/);
    expect(log).toMatch(/Redis: connection back/);
  });

  it('#21 a worker killed with -9 mid-job and another stopped with SIGTERM: every row once', async () => {
    const env = { ...sharedEnv(), EXOSCOPE_LOCK_MS: '1500' };
    const rows = 40;
    await enqueueSlow(env, rows);
    const queue = openChunkQueue(shared, env.EXOSCOPE_PREFIX);
    try {
      const active = (n: number) => async () =>
        (await queue.getActiveCount()) >= n;
      const victim = worker(env);
      await until(active(1), 60_000, 'an active chunk');
      victim.process.kill('SIGKILL');
      expect((await waitExit(victim.process, victim.output)).signal).toBe(
        'SIGKILL',
      );
      const stopped = worker(env);
      await until(
        () => /stalled/.test(stopped.output.stderr),
        60_000,
        'the killed worker’s chunk back in the queue',
      );
      await until(active(1), 60_000, 'an active chunk');
      expect(await stopWorker(stopped)).toMatch(/SIGTERM: finishing/);
      const rescuer = worker(env);
      await collectAll(env, 'slow', rows);
      expectReadable(await stopWorker(rescuer));
    } finally {
      await queue.close();
    }
  });

  it('#22 every chunk job delivered twice: no duplicate rows, the second run scans nothing', async () => {
    const env = sharedEnv();
    const prefix = env.EXOSCOPE_PREFIX;
    const input = dir.file('twice.csv', inputCsv(120));
    expect(
      (
        await runCli(
          ['enqueue', input, '--scan', 'twice', '--chunk-size', '20'],
          env,
        )
      ).code,
    ).toBe(0);
    const queue = openChunkQueue(shared, prefix);
    try {
      const jobs = (await queue.getJobs(['waiting']))
        .map((j) => j.data)
        .filter(isChunkJobData);
      expect(jobs).toHaveLength(6);
      const first = worker(env);
      const csv = await collectAll(env, 'twice', 120);
      expect(await stopWorker(first)).toMatch(/stopped: 6 chunks \(120 rows\)/);

      // every job again, under its own id: BullMQ delivers it a second time
      for (const data of jobs) {
        await queue.add('chunk', data, {
          jobId: chunkJobId('twice', data.chunk),
        });
      }
      const second = worker(env);
      await until(
        async () =>
          (await queue.getJobCountByTypes('waiting', 'active', 'delayed')) ===
          0,
        60_000,
        'the second deliveries done',
      );
      expect(await stopWorker(second)).toMatch(/stopped: 0 chunks \(0 rows\)/);
      expect(await shared.hlen(`${prefix}:scan:twice:results`)).toBe(6);
      expect(await collectAll(env, 'twice', 120)).toBe(csv);
    } finally {
      await queue.close();
    }
  });

  it('#23 enqueue run again on the same scan adds nothing, before and after it ran', async () => {
    const env = sharedEnv();
    const queue = openChunkQueue(shared, env.EXOSCOPE_PREFIX);
    const input = dir.file('again.csv', inputCsv(100));
    const enqueue = () =>
      runCli(['enqueue', input, '--scan', 'again', '--chunk-size', '20'], env);
    try {
      expect((await enqueue()).stderr).toMatch(
        /100 rows in 5 chunks, 5 added to the queue\n$/,
      );
      const counts = await queue.getJobCounts();
      const second = await enqueue();
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(
        /5 chunks, 0 added to the queue \(scan existed: 0 chunks already done, 5 already had a job\)/,
      );
      expect(await queue.getJobCounts()).toEqual(counts);

      const w = worker(env);
      const csv = await collectAll(env, 'again', 100);
      await stopWorker(w);
      const third = await enqueue();
      expect(third.stderr).toMatch(
        /0 added to the queue \(scan existed: 5 chunks already done\)/,
      );
      expect(
        await queue.getJobCountByTypes('waiting', 'active', 'delayed'),
      ).toBe(0);
      expect(await collectAll(env, 'again', 100)).toBe(csv);
    } finally {
      await queue.close();
    }
  });

  it('#24 Redis at maxmemory: enqueue says OOM and what to do; a worker that cannot store keeps running', async () => {
    const server = await privateRedis([
      '--maxmemory',
      '2mb',
      '--maxmemory-policy',
      'noeviction',
    ]);
    const env = { REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' };
    const big = dir.file('big.csv', inputCsv(100_000));
    const r = await runCli(['enqueue', big, '--scan', 'big'], env);
    expectOneLineError(
      r,
      1,
      /^exoscope: Redis is out of memory \(OOM.*maxmemory.*collect/,
    );
    expect(r.stderr).toMatch(/--scan big/); // how to resume
    expect(r.stdout).toBe('');

    // a worker whose results no longer fit: it logs, retries, stays up
    const redis = server.client();
    await redis.flushall(); // the partly queued scan
    await enqueueSlow(env, 40);
    const w = worker({ ...env, EXOSCOPE_LOCK_MS: '1500' });
    await until(
      async () => (await redis.hlen('exo:scan:slow:results')) >= 1,
      60_000,
      'a chunk stored',
    );
    await redis.config('SET', 'maxmemory', '1');
    await until(
      () => /out of memory/.test(w.output.stderr),
      60_000,
      'the worker to hit OOM',
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(w.process.exitCode).toBeNull();
    expectReadable(w.output.stderr);
    expect(w.output.stderr).toMatch(/raise Redis's maxmemory/);
    await redis.config('SET', 'maxmemory', '0'); // room again: the retries store
    await collectAll(env, 'slow', 40);
    await stopWorker(w);
  });

  it('#24 an eviction policy other than noeviction: a loud warning at start of enqueue, worker and collect', async () => {
    const server = await privateRedis(['--maxmemory-policy', 'allkeys-lru']);
    const env = { REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' };
    const warning =
      /WARNING: Redis maxmemory-policy is 'allkeys-lru', not 'noeviction'/;
    const input = dir.file('lru.csv', inputCsv(10));
    const enq = await runCli(['enqueue', input, '--scan', 'lru'], env);
    expect(enq.code).toBe(0);
    expect(enq.stderr).toMatch(warning);
    const w = worker(env);
    const col = await runCli(
      ['collect', 'lru', '-o', join(dir.path, 'lru.out.csv')],
      env,
      60_000,
    );
    expect(col.code).toBe(0);
    expect(col.stderr).toMatch(warning);
    expect(await stopWorker(w)).toMatch(warning);
  });

  it('#25 the Redis password never appears in logs, errors or status output', async () => {
    const secret = 'Pa55-w0rd-Sekrit';
    const server = await privateRedis([], secret);
    const wrong = server.url.replace(secret, `${secret}-wrong`);
    const input = dir.file('secret.csv', inputCsv(20));
    const outputs: string[] = [];
    const run = async (args: string[], url: string, code: number) => {
      const r = await runCli(
        [...args, '--redis', url],
        { EXOSCOPE_PREFIX: 'exo' },
        60_000,
      );
      outputs.push(r.stdout + r.stderr);
      expect({ args, code: r.code }).toEqual({ args, code });
      return r;
    };
    await run(['enqueue', input, '--scan', 's'], server.url, 0);
    await run(['status', 's'], server.url, 0);
    await run(['status', 's', '--json'], server.url, 0);
    for (const args of [
      ['enqueue', input],
      ['status', 's'],
      ['collect', 's', '--no-wait'],
      ['worker', ...dnsFlags(dns)],
    ]) {
      const r = await run(args, wrong, 1);
      expect(r.stderr).toMatch(/WRONGPASS/);
      expect(r.stderr).toMatch(/redis:\/\/:\*\*\*@127\.0\.0\.1/);
    }
    // a worker that loses its Redis logs its reconnects, password-free (the
    // scan is collected first: whether a restart mid-chunk is survived is
    // #20's, and its recovery can take a lock period)
    const w = worker({ REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' });
    await until(
      () => /ready: redis:\/\/:\*\*\*@/.test(w.output.stderr),
      60_000,
      'the worker ready',
    );
    await run(
      ['collect', 's', '-o', join(dir.path, 'secret.out.csv')],
      server.url,
      0,
    );
    await server.kill();
    await until(
      () => /ECONNREFUSED/.test(w.output.stderr),
      30_000,
      'the worker to notice',
    );
    await server.restart();
    await until(
      () => /connection back/.test(w.output.stderr),
      30_000,
      'the worker to reconnect',
    );
    outputs.push(await stopWorker(w));
    for (const text of outputs) expect(text).not.toContain(secret);
  });
});

/** A scan of `rows` rows, enqueued and fully scanned by a worker. */
async function finishedScan(
  env: NodeJS.ProcessEnv,
  scan: string,
  rows: number,
): Promise<void> {
  const input = dir.file(`${scan}.csv`, inputCsv(rows));
  const r = await runCli(['enqueue', input, '--scan', scan], env);
  expect(r.code).toBe(0);
  const w = spawnCli(['worker', ...dnsFlags(dns)], env);
  children.push(w.process);
  const status = async (): Promise<boolean> =>
    /rows: +[\d,]+ \/ [\d,]+ done \(100\.0 %\)/.test(
      (await runCli(['status', scan], env)).stdout,
    );
  await until(status, 120_000, 'the scan to finish');
  w.process.kill('SIGTERM');
  await waitExit(w.process, w.output);
}

/** The one line a lost scan must give, whichever command notices. */
const KEYS_GONE =
  /^exoscope: scan lost: its keys disappeared from Redis \(Redis restarted without persistence, or they were deleted\); re-run `exoscope enqueue` on the same input with --scan lost, or run Redis with appendonly yes$/m;

describe(
  'robustness: collect output and Redis loss (issue #16)',
  { timeout: 240_000 },
  () => {
    describe('#16.1 collect to an output that fails', () => {
      let env: NodeJS.ProcessEnv;
      const keep = ['--keep', '600'];
      // one scan for the three (not in `prefixes`: kept until the last)
      beforeAll(async () => {
        env = { EXOSCOPE_PREFIX: freshPrefix(), REDIS_URL };
        await finishedScan(env, 'full', 2000);
      }, 240_000);
      afterAll(() => dropPrefix(shared, env.EXOSCOPE_PREFIX as string));

      it('stdout or -o on /dev/full: one line naming the error, exit 1', async () => {
        const toStdout = await runCliToFile(
          ['collect', 'full', ...keep],
          '/dev/full',
          { env },
        );
        expectOneLineError(
          toStdout,
          1,
          /^exoscope: cannot write stdout: ENOSPC: no space left on device$/m,
        );
        const toDevice = await runCli(
          ['collect', 'full', '-o', '/dev/full', ...keep],
          env,
        );
        expectOneLineError(toDevice, 1, /cannot write \/dev\/full: ENOSPC/);
      });

      it('-o on a full file system: one line, exit 1, no temporary file left', async () => {
        const fs = smallTmpfs();
        if (fs === null) return; // not root: /dev/full is the proof
        try {
          const out = join(fs.dir, 'full.csv');
          const r = await runCli(['collect', 'full', '-o', out, ...keep], env);
          expectOneLineError(
            r,
            1,
            /full\.csv: ENOSPC: no space left on device/,
          );
          expect(readdirSync(fs.dir)).toEqual([]);
        } finally {
          fs.remove();
        }
      });

      it('a FIFO whose reader stops reading: SIGINT and SIGTERM still end the run at once', async () => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) {
          const fifo = join(dir.path, `stuck-${signal}`);
          execFileSync('mkfifo', [fifo]);
          const c = spawnCli(['collect', 'full', '-o', fifo, ...keep], env);
          children.push(c.process);
          const reader = await open(fifo, 'r');
          try {
            await until(
              () => pipeFull(c.process.pid as number),
              60_000,
              'the pipe to fill up',
            );
            c.process.kill(signal);
            const r = await waitExit(c.process, c.output, 30_000);
            // the interruption, then how to resume (issue 19): no trace
            expect(r.code).toBe(130);
            expect(r.stderr.trim().split('\n')).toEqual([
              expect.stringMatching(/interrupted; nothing written/),
              expect.stringMatching(/to resume: run `exoscope collect full`/),
            ]);
          } finally {
            await reader.close();
          }
        }
      });
    });

    it('#16.3 scan --redis and collect when Redis restarts without persistence: one line saying the keys are gone and what to do, exit 1', async () => {
      // Not the default of startPrivateRedis: no append-only file, so a
      // restart comes back empty.
      const server = await startPrivateRedis(['--appendonly', 'no']);
      servers.push(server);
      const env = { EXOSCOPE_PREFIX: 'exo' };
      const redis = server.client();
      const input = dir.file('lost.csv', inputCsv(200, 5));
      const chunksDone = async (): Promise<boolean> =>
        (await redis.hlen('exo:scan:lost:results')) >= 2;

      const scan = spawnCli(
        [
          'scan',
          input,
          '--redis',
          server.url,
          '--scan',
          'lost',
          '--chunk-size',
          '5',
          ...dnsFlags(dns, 1000),
        ],
        env,
      );
      children.push(scan.process);
      await until(chunksDone, 60_000, 'two chunks done');
      await server.kill();
      await server.restart();
      const r = await waitExit(scan.process, scan.output, 30_000);
      expectOneLineError(r, 1, KEYS_GONE);

      // collect, with a worker of its own, the same way
      const enq = await runCli(
        ['enqueue', input, '--scan', 'lost', '--chunk-size', '5'],
        { ...env, REDIS_URL: server.url },
      );
      expect(enq.code).toBe(0);
      const w = spawnCli(['worker', ...dnsFlags(dns, 1000)], {
        ...env,
        REDIS_URL: server.url,
      });
      children.push(w.process);
      const c = spawnCli(
        ['collect', 'lost', '-o', join(dir.path, 'lost.out')],
        {
          ...env,
          REDIS_URL: server.url,
        },
      );
      children.push(c.process);
      await until(chunksDone, 60_000, 'two chunks done');
      await server.kill();
      await server.restart();
      const collected = await waitExit(c.process, c.output, 60_000);
      expectOneLineError(collected, 1, KEYS_GONE);
      expect(existsSync(join(dir.path, 'lost.out'))).toBe(false);
      expect(readdirSync(dir.path).filter((n) => n.endsWith('.tmp'))).toEqual(
        [],
      );
    });

    it('#16.10 status prints a hostile input file name escaped', async () => {
      const env = sharedEnv();
      const input = dir.file('evil\x1b]0;owned\x07\x1b[2J.csv', inputCsv(3));
      const r = await runCli(['enqueue', input, '--scan', 'names'], env);
      expect(r.code).toBe(0);
      const status = await runCli(['status', 'names'], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('evil\\x1b]0;owned\\x07\\x1b[2J.csv');
      expect(status.stdout).not.toMatch(RAW_CONTROL);
    });
  },
);

/**
 * Whether process `pid` has written nearly a pipe's capacity (64 KiB on
 * Linux) in all: its output pipe, never read, is then full (a write that
 * does not fit whole stops a little short).
 */
function pipeFull(pid: number): boolean {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/^wchar: (\d+)$/m.exec(io)?.[1] ?? 0) >= 60_000;
  } catch {
    return false;
  }
}
