/**
 * The distributed tests' world: the shared test Redis with a fresh key
 * prefix per test (removed after), a fake DNS server with a small portfolio,
 * a temporary directory, private `redis-server`s and CLI children that are
 * stopped after each test. `useQueueWorld()` sets it up for a test file.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { systemClock } from '../../src/adapters/system-clock.js';
import { buildScanDeps } from '../../src/run/deps.js';
import type { BuiltDeps } from '../../src/run/deps.js';
import { startFakeDnsServer } from './dns-server.js';
import type {
  FakeDnsServer,
  FakeDnsServerOptions,
  FakeRecord,
} from './dns-server.js';
import { startPrivateRedis } from './private-redis.js';
import type { PrivateRedis } from './private-redis.js';
import { tempDir } from './temp-dir.js';
import type { TempDir } from './temp-dir.js';

export const REDIS_URL =
  process.env.EXOSCOPE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** The per-query deadline (ms) the queue tests give the CLI: slow names time out fast. */
export const QUEUE_DNS_TIMEOUT_MS = 800;

/** A key prefix no other test uses. */
export function freshPrefix(): string {
  return `exo-test-${randomBytes(5).toString('hex')}`;
}

export function testRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Deletes every key under a prefix. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await redis.del(...keys.slice(i, i + 1000));
  }
}

