/**
 * The distributed pipeline gives the in-process result: `scan --redis` and
 * `enqueue` + `worker` + `collect`, each against real Redis and the fake DNS
 * server, compared byte for byte with `scan`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { startCli, runCli } from '../helpers/cli.js';

import { dnsArgs } from '../helpers/fake-dns.js';
import {
  REDIS_URL,
  keysUnder,
  startDns,
  inputCsv,
  QUEUE_DNS_TIMEOUT_MS,
  useQueueWorld,
} from '../helpers/queue-world.js';

const world = useQueueWorld();
let input: string;
let expectedCsv: string;

beforeAll(async () => {
  input = world.dir.file('input.csv', inputCsv(350));
  const ref = join(world.dir.path, 'in-process.csv');
  const r = await runCli([
    'scan',
    input,
    '-o',
    ref,
    '--quiet',
    ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS),
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expectedCsv = readFileSync(ref, 'utf8');
  expect(expectedCsv.split('\n').length).toBe(352); // header + 350 rows + final newline
});

describe('distributed scan', () => {
  it('scan --redis writes the in-process CSV byte for byte and leaves no keys', async () => {
    const p = world.prefix();
    const out = join(world.dir.path, 'redis-scan.csv');
    const r = await runCli(
      [
        'scan',
        input,
        '-o',
        out,
        '--redis',
        REDIS_URL,
        ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS),
      ],
      {
        env: {
          EXOSCOPE_PREFIX: p,
        },
      },
    );
    expect(r.stderr).toMatch(/350 rows/);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(expectedCsv);
    // the scan's own keys are deleted once written; BullMQ's queue meta may stay
    expect(
      (await keysUnder(world.redis, p)).filter((k) => k.includes(':scan:')),
    ).toEqual([]);
  });

  it('enqueue + worker + collect writes the in-process CSV byte for byte', async () => {
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    const enq = await runCli(
      ['enqueue', input, '--scan', 'eq-test', '--chunk-size', '40'],
      { env },
    );
    expect(enq.code).toBe(0);
    expect(enq.stdout).toBe('eq-test\n');
    expect(enq.stderr).toMatch(/350 rows in 9 chunks/);

    const worker = startCli(
      ['worker', '--jobs', '3', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)],
      { env, stdin: '' },
    );
    try {
      const out = join(world.dir.path, 'collected.csv');
      const col = await runCli(
        ['collect', 'eq-test', '-o', out, '--keep', '60'],
        { env },
      );
      expect(col.stderr).toMatch(/350 rows/);
      expect(col.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(expectedCsv);

      // collect again: the same file; the keys now expire
      const again = await runCli(
        ['collect', 'eq-test', '-o', out, '--force', '--no-wait'],
        { env },
      );
      expect(again.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(expectedCsv);
      const ttl = await world.redis.ttl(`${p}:scan:eq-test:results`);
      expect(ttl).toBeGreaterThan(0);

      const status = await runCli(['status', 'eq-test', '--json'], { env });
      expect(status.code).toBe(0);
      const s = JSON.parse(status.stdout) as {
        state: string;
        rows: { total: number; done: number };
      };
      expect(s.state).toBe('collected');
      expect(s.rows).toMatchObject({ total: 350, done: 350, failed: 0 });
    } finally {
      worker.child.kill('SIGTERM');
      const exit = await worker.done;
      expect(exit.code).toBe(0);
    }
  });

  it('a worker whose resolver takes no TCP scans over UDP and says so once', async () => {
    const udpOnly = await startDns({ tcp: false });
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    const worker = startCli(
      ['worker', '--jobs', '2', ...dnsArgs(udpOnly, QUEUE_DNS_TIMEOUT_MS)],
      { env, stdin: '' },
    );
    try {
      const enq = await runCli(
        ['enqueue', input, '--scan', 'udp-only', '--chunk-size', '50'],
        { env },
      );
      expect(enq.code).toBe(0);
      const out = join(world.dir.path, 'udp-only.csv');
      const col = await runCli(['collect', 'udp-only', '-o', out], { env });
      expect(col.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(expectedCsv);
      expect(udpOnly.queries.length).toBeGreaterThan(0);
      expect(udpOnly.queries.every((q) => q.proto === 'udp')).toBe(true);
    } finally {
      worker.child.kill('SIGTERM');
      const exit = await worker.done;
      await udpOnly.close();
      expect(exit.code).toBe(0);
      const notices = exit.stderr
        .split('\n')
        .filter((line) => line.includes('asking it over UDP'));
      expect(notices).toEqual([
        expect.stringMatching(
          /^exoscope worker \d+: DNS resolver 127\.0\.0\.1:\d+ made no TCP connection \(ECONNREFUSED\): asking it over UDP from now on$/,
        ),
      ]);
    }
  });

  it('jsonl: the same records as the in-process scan, timestamps aside', async () => {
    const p = world.prefix();
    const small = world.dir.file('small.csv', inputCsv(60));
    const ref = join(world.dir.path, 'small.jsonl');
    const out = join(world.dir.path, 'small-redis.jsonl');
    const a = await runCli([
      'scan',
      small,
      '-f',
      'jsonl',
      '-o',
      ref,
      '--quiet',
      ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS),
    ]);
    expect(a.code).toBe(0);
    const b = await runCli(
      [
        'scan',
        small,
        '-f',
        'jsonl',
        '-o',
        out,
        '--quiet',
        '--redis',
        REDIS_URL,
        ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS),
      ],
      { env: { EXOSCOPE_PREFIX: p } },
    );
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    // Timings differ, and queries are listed as they finish: sort them.
    const byQuery = (
      a: { type: string; name: string },
      b: { type: string; name: string },
    ): number => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`);
    const strip = (text: string): unknown[] =>
      text
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line, (k, v: unknown) => {
              if (k === 'scanned_at' || k === 'ms') return 0;
              if (k === 'queries' && Array.isArray(v))
                return [...(v as { type: string; name: string }[])].sort(
                  byQuery,
                );
              return v;
            }) as unknown,
        );
    expect(strip(readFileSync(out, 'utf8'))).toEqual(
      strip(readFileSync(ref, 'utf8')),
    );
  });

  it('status and collect --no-wait on a scan still running', async () => {
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    const enq = await runCli(
      ['enqueue', input, '--scan', 'pending', '--quiet'],
      { env },
    );
    expect(enq.code).toBe(0);
    const status = await runCli(['status', 'pending'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/0 \/ 350 done/);
    expect(status.stdout).toMatch(/running/);
    const col = await runCli(['collect', 'pending', '--no-wait'], { env });
    expect(col.code).toBe(1);
    expect(col.stderr).toMatch(
      /^exoscope: scan pending is not finished: 0\/4 chunks done/,
    );
    expect(col.stdout).toBe('');
    // status of a scan that does not exist: queue-cli-habits
  });
});
