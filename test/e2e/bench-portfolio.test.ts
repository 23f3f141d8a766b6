import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  groundTruth,
  startBenchFixture,
} from '../helpers/bench-fixture.js';
import type { BenchFixture } from '../helpers/bench-fixture.js';

// A few thousand generated domains served by Knot behind Unbound: the built
// CLI must give every row the verdict of ground-truth.csv.
const COUNT = 3000;
let fixture: BenchFixture;

beforeAll(() => {
  fixture = startBenchFixture({ count: COUNT, seed: 20261128, port: 25353 });
});
afterAll(() => fixture?.stop());

function scan(
  server: string,
  out: string,
): { rows: Record<string, string>[]; stderr: string } {
  const run = spawnSync(
    process.execPath,
    [
      CLI,
      'scan',
      join(fixture.dir, 'domains.csv'),
      '--resolver',
      server,
      '-o',
      out,
      '--force',
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  expect(run.stderr).not.toMatch(/unexpected error|at .*\.js:\d+/);
  expect(run.status).toBe(0);
  const rows = parse(readFileSync(out), { columns: true }) as Record<
    string,
    string
  >[];
  return { rows, stderr: run.stderr };
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

describe('end to end on the bench portfolio', () => {
  it('matches the ground truth through the recursor (Unbound)', () => {
    const { rows, stderr } = scan(
      fixture.recursor,
      join(fixture.dir, 'out-recursor.csv'),
    );
    expect(mismatches(rows)).toEqual([]);
    expect(stderr).toMatch(new RegExp(`scanned ${COUNT} rows`));
  });

  it('matches the ground truth straight from the authoritative server (Knot)', () => {
    const { rows } = scan(
      fixture.authoritative,
      join(fixture.dir, 'out-auth.csv'),
    );
    expect(mismatches(rows)).toEqual([]);
  });
});
