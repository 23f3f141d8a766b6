/**
 * The benchmark's DNS world: the portfolio from ../shared/bench/gen-portfolio.mjs,
 * served by start-dns.sh (Knot behind Unbound) on ports of its own, stopped by
 * stop-dns.sh at the end, on error and on Ctrl-C. Also the run's cleanup list.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseGroundTruth } from './bench-parse.js';
import { lastLine, procCpuSeconds, runText } from './bench-proc.js';
import type { ServerCpu } from './bench-proc.js';

export function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** Run on exit, error and Ctrl-C, last registered first. */
const cleanups: Array<() => Promise<unknown>> = [];

export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

export async function cleanup(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await fn?.();
    } catch (err) {
      log(`cleanup: ${(err as Error).message}`);
    }
  }
}

/** Generates the portfolio into `dir` unless one of the same count and seed is there. */
export async function generate(
  bench: string,
  dir: string,
  count: number,
  seed: number,
): Promise<void> {
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest) && existsSync(join(dir, 'zones.list'))) {
    const m = JSON.parse(await readFile(manifest, 'utf8')) as {
      count?: number;
      seed?: number;
    };
    if (m.count === count && m.seed === seed) {
      log(`reusing the portfolio in ${dir}`);
      return;
    }
  }
  log(`generating ${count} domains (seed ${seed}) into ${dir}`);
  const script = join(bench, 'gen-portfolio.mjs');
  const args = ['--count', String(count), '--seed', String(seed)];
  // the generator holds every zone in memory: 1 M domains outgrow Node's
  // default heap (it aborts with "heap out of memory" after ~2 minutes)
  const heap = `--max-old-space-size=${Math.max(4096, Math.ceil(count / 100))}`;
  const r = await runText(process.execPath, [
    heap,
    script,
    ...args,
    '--out',
    dir,
  ]);
  if (r.code !== 0) {
    throw new Error(`gen-portfolio.mjs failed: ${lastLine(r.stderr)}`);
  }
}

/** `domain,expected_class` pairs of the portfolio, in input order. */
export async function loadTruth(dir: string): Promise<Array<[string, string]>> {
  return parseGroundTruth(
    await readFile(join(dir, 'ground-truth.csv'), 'utf8'),
  );
}

export interface Fixture {
  /** `127.0.0.1:<port + 1>`: Unbound, what exoscope asks. */
  recursor: string;
  recursorPort: number;
  /** CPU seconds used so far by Knot + Unbound, and by Knot (null if unknown). */
  serverCpuS(): ServerCpu | null;
  stop(): Promise<void>;
}

/** Knot on `port` and Unbound on `port + 1`, serving `dir`, with state in `dir/run`. */
export async function startFixture(
  bench: string,
  dir: string,
  port: number,
): Promise<Fixture> {
  const env = {
    ...process.env,
    DNS_BENCH_DIR: dir,
    DNS_BENCH_PORT: String(port),
    DNS_BENCH_RECURSOR: '1',
    DNS_BENCH_RECURSOR_PORT: String(port + 1),
  };
  let stopping: Promise<void> | null = null;
  // shared by the normal end and the cleanup of an interrupted run
  const stop = (): Promise<void> =>
    (stopping ??= runText('bash', [join(bench, 'stop-dns.sh'), dir], {
      env,
      shielded: true,
    }).then(() => log(`stopped the DNS servers of ${dir}`)));
  onCleanup(stop);
  log(`starting Knot on 127.0.0.1:${port}, Unbound on 127.0.0.1:${port + 1}`);
  const r = await runText('bash', [join(bench, 'start-dns.sh'), dir], { env });
  if (r.code !== 0) {
    await stop();
    const why = r.stderr.trim().split('\n').slice(-5).join(' / ');
    throw new Error(`start-dns.sh failed: ${why}`);
  }
  const pids = await Promise.all(
    ['dns.pid', 'recursor.pid'].map((f) =>
      readFile(join(dir, 'run', f), 'utf8').then(Number, () => NaN),
    ),
  );
  return {
    recursor: `127.0.0.1:${port + 1}`,
    recursorPort: port + 1,
    serverCpuS() {
      const [auth, recursor] = pids.map((pid) =>
        pid > 0 ? procCpuSeconds(pid) : null,
      );
      return auth == null || recursor == null
        ? null
        : { total: auth + recursor, auth };
    },
    stop,
  };
}
