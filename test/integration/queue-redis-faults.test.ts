/**
 * Redis and workers failing under the distributed commands: Redis gone at
 * start and mid-scan, workers killed, jobs delivered twice, enqueue run
 * again, Redis out of memory, a password in the URL, `collect` whose output
 * fails (a full disk, a reader that stops reading), Redis restarted without
 * persistence mid-scan, names `status` prints. The built CLI against the
 * shared test Redis (a fresh key prefix per test) or a private
 * `redis-server` on an ephemeral port, and the fake DNS server.
 */
import { execFileSync } from 'node:child_process';

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChunkQueue } from '../../src/queue/chunk-queue.js';
import { isChunkJobData } from '../../src/queue/chunk-codec.js';
import { chunkJobId } from '../../src/queue/scan-keys.js';

import { startCli, runCli, runCliToFile, waitFor } from '../helpers/cli.js';
import type { LiveCli } from '../helpers/cli.js';
import { smallTmpfs } from '../helpers/temp-dir.js';

import {
  RAW_CONTROL,
  expectOneLineError,
  tempFiles,
} from '../helpers/output-checks.js';
import { dnsArgs } from '../helpers/fake-dns.js';
import {
  REDIS_URL,
  freshPrefix,
  dropPrefix,
  inputCsv,
  QUEUE_DNS_TIMEOUT_MS,
  useQueueWorld,
} from '../helpers/queue-world.js';

const world = useQueueWorld();

/** A worker of the built CLI, killed after the test whatever happens. */
function worker(env: NodeJS.ProcessEnv, extra: string[] = []): LiveCli {
  const w = startCli(
    ['worker', '--jobs', '2', ...dnsArgs(world.dns, 1000), ...extra],
    { env, stdin: '' },
  );
  world.track(w);
  return w;
}

