/**
 * Fault tests of the distributed mode, with the built CLI spawned as a user
 * runs it: Redis unreachable, passwords never printed, a worker stopped with
 * SIGTERM (a worker killed with SIGKILL: queue-redis-faults).
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
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
  // The URL carries a password, given the way a user sets it once: in
  // REDIS_URL (scan goes distributed only with --redis). The same commands
  // get a wrong password through --redis in queue-redis-faults: each
  // command, each way of giving the URL, one failing run. (enqueue, Redis
  // down at start: queue-redis-faults.)
  it.each([
    ['status', ['status', 'some-scan']],
    ['status --json', ['status', 'some-scan', '--json']],
    ['collect', ['collect', 'some-scan']],
    ['worker', ['worker']],
    ['scan --redis', ['scan', 'INPUT', '--quiet']],
  ])(
    '%s: one clear line, exit 1, within seconds, the password not printed',
    async (_name, args) => {
      const input = world.dir.file('unreachable.csv', inputCsv(20));
      const url = `redis://admin:${SECRET}@127.0.0.1:1`;
      const argv = args.map((a) => (a === 'INPUT' ? input : a));
      if (args[0] === 'worker' || args[0] === 'scan')
        argv.push(...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS));
      const r =
        args[0] === 'scan'
          ? await runCli([...argv, '--redis', url], { timeoutMs: 20_000 })
          : await runCli(argv, { env: { REDIS_URL: url }, timeoutMs: 20_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^exoscope: cannot reach Redis at redis:\/\/admin:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/,
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain(SECRET);
    },
  );

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
