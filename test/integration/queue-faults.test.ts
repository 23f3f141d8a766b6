/**
 * Fault tests of the distributed mode, with the built CLI spawned as a user
 * runs it: Redis unreachable, passwords never printed, a worker killed with
 * SIGKILL mid-scan, a worker stopped with SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openChunkQueue } from '../../src/queue/chunk-queue.js';
import { chunkInterval } from '../../src/queue/chunk-worker.js';
import { evictionWarning } from '../../src/queue/memory-policy.js';
import { redactSecrets, redactUrl } from '../../src/queue/redis-url.js';

import { startCli, runCli, waitFor } from '../helpers/cli.js';

import { dnsArgs } from '../helpers/fake-dns.js';
import {
  REDIS_URL,
  inputCsv,
  QUEUE_DNS_TIMEOUT_MS,
  useQueueWorld,
} from '../helpers/queue-world.js';

const world = useQueueWorld();

const SECRET = 's3cr3t-Pa55';

describe('Redis unreachable', () => {
  it.each([
    ['enqueue', ['enqueue', 'INPUT']],
    ['status', ['status', 'some-scan']],
    ['collect', ['collect', 'some-scan']],
    ['worker', ['worker']],
    ['scan --redis', ['scan', 'INPUT', '--quiet']],
  ])('%s: one clear line, exit 1, within seconds', async (_name, args) => {
    const input = world.dir.file('unreachable.csv', inputCsv(20));
    const argv = [
      ...args.map((a) => (a === 'INPUT' ? input : a)),
      '--redis',
      'redis://127.0.0.1:1',
    ];
    if (args[0] === 'worker' || args[0] === 'scan')
      argv.push(...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS));
    const r = await runCli(argv, { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^exoscope: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('a server that accepts but never answers: gives up after the connect deadline', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) =>
      silent.listen(0, '127.0.0.1', resolve),
    );
    const { port } = silent.address() as AddressInfo;
    try {
      const r = await runCli(
        ['status', 'x', '--redis', `redis://127.0.0.1:${port}`],
        { timeoutMs: 20_000 },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^exoscope: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: no answer within 5 s\n$/,
      );
    } finally {
      silent.close();
    }
  });

  it('REDIS_URL missing: says how to set it (a usage error: exit 2)', async () => {
    const r = await runCli(['status', 'x'], { env: { REDIS_URL: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Redis: set REDIS_URL or pass --redis/);
  });
});

describe('the Redis password is never printed', () => {
  it('redacts URLs and any text holding the password', () => {
    expect(redactUrl(`redis://user:${SECRET}@host:6379/0`)).toBe(
      'redis://user:***@host:6379/0',
    );
    expect(redactUrl(`rediss://:${SECRET}@host`)).toBe('rediss://:***@host');
    expect(redactUrl(`redis://${SECRET}@host`)).toBe('redis://***@host');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
    const url = `redis://u:${encodeURIComponent('p@ss word')}@h`;
    expect(
      redactSecrets(`failed: ${url} / p@ss word / p%40ss%20word`, url),
    ).toBe('failed: redis://u:***@h / *** / ***');
  });

  it.each([
    ['unreachable', `redis://admin:${SECRET}@127.0.0.1:1`],
    ['wrong credentials', `redis://nobody:${SECRET}@127.0.0.1:6379`],
  ])('%s: every command', async (_name, url) => {
    const input = world.dir.file('secret.csv', inputCsv(20));
    for (const args of [
      ['enqueue', input],
      ['status', 'x'],
      ['status', 'x', '--json'],
      ['collect', 'x', '--no-wait'],
      ['worker', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)],
      ['scan', input, '--quiet', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)],
    ]) {
      const runs = [
        await runCli([...args, '--redis', url], { timeoutMs: 20_000 }),
      ];
      // scan goes distributed only with --redis; the others take REDIS_URL too
      if (args[0] !== 'scan')
        runs.push(
          await runCli(args, { env: { REDIS_URL: url }, timeoutMs: 20_000 }),
        );
      for (const r of runs) {
        // one object, so that a failure shows which command and why
        expect({
          command: args[0],
          code: r.code,
          leaked: (r.stderr + r.stdout).includes(SECRET),
          stderr: r.stderr,
        }).toMatchObject({
          code: 1,
          leaked: false,
          stderr: expect.stringMatching(
            /redis:\/\/(admin|nobody):\*\*\*@127\.0\.0\.1/,
          ) as unknown,
        });
      }
    }
  });
});

/** A scan whose chunks each hold a domain that never answers: every chunk takes a while. */
async function slowScan(
  p: string,
  rows: number,
  chunkSize: number,
): Promise<string> {
  const input = world.dir.file(`slow-${p}.csv`, inputCsv(rows, chunkSize));
  const r = await runCli(
    ['enqueue', input, '--scan', 'slow', '--chunk-size', String(chunkSize)],
    {
      env: {
        EXOSCOPE_PREFIX: p,
        REDIS_URL,
      },
    },
  );
  expect(r.code).toBe(0);
  return input;
}

