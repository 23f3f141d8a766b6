import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groundTruth, startBenchFixture } from '../helpers/bench-fixture.js';
import type { BenchFixture } from '../helpers/bench-fixture.js';

import { VARIANTS } from '../../scripts/portfolio/variants.js';
import { startCli, runCli } from '../helpers/cli.js';
import {
  REDIS_URL,
  freshPrefix,
  testRedis,
  dropPrefix,
} from '../helpers/queue-world.js';

// A thousand generated domains (scripts/portfolio) served by Knot behind
// Unbound: the built CLI must give every row the verdict of
// ground-truth.csv, and the distributed pipeline the same bytes as `scan`.
// With this seed a thousand hold every variant of the generator (checked
// below); the scale runs are `npm run bench`.
const COUNT = 1000;
let fixture: BenchFixture;

beforeAll(async () => {
  fixture = await startBenchFixture({
    count: COUNT,
    seed: 20261128,
  });
});
afterAll(() => fixture?.stop());

interface ScanResult {
  out: string;
  rows: Record<string, string>[];
  stderr: string;
}

async function scan(server: string, out: string): Promise<ScanResult> {
  const run = await runCli(
    [
      'scan',
      join(fixture.dir, 'domains.csv'),
      '--resolver',
      server,
      '-o',
      out,
      '--force',
    ],
    { timeoutMs: 300_000 },
  );
  expect(run.stderr).not.toMatch(/unexpected error|at .*\.js:\d+/);
  expect(run.code).toBe(0);
  const rows = parse(readFileSync(out), { columns: true }) as Record<
    string,
    string
  >[];
  return { out, rows, stderr: run.stderr };
}

let recursorRun: Promise<ScanResult> | undefined;
/** The scan through the recursor: run once, read by the tests that need it. */
function recursorScan(): Promise<ScanResult> {
  recursorRun ??= scan(fixture.recursor, join(fixture.dir, 'out-recursor.csv'));
  return recursorRun;
}

function mismatches(rows: Record<string, string>[]): string[] {
  const truth = groundTruth(fixture.dir);
  expect(rows).toHaveLength(truth.length);
  const wrong: string[] = [];
  truth.forEach(([domain, expected], i) => {
    const row = rows[i] as Record<string, string>;
    expect(row.domain).toBe(domain);
    if (row.classification !== expected) {
      wrong.push(
        `${domain}: expected ${expected}, got ${row.classification} (${row.reasons}; ${row.status} ${row.error})`,
      );
    }
  });
  return wrong;
}

describe('end to end on a generated portfolio', () => {
  it('has every variant of the generator at least once', () => {
    const detail = readFileSync(
      join(fixture.dir, 'ground-truth-detail.csv'),
      'utf8',
    );
    const seen = new Set(
      detail
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[2]),
    );
    const missing = VARIANTS.filter((v) => v.weight > 0 && !seen.has(v.id));
    expect(missing.map((v) => v.id)).toEqual([]);
  });

  it('matches the ground truth through the recursor (Unbound)', async () => {
    const { rows, stderr } = await recursorScan();
    expect(mismatches(rows)).toEqual([]);
    expect(stderr).toMatch(new RegExp(`scanned ${COUNT} rows`));
  });

  it('matches the ground truth straight from the authoritative server (Knot)', async () => {
    const { rows } = await scan(
      fixture.authoritative,
      join(fixture.dir, 'out-auth.csv'),
    );
    expect(mismatches(rows)).toEqual([]);
  });

  describe('distributed', () => {
    let redis: Redis;
    const prefix = freshPrefix();
    beforeAll(() => {
      redis = testRedis();
    });
    afterAll(async () => {
      await dropPrefix(redis, prefix);
      await redis.quit();
    });

    it('enqueue + 2 workers + collect write the bytes of scan', async () => {
      const reference = (await recursorScan()).out;
      const dns = ['--resolver', fixture.recursor];

      const env = { EXOSCOPE_PREFIX: prefix, REDIS_URL };
      const enq = await runCli(
        [
          'enqueue',
          join(fixture.dir, 'domains.csv'),
          '--scan',
          'portfolio',
          '--chunk-size',
          '100',
        ],
        { env },
      );
      expect(enq.code).toBe(0);
      const workers = [1, 2].map(() =>
        startCli(['worker', ...dns], { env, stdin: '' }),
      );
      try {
        const out = join(fixture.dir, 'out-collected.csv');
        const col = await runCli(['collect', 'portfolio', '-o', out], {
          env,
          timeoutMs: 300_000,
        });
        expect(col.stderr).toMatch(new RegExp(`${COUNT} rows`));
        expect(col.code).toBe(0);
        expect(readFileSync(out, 'utf8')).toBe(readFileSync(reference, 'utf8'));
      } finally {
        // listen for both exits before either can happen
        const exits = workers.map((w) => w.done);
        for (const w of workers) w.child.kill('SIGTERM');
        for (const exit of await Promise.all(exits)) expect(exit.code).toBe(0);
      }
    }, 600_000);
  });
});
