import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
/** ../shared/bench beside the clone (EXOSCOPE_BENCH_DIR overrides). */
export const BENCH =
  process.env.EXOSCOPE_BENCH_DIR ?? resolve(REPO, '../shared/bench');
export const CLI = join(REPO, 'dist/src/cli/main.js');

export interface BenchFixture {
  dir: string;
  /** Knot, authoritative: 127.0.0.1:<port>. */
  authoritative: string;
  /** Unbound, recursive, in front of Knot. */
  recursor: string;
  stop(): void;
}

/**
 * Generates a portfolio with ground truth and serves it from Knot behind
 * Unbound on loopback ports of its own (so a running benchmark is not hit).
 */
export function startBenchFixture(options: {
  count: number;
  seed: number;
  port: number;
}): BenchFixture {
  if (!existsSync(join(BENCH, 'gen-portfolio.mjs'))) {
    throw new Error(
      `bench scripts not found at ${BENCH} (set EXOSCOPE_BENCH_DIR)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'exoscope-bench-'));
  execFileSync(
    process.execPath,
    [
      join(BENCH, 'gen-portfolio.mjs'),
      '--count',
      String(options.count),
      '--seed',
      String(options.seed),
      '--out',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const env = {
    ...process.env,
    DNS_BENCH_DIR: dir,
    DNS_BENCH_PORT: String(options.port),
    DNS_BENCH_RECURSOR: '1',
    DNS_BENCH_RECURSOR_PORT: String(options.port + 1),
  };
  try {
    execFileSync('bash', [join(BENCH, 'start-dns.sh'), dir], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    authoritative: `127.0.0.1:${options.port}`,
    recursor: `127.0.0.1:${options.port + 1}`,
    stop() {
      try {
        execFileSync('bash', [join(BENCH, 'stop-dns.sh'), dir], {
          env,
          stdio: 'ignore',
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** ground-truth.csv as [domain, expected_class] pairs, in input order. */
export function groundTruth(dir: string): Array<[string, string]> {
  return readFileSync(join(dir, 'ground-truth.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',') as [string, string]);
}
