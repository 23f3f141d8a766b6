import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsServers } from '../../scripts/dns-servers.js';
import { generatePortfolio } from '../../scripts/portfolio/generate.js';
import { freePort } from './free-port.js';

export interface BenchFixture {
  dir: string;
  /** Knot, authoritative: 127.0.0.1:<port>. */
  authoritative: string;
  /** Unbound, recursive, in front of Knot. */
  recursor: string;
  stop(): Promise<void>;
}

/**
 * Generates a portfolio with ground truth (scripts/portfolio) and serves it
 * from Knot behind Unbound on loopback ports the OS hands out
 * (scripts/dns-servers.ts).
 */
export async function startBenchFixture(options: {
  count: number;
  seed: number;
}): Promise<BenchFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'exoscope-portfolio-'));
  try {
    generatePortfolio({ count: options.count, seed: options.seed, out: dir });
    const port = await freePort();
    const servers = await startDnsServers({
      dir,
      port,
      recursorPort: await freePort([port]),
    });
    return {
      dir,
      authoritative: servers.authoritative,
      recursor: servers.recursor ?? '',
      async stop() {
        try {
          await servers.stop();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** ground-truth.csv as [domain, expected_class] pairs, in input order. */
export function groundTruth(dir: string): Array<[string, string]> {
  return readFileSync(join(dir, 'ground-truth.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',') as [string, string]);
}
