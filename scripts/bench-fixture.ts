/**
 * The benchmark's DNS world: the portfolio of scripts/portfolio/generate.ts,
 * served by scripts/dns-servers.ts (Knot behind Unbound) on ports of its
 * own, stopped at the end, on error and on Ctrl-C. Also the run's cleanup
 * list.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseGroundTruth } from './bench-parse.js';
import { ensureDebianPackage, procCpuSeconds } from './bench-proc.js';
import type { ServerCpu } from './bench-proc.js';
import { startDnsServers } from './dns-servers.js';
import { generatePortfolio } from './portfolio/generate.js';

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
  dir: string,
  count: number,
  seed: number,
): Promise<void> {
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest) && existsSync(join(dir, 'zones.list'))) {
    const m = JSON.parse(await readFile(manifest, 'utf8')) as {
      generator?: string;
      count?: number;
      seed?: number;
    };
    if (
      m.generator === 'exoscope portfolio' &&
      m.count === count &&
      m.seed === seed
    ) {
      log(`reusing the portfolio in ${dir}`);
      return;
    }
  }
  log(`generating ${count} domains (seed ${seed}) into ${dir}`);
  generatePortfolio({ count, seed, out: dir });
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
  dir: string,
  port: number,
): Promise<Fixture> {
  for (const [binary, pkg] of [
    ['knotd', 'knot'],
    ['unbound', 'unbound'],
  ] as const) {
    if (!(await ensureDebianPackage(binary, pkg, log))) {
      throw new Error(
        `${binary} is missing and could not be installed (apt-get install ${pkg})`,
      );
    }
  }
  log(`starting Knot on 127.0.0.1:${port}, Unbound on 127.0.0.1:${port + 1}`);
  const servers = await startDnsServers({ dir, port, recursorPort: port + 1 });
  let stopping: Promise<void> | null = null;
  // shared by the normal end and the cleanup of an interrupted run
  const stop = (): Promise<void> =>
    (stopping ??= servers
      .stop()
      .then(() => log(`stopped the DNS servers of ${dir}`)));
  onCleanup(stop);
  const pids = [servers.authPid, servers.recursorPid ?? NaN];
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
