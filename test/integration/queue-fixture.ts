/**
 * Shared by the queue-*.test.ts suites: a fresh Redis key prefix per test
 * (removed after), a fake DNS server with a small portfolio, input files, and
 * the built CLI spawned as a user runs it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { systemClock } from '../../src/adapters/system-clock.js';
import { buildScanDeps } from '../../src/run/deps.js';
import type { BuiltDeps } from '../../src/run/deps.js';
import { startFakeDnsServer } from '../helpers/dns-server.js';
import type {
  FakeDnsServer,
  FakeDnsServerOptions,
  FakeRecord,
} from '../helpers/dns-server.js';

export const REDIS_URL =
  process.env.EXOSCOPE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
/** The built CLI (EXOSCOPE_TEST_CLI overrides, for a stand-in entry point). */
export const CLI =
  process.env.EXOSCOPE_TEST_CLI ?? join(REPO, 'dist/src/cli/main.js');

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

/** DNS flags for the CLI against the fake server. */
export function dnsFlags(dns: FakeDnsServer, timeoutMs = 800): string[] {
  return [
    '--resolver',
    dns.address,
    '--asn-source',
    'none',
    '--timeout',
    String(timeoutMs),
    '--retries',
    '0',
  ];
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

export interface TempDir {
  path: string;
  file(name: string, content: string): string;
  remove(): void;
}

export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'exoscope-queue-'));
  return {
    path,
    file(name, content) {
      const p = join(path, name);
      writeFileSync(p, content);
      return p;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns the built CLI and waits for it to exit. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  const child = spawnCli(args, env);
  return waitExit(child.process, child.output, timeoutMs);
}

export interface SpawnedCli {
  process: ChildProcess;
  output: { stdout: string; stderr: string };
}

export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): SpawnedCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, EXOSCOPE_RESOLVERS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout
    ?.setEncoding('utf8')
    .on('data', (d: string) => (output.stdout += d));
  child.stderr
    ?.setEncoding('utf8')
    .on('data', (d: string) => (output.stderr += d));
  return { process: child, output };
}

export function waitExit(
  child: ChildProcess,
  output: { stdout: string; stderr: string },
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `CLI did not exit within ${timeoutMs} ms; stderr: ${output.stderr}`,
        ),
      );
    }, timeoutMs);
    // 'close', not 'exit': only then has all of stdout and stderr been read
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, ...output });
    });
  });
}

/** Polls until `check` is true. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