/** Stops a worker with SIGTERM; it must exit 0 after finishing its chunks. */
async function stopWorker(w: LiveCli): Promise<string> {
  // before `ready` it has no handler yet: SIGTERM would just end it
  await waitFor(
    () => / ready: /.test(w.stderr()),
    'worker ready',
    undefined,
    60_000,
  );
  w.child.kill('SIGTERM');
  const exit = await w.done;
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
  const input = world.dir.file(`${scan}-${rows}.csv`, inputCsv(rows, 5));
  const r = await runCli(
    ['enqueue', input, '--scan', scan, '--chunk-size', '5'],
    { env },
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
  const out = join(world.dir.path, `${scan}-${freshPrefix()}.csv`);
  const r = await runCli(['collect', scan, '-o', out], {
    env,
    timeoutMs: 120_000,
  });
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

describe('Redis and workers failing', { timeout: 240_000 }, () => {
  it('Redis down at start: enqueue fails in seconds with one line, the password not printed, and queues nothing', async () => {
    // the other commands, Redis unreachable: queue-faults
    const secret = 'Pa55-w0rd-Sekrit';
    const server = await world.privateRedis([], secret);
    await server.kill();
    const input = world.dir.file('down.csv', inputCsv(50));
    const started = Date.now();
    const r = await runCli(['enqueue', input], {
      env: { REDIS_URL: server.url },
      timeoutMs: 30_000,
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expectOneLineError(
      r,
      1,
      new RegExp(
        `^exoscope: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}: .*ECONNREFUSED`,
      ),
    );
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(secret);
    await server.restart();
    expect(await server.client().dbsize()).toBe(0);
  });

  it('Redis down mid-scan: the worker reconnects and the scan finishes, every row once, its log password-free', async () => {
    const secret = 'Pa55-w0rd-Sekrit';
    const server = await world.privateRedis([], secret);
    const env = { REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' };
    const rows = 60;
    await enqueueSlow(env, rows);
    const w = worker(env);
    const redis = server.client();
    await waitFor(
      async () => (await redis.hlen('exo:scan:slow:results')) >= 2,
      'two chunks done',
      undefined,
      60_000,
    );
    await server.kill();
    await waitFor(
      () => /ECONNREFUSED|Connection is closed/.test(w.stderr()),
      'the worker to notice',
      undefined,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.restart();

    await collectAll(env, 'slow', rows);
    expect(w.child.exitCode).toBeNull(); // still running: no crash
    const log = await stopWorker(w);
    expectReadable(log);
    expect(log).toMatch(/Redis: .*ECONNREFUSED/);
    expect(log).toMatch(/Redis: connection back/);
    expect(log).toMatch(/ready: redis:\/\/:\*\*\*@/);
    expect(log).not.toContain(secret);
  });

  it('kill -9 of a worker mid-job, another stopped with SIGTERM: the chunks come back, every row written once, as an in-process scan writes it', async () => {
    const env = { ...world.env(), EXOSCOPE_LOCK_MS: '1500' };
    const rows = 40;
    const input = await enqueueSlow(env, rows); // 8 chunks, ~1 s each
    const results = `${env.EXOSCOPE_PREFIX}:scan:slow:results`;
    const queue = openChunkQueue(world.redis, env.EXOSCOPE_PREFIX);
    try {
      const active = (n: number) => async () =>
        (await queue.getActiveCount()) >= n;
      const victim = worker(env);
      await waitFor(active(1), 'an active chunk', undefined, 60_000);
      victim.child.kill('SIGKILL');
      expect((await victim.done).signal).toBe('SIGKILL');
      expect(await world.redis.hlen(results)).toBeLessThan(rows / 5);
      expect(await queue.getActiveCount()).toBeGreaterThan(0); // held by a dead worker
      const stopped = worker(env);
      await waitFor(
        () => /stalled/.test(stopped.stderr()),
        'the killed worker’s chunk back in the queue',
        undefined,
        60_000,
      );
      await waitFor(active(1), 'an active chunk', undefined, 60_000);
      expect(await stopWorker(stopped)).toMatch(/SIGTERM: finishing/);
      const rescuer = worker(env);
      const csv = await collectAll(env, 'slow', rows);
      expectReadable(await stopWorker(rescuer));
      const ref = join(world.dir.path, 'after-kill-ref.csv');
      const scan = await runCli([
        'scan',
        input,
        '-o',
        ref,
        '--quiet',
        ...dnsArgs(world.dns, 1000),
      ]);
      expect(scan.code).toBe(0);
      expect(csv).toBe(readFileSync(ref, 'utf8'));
    } finally {
      await queue.close();
    }
  });

  it('enqueue run again adds nothing, before and after the scan ran; every chunk job delivered twice: no duplicate rows, the second run scans nothing', async () => {
    const env = world.env();
    const prefix = env.EXOSCOPE_PREFIX;
    const queue = openChunkQueue(world.redis, prefix);
    const input = world.dir.file('again.csv', inputCsv(100));
    const enqueue = () =>
      runCli(['enqueue', input, '--scan', 'again', '--chunk-size', '20'], {
        env,
      });
    try {
      expect((await enqueue()).stderr).toMatch(
        /100 rows in 5 chunks, 5 added to the queue\n$/,
      );
      const jobs = (await queue.getJobs(['waiting']))
        .map((j) => j.data)
        .filter(isChunkJobData);
      expect(jobs).toHaveLength(5);
      const counts = await queue.getJobCounts();
      const second = await enqueue();
      expect(second.code).toBe(0);
      expect(second.stderr).toMatch(
        /5 chunks, 0 added to the queue \(scan existed: 0 chunks already done, 5 already had a job\)/,
      );
      expect(await queue.getJobCounts()).toEqual(counts);

      const first = worker(env);
      const csv = await collectAll(env, 'again', 100);
      expect(await stopWorker(first)).toMatch(/stopped: 5 chunks \(100 rows\)/);
      const third = await enqueue();
      expect(third.stderr).toMatch(
        /0 added to the queue \(scan existed: 5 chunks already done\)/,
      );
      expect(
        await queue.getJobCountByTypes('waiting', 'active', 'delayed'),
      ).toBe(0);

      // every job again, under its own id: BullMQ delivers it a second time
      for (const data of jobs) {
        await queue.add('chunk', data, {
          jobId: chunkJobId('again', data.chunk),
        });
      }
      const again = worker(env);
      await waitFor(
        async () =>
          (await queue.getJobCountByTypes('waiting', 'active', 'delayed')) ===
          0,
        'the second deliveries done',
        undefined,
        60_000,
      );
      expect(await stopWorker(again)).toMatch(/stopped: 0 chunks \(0 rows\)/);
      expect(await world.redis.hlen(`${prefix}:scan:again:results`)).toBe(5);
      expect(await collectAll(env, 'again', 100)).toBe(csv);
    } finally {
      await queue.close();
    }
  });

  it('Redis at maxmemory: enqueue says OOM and what to do; a worker that cannot store keeps running', async () => {
    const server = await world.privateRedis([
      '--maxmemory',
      '2mb',
      '--maxmemory-policy',
      'noeviction',
    ]);
    const env = { REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' };
    const big = world.dir.file('big.csv', inputCsv(100_000));
    const r = await runCli(['enqueue', big, '--scan', 'big'], { env });
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
    await waitFor(
      async () => (await redis.hlen('exo:scan:slow:results')) >= 1,
      'a chunk stored',
      undefined,
      60_000,
    );
    await redis.config('SET', 'maxmemory', '1');
    await waitFor(
      () => /out of memory/.test(w.stderr()),
      'the worker to hit OOM',
      undefined,
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(w.child.exitCode).toBeNull();
    expectReadable(w.stderr());
    expect(w.stderr()).toMatch(/raise Redis's maxmemory/);
    await redis.config('SET', 'maxmemory', '0'); // room again: the retries store
    await collectAll(env, 'slow', 40);
    await stopWorker(w);
  });

  it('an eviction policy other than noeviction: a loud warning at start of enqueue, worker and collect', async () => {
    const server = await world.privateRedis([
      '--maxmemory-policy',
      'allkeys-lru',
    ]);
    const env = { REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' };
    const warning =
      /WARNING: Redis maxmemory-policy is 'allkeys-lru', not 'noeviction'/;
    const input = world.dir.file('lru.csv', inputCsv(10));
    const enq = await runCli(['enqueue', input, '--scan', 'lru'], { env });
    expect(enq.code).toBe(0);
    expect(enq.stderr).toMatch(warning);
    const w = worker(env);
    const col = await runCli(
      ['collect', 'lru', '-o', join(world.dir.path, 'lru.out.csv')],
      { env, timeoutMs: 60_000 },
    );
    expect(col.code).toBe(0);
    expect(col.stderr).toMatch(warning);
    expect(await stopWorker(w)).toMatch(warning);
  });

  it('the Redis password never appears in logs, errors or status output', async () => {
    const secret = 'Pa55-w0rd-Sekrit';
    const server = await world.privateRedis([], secret);
    const wrong = server.url.replace(secret, `${secret}-wrong`);
    const input = world.dir.file('secret.csv', inputCsv(20));
    const outputs: string[] = [];
    const run = async (args: string[], url: string, code: number) => {
      const r = await runCli([...args, '--redis', url], {
        env: { EXOSCOPE_PREFIX: 'exo' },
        timeoutMs: 60_000,
      });
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
      ['status', 's', '--json'],
      ['collect', 's', '--no-wait'],
      ['worker', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)],
      ['scan', input, '--quiet', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)],
    ]) {
      // through --redis; queue-faults gives a URL with a password to each
      // command through REDIS_URL
      const r = await run(args, wrong, 1);
      expect(r.stderr).toMatch(/WRONGPASS/);
      expect(r.stderr).toMatch(/redis:\/\/:\*\*\*@127\.0\.0\.1/);
    }
    // a worker and collect that succeed (a worker that loses its Redis logs
    // its reconnects password-free: the mid-scan Redis restart test)
    const w = worker({ REDIS_URL: server.url, EXOSCOPE_PREFIX: 'exo' });
    await waitFor(
      () => /ready: redis:\/\/:\*\*\*@/.test(w.stderr()),
      'the worker ready',
      undefined,
      60_000,
    );
    await run(
      ['collect', 's', '-o', join(world.dir.path, 'secret.out.csv')],
      server.url,
      0,
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
  const input = world.dir.file(`${scan}.csv`, inputCsv(rows));
  const r = await runCli(['enqueue', input, '--scan', scan], { env });
  expect(r.code).toBe(0);
  const chunks = Number(/ rows in (\d+) chunks/.exec(r.stderr)?.[1]);
  expect(chunks).toBeGreaterThan(0);
  const w = startCli(['worker', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)], {
    env,
    stdin: '',
  });
  world.track(w);
  // every chunk's result stored, read from Redis: polling `status` would
  // start a process each time
  const results = `${env.EXOSCOPE_PREFIX as string}:scan:${scan}:results`;
  await waitFor(
    async () => (await world.redis.hlen(results)) === chunks,
    'the scan to finish',
    w,
    120_000,
  );
  w.child.kill('SIGTERM');
  await w.done;
}

/** The one line a lost scan must give, whichever command notices. */
const KEYS_GONE =
  /^exoscope: scan lost: its keys disappeared from Redis \(Redis restarted without persistence, or they were deleted\); re-run `exoscope enqueue` on the same input with --scan lost, or run Redis with appendonly yes$/m;

describe('collect output and Redis loss', { timeout: 240_000 }, () => {
  describe('collect to an output that fails', () => {
    let env: NodeJS.ProcessEnv;
    const keep = ['--keep', '600'];
    // one scan for the three (not in `prefixes`: kept until the last)
    beforeAll(async () => {
      env = { EXOSCOPE_PREFIX: freshPrefix(), REDIS_URL };
      await finishedScan(env, 'full', 2000);
    }, 240_000);
    afterAll(() => dropPrefix(world.redis, env.EXOSCOPE_PREFIX as string));

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
        { env },
      );
      expectOneLineError(toDevice, 1, /cannot write \/dev\/full: ENOSPC/);
    });

    it('-o on a full file system: one line, exit 1, no temporary file left', async () => {
      const fs = smallTmpfs();
      if (fs === null) return; // not root: /dev/full is the proof
      try {
        const out = join(fs.path, 'full.csv');
        const r = await runCli(['collect', 'full', '-o', out, ...keep], {
          env,
        });
        expectOneLineError(r, 1, /full\.csv: ENOSPC: no space left on device/);
        expect(readdirSync(fs.path)).toEqual([]);
      } finally {
        fs.remove();
      }
    });

    it('a FIFO whose reader stops reading: SIGINT and SIGTERM still end the run at once', async () => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const fifo = join(world.dir.path, `stuck-${signal}`);
        execFileSync('mkfifo', [fifo]);
        const c = startCli(['collect', 'full', '-o', fifo, ...keep], {
          env,
          stdin: '',
        });
        world.track(c);
        const reader = await open(fifo, 'r');
        try {
          await waitFor(
            () => pipeFull(c.child.pid as number),
            'the pipe to fill up',
            undefined,
            60_000,
          );
          c.child.kill(signal);
          const r = await c.done;
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

  it('scan --redis and collect when Redis restarts without persistence: one line saying the keys are gone and what to do, exit 1', async () => {
    // Not the default of startPrivateRedis: no append-only file, so a
    // restart comes back empty.
    const server = await world.privateRedis(['--appendonly', 'no']);
    const env = { EXOSCOPE_PREFIX: 'exo' };
    const redis = server.client();
    const input = world.dir.file('lost.csv', inputCsv(200, 5));
    const chunksDone = async (): Promise<boolean> =>
      (await redis.hlen('exo:scan:lost:results')) >= 2;

    const scan = startCli(
      [
        'scan',
        input,
        '--redis',
        server.url,
        '--scan',
        'lost',
        '--chunk-size',
        '5',
        ...dnsArgs(world.dns, 1000),
      ],
      { env, stdin: '' },
    );
    world.track(scan);
    await waitFor(chunksDone, 'two chunks done', undefined, 60_000);
    await server.kill();
    await server.restart();
    const r = await scan.done;
    expectOneLineError(r, 1, KEYS_GONE);

    // collect, with a worker of its own, the same way
    const enq = await runCli(
      ['enqueue', input, '--scan', 'lost', '--chunk-size', '5'],
      { env: { ...env, REDIS_URL: server.url } },
    );
    expect(enq.code).toBe(0);
    const w = startCli(['worker', ...dnsArgs(world.dns, 1000)], {
      env: {
        ...env,
        REDIS_URL: server.url,
      },
      stdin: '',
    });
    world.track(w);
    const c = startCli(
      ['collect', 'lost', '-o', join(world.dir.path, 'lost.out')],
      {
        env: {
          ...env,
          REDIS_URL: server.url,
        },
        stdin: '',
      },
    );
    world.track(c);
    // collect must have found the scan (it then writes its temporary file)
    // before Redis loses it: else it rightly says there is no such scan
    await waitFor(
      async () => (await chunksDone()) && tempFiles(world.dir.path).length > 0,
      'two chunks done and collect writing',
      c,
      60_000,
    );
    await server.kill();
    await server.restart();
    const collected = await c.done;
    expectOneLineError(collected, 1, KEYS_GONE);
    expect(existsSync(join(world.dir.path, 'lost.out'))).toBe(false);
    // the worker held chunk jobs whose keys vanished: it says so once, not
    // once a job and BullMQ command
    await waitFor(
      () => /Missing (key|lock) for job/.test(w.stderr()),
      'the worker noticing the lost job keys',
      w,
      60_000,
    );
    w.child.kill('SIGTERM');
    await w.done;
    expect(
      w.stderr().match(/Missing (key|lock) for job/g),
      w.stderr(),
    ).toHaveLength(1);
    expect(w.stderr()).toContain('gone from Redis');
    expect(
      readdirSync(world.dir.path).filter((n) => n.endsWith('.tmp')),
    ).toEqual([]);
  });

  it('status prints a hostile input file name escaped', async () => {
    const env = world.env();
    const input = world.dir.file(
      'evil\x1b]0;owned\x07\x1b[2J.csv',
      inputCsv(3),
    );
    const r = await runCli(['enqueue', input, '--scan', 'names'], { env });
    expect(r.code).toBe(0);
    const status = await runCli(['status', 'names'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('evil\\x1b]0;owned\\x07\\x1b[2J.csv');
    expect(status.stdout).not.toMatch(RAW_CONTROL);
  });
});

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