describe('workers stopping', () => {
  it('kill -9 of a worker mid-scan: its chunks come back, every row is written once', async () => {
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL, EXOSCOPE_LOCK_MS: '1500' };
    const rows = 60;
    const input = await slowScan(p, rows, 5); // 12 chunks, ~1 s each
    const results = `${p}:scan:slow:results`;
    const victim = startCli(
      ['worker', '--jobs', '2', ...dnsArgs(world.dns, 1000)],
      {
        env,
        stdin: '',
      },
    );
    await waitFor(
      async () => (await world.redis.hlen(results)) >= 2,
      'two chunks done',
      undefined,
      30_000,
    );
    const queue = openChunkQueue(world.redis, p);
    try {
      await waitFor(
        async () => (await queue.getActiveCount()) > 0,
        'an active chunk',
        undefined,
        30_000,
      );
      victim.child.kill('SIGKILL');
      const killed = await victim.done;
      expect(killed.signal).toBe('SIGKILL');
      const doneAtKill = await world.redis.hlen(results);
      expect(doneAtKill).toBeLessThan(12);
      expect(await queue.getActiveCount()).toBeGreaterThan(0); // held by a dead worker

      const rescuer = startCli(
        ['worker', '--jobs', '2', ...dnsArgs(world.dns, 1000)],
        { env, stdin: '' },
      );
      try {
        const out = join(world.dir.path, 'after-kill.csv');
        const col = await runCli(['collect', 'slow', '-o', out], {
          env,
          timeoutMs: 90_000,
        });
        expect(col.code).toBe(0);
        const lines = readFileSync(out, 'utf8').trim().split('\n').slice(1);
        expect(lines.map((l) => Number(l.split(',')[0]))).toEqual(
          Array.from({ length: rows }, (_v, i) => i),
        );
        expect(rescuer.stderr()).toMatch(/stalled/);
      } finally {
        rescuer.child.kill('SIGTERM');
        expect((await rescuer.done).code).toBe(0);
      }
      // the same rows as an in-process scan
      const ref = join(world.dir.path, 'after-kill-ref.csv');
      expect(
        (
          await runCli([
            'scan',
            input,
            '-o',
            ref,
            '--quiet',
            ...dnsArgs(world.dns, 1000),
          ])
        ).code,
      ).toBe(0);
      expect(readFileSync(join(world.dir.path, 'after-kill.csv'), 'utf8')).toBe(
        readFileSync(ref, 'utf8'),
      );
    } finally {
      await queue.close();
    }
  });

  it('SIGTERM: the worker finishes its active chunks, takes no more, exits 0', async () => {
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    // 120 chunks: the worker takes more than --jobs while its DNS has room
    // (each chunk waits 1 s for its slow row), never all of them.
    await slowScan(p, 600, 5);
    const queue = openChunkQueue(world.redis, p);
    try {
      const worker = startCli(
        ['worker', '--jobs', '2', ...dnsArgs(world.dns, 1000)],
        { env, stdin: '' },
      );
      await waitFor(
        async () => (await queue.getActiveCount()) >= 2,
        'two active chunks',
        undefined,
        30_000,
      );
      const held = (await queue.getActive()).map(
        (j) => (j.data as { chunk: number }).chunk,
      );
      worker.child.kill('SIGTERM');
      const exit = await worker.done;
      expect(exit.code).toBe(0);
      expect(exit.stderr).toMatch(/SIGTERM: finishing \d active chunk/);
      for (const chunk of held) {
        expect(
          await world.redis.hexists(`${p}:scan:slow:results`, String(chunk)),
        ).toBe(1);
      }
      expect(await queue.getActiveCount()).toBe(0);
      expect(await queue.getWaitingCount()).toBeGreaterThan(0);
      expect(await world.redis.hlen(`${p}:scan:slow:results`)).toBeLessThan(
        120,
      );
    } finally {
      await queue.close();
    }
  });
});

describe('Redis settings', () => {
  const stub = (config: () => Promise<unknown>): Redis =>
    ({ config }) as unknown as Redis;

  it('warns loudly when maxmemory-policy is not noeviction, and notes a disabled CONFIG', async () => {
    expect(await evictionWarning(world.redis)).toBeNull(); // the test Redis
    expect(
      await evictionWarning(
        stub(() => Promise.resolve(['maxmemory-policy', 'noeviction'])),
      ),
    ).toBeNull();
    expect(
      await evictionWarning(
        stub(() => Promise.resolve(['maxmemory-policy', 'allkeys-lru'])),
      ),
    ).toMatch(
      /^WARNING: Redis maxmemory-policy is 'allkeys-lru', not 'noeviction'/,
    );
    expect(
      await evictionWarning(
        stub(() => Promise.reject(new Error("ERR unknown command 'CONFIG'"))),
      ),
    ).toMatch(/cannot read Redis maxmemory-policy/);
  });

  it('--rate-domains: one chunk start every chunk-size/N seconds', () => {
    expect(chunkInterval(0, 100)).toBe(0);
    expect(chunkInterval(2000, 100)).toBe(50);
    expect(chunkInterval(10, 100)).toBe(10_000);
    expect(chunkInterval(1_000_000, 100)).toBe(1);
  });
});