export async function keysUnder(
  redis: Redis,
  prefix: string,
): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${prefix}:*`,
      'COUNT',
      1000,
    );
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

/**
 * A small portfolio: Exchange Online, Google, on-premises, a gateway, no MX,
 * NXDOMAIN; `slow*.test` names are never answered (their rows time out), to
 * keep chunks busy in the fault tests.
 */
export const DOMAINS = [
  'contoso.test',
  'fabrikam.test',
  'gmail-like.test',
  'onprem.test',
  'gateway.test',
  'nomx.test',
  'missing.test',
  'Contoso.TEST',
  'https://www.fabrikam.test/about',
  'user@onprem.test',
];

export function portfolio(): FakeRecord[] {
  return [
    {
      name: 'contoso.test',
      type: 'MX',
      data: {
        preference: 10,
        exchange: 'contoso-test.mail.protection.outlook.com',
      },
    },
    {
      name: 'contoso-test.mail.protection.outlook.com',
      type: 'A',
      data: '52.101.68.10',
    },
    {
      name: 'contoso.test',
      type: 'TXT',
      data: 'v=spf1 include:spf.protection.outlook.com -all',
    },
    {
      name: 'autodiscover.contoso.test',
      type: 'CNAME',
      data: 'autodiscover.outlook.com',
    },
    { name: 'autodiscover.outlook.com', type: 'A', data: '52.97.1.1' },
    {
      name: 'fabrikam.test',
      type: 'MX',
      data: {
        preference: 10,
        exchange: 'fabrikam-test.mail.protection.outlook.com',
      },
    },
    {
      name: 'fabrikam-test.mail.protection.outlook.com',
      type: 'A',
      data: '52.101.68.11',
    },
    {
      name: 'gmail-like.test',
      type: 'MX',
      data: { preference: 1, exchange: 'aspmx.l.google.com' },
    },
    { name: 'aspmx.l.google.com', type: 'A', data: '142.250.1.26' },
    {
      name: 'onprem.test',
      type: 'MX',
      data: { preference: 10, exchange: 'mail.onprem.test' },
    },
    { name: 'mail.onprem.test', type: 'A', data: '198.18.0.1' },
    { name: 'autodiscover.onprem.test', type: 'A', data: '198.18.0.2' },
    {
      name: 'gateway.test',
      type: 'MX',
      data: { preference: 10, exchange: 'mx1.gateway.test' },
    },
    { name: 'mx1.gateway.test', type: 'A', data: '198.18.0.3' },
    {
      name: 'gateway.test',
      type: 'TXT',
      data: 'v=spf1 include:spf.protection.outlook.com -all',
    },
    { name: 'nomx.test', type: 'A', data: '198.18.0.4' },
  ];
}

export async function startDns(
  options: Pick<FakeDnsServerOptions, 'tcp'> = {},
): Promise<FakeDnsServer> {
  return startFakeDnsServer({
    records: portfolio(),
    behaviour: (name) => (name.includes('slow') ? 'drop' : 'answer'),
    ...options,
  });
}

/** Scan deps against `resolver` with no ASN lookups and no rate limit. */
export function offlineDeps(
  resolver: string,
  timeoutMs: number,
  retries: number,
): Promise<BuiltDeps> {
  return buildScanDeps(
    {
      resolvers: [resolver],
      rate: 0,
      timeoutMs,
      retries,
      asnSource: 'none',
      asnDb: null,
    },
    systemClock,
  );
}

/**
 * A CSV of `rows` rows: the portfolio's domains over and over (duplicates),
 * invalid cells, and every `slowEvery`-th row a domain that never answers.
 */
export function inputCsv(rows: number, slowEvery = 0): string {
  const invalid = [
    '',
    'not a domain',
    'a..b',
    '-bad-.test',
    '=cmd|calc',
    'ex ample.test',
  ];
  const lines = ['id,domain,note'];
  for (let i = 0; i < rows; i++) {
    let domain: string;
    if (slowEvery > 0 && i % slowEvery === 0) domain = `slow${i}.test`;
    else if (i % 7 === 3) domain = invalid[i % invalid.length] as string;
    else domain = DOMAINS[i % DOMAINS.length] as string;
    const cell = /[",\s]/.test(domain)
      ? `"${domain.replaceAll('"', '""')}"`
      : domain;
    lines.push(`${i},${cell},note ${i % 5}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface QueueWorld {
  /** The fake DNS server of `startDns()`. */
  readonly dns: FakeDnsServer;
  /** A client of the shared test Redis. */
  readonly redis: Redis;
  readonly dir: TempDir;
  /** A fresh key prefix, its keys deleted after the test. */
  prefix(): string;
  /** `EXOSCOPE_PREFIX` (fresh) and `REDIS_URL` of the shared Redis. */
  env(): { EXOSCOPE_PREFIX: string; REDIS_URL: string };
  /** A private `redis-server` (see private-redis.ts), stopped after the test. */
  privateRedis(config?: string[], password?: string): Promise<PrivateRedis>;
  /** Kills `child` after the test if it is still running. */
  track<T extends { child: ChildProcess }>(cli: T): T;
}

/**
 * Sets up the distributed tests' world for the calling test file (vitest
 * hooks): read its fields inside tests and hooks, not at import time.
 */
export function useQueueWorld(
  options: Pick<FakeDnsServerOptions, 'tcp'> = {},
): QueueWorld {
  let dns: FakeDnsServer | undefined;
  let redis: Redis | undefined;
  let dir: TempDir | undefined;
  const prefixes: string[] = [];
  const servers: PrivateRedis[] = [];
  const children: ChildProcess[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up yet`);
    return value;
  };

  beforeAll(async () => {
    dns = await startDns(options);
    redis = testRedis();
    dir = tempDir('queue');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
    for (const server of servers.splice(0)) await server.stop();
    while (prefixes.length > 0) {
      await dropPrefix(ready(redis, 'Redis'), prefixes.pop() as string);
    }
  });
  afterAll(async () => {
    await dns?.close();
    await redis?.quit();
    dir?.remove();
  });

  const world: QueueWorld = {
    get dns() {
      return ready(dns, 'the DNS server');
    },
    get redis() {
      return ready(redis, 'Redis');
    },
    get dir() {
      return ready(dir, 'the temporary directory');
    },
    prefix() {
      const p = freshPrefix();
      prefixes.push(p);
      return p;
    },
    env() {
      return { EXOSCOPE_PREFIX: world.prefix(), REDIS_URL };
    },
    async privateRedis(config = [], password) {
      const server = await startPrivateRedis(config, password);
      servers.push(server);
      return server;
    },
    track(cli) {
      children.push(cli.child);
      return cli;
    },
  };
  return world;
}
