#!/usr/bin/env node
/**
 * The DNS floor of this machine: the portfolio's query plan (queries.txt,
 * `name TYPE` per line) replayed through node:dns at a fixed number of
 * queries in flight, with no work on the answers. A scanner built on
 * node:dns cannot beat it against the same server, so `scanner domains/s ÷
 * floor domains/s` is the scanner's efficiency.
 *
 *   node dist/scripts/dns-floor.js --data DIR --server 127.0.0.1:5354
 *        [--in-flight 200] [--runs 3] [--limit N]
 *
 * Prints one JSON line per run, then a `"summary":"median"` line (read by
 * the benchmark: scripts/bench-parse.ts).
 */
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runAsScript } from './run-as-script.js';

interface RunResult {
  wall_s: number;
  qps: number;
  domains_per_s: number;
  cpu_us_per_query: number;
  /** Answers by outcome: NOERROR, or node:dns's error code (ENOTFOUND, ENODATA, ...). */
  outcome: Record<string, number>;
}

async function replay(
  queries: ReadonlyArray<readonly [string, string]>,
  server: string,
  inFlight: number,
  perDomain: number,
): Promise<RunResult> {
  // c-ares keeps no answer cache in Node: every query reaches the server
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([server]);
  const outcome: Record<string, number> = {};
  const count = (key: string) => (outcome[key] = (outcome[key] ?? 0) + 1);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < queries.length; i = next++) {
      const [name, type] = queries[i] as readonly [string, string];
      try {
        await resolver.resolve(name, type);
        count('NOERROR');
      } catch (err) {
        count((err as NodeJS.ErrnoException).code ?? 'error');
      }
    }
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    wall_s: Number(wall.toFixed(3)),
    qps: Math.round(queries.length / wall),
    domains_per_s: Math.round(queries.length / perDomain / wall),
    cpu_us_per_query: Number(
      ((used.user + used.system) / queries.length).toFixed(1),
    ),
    outcome,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

const USAGE =
  'usage: dns-floor.js --data DIR --server ADDR:PORT [--in-flight 200] [--runs 3] [--limit N]';

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      server: { type: 'string' },
      'in-flight': { type: 'string', default: '200' },
      runs: { type: 'string', default: '3' },
      limit: { type: 'string', default: '0' },
    },
  });
  const inFlight = Number(values['in-flight']);
  const runs = Number(values.runs);
  const limit = Number(values.limit);
  if (
    !values.data ||
    !values.server ||
    !(inFlight >= 1) ||
    !(runs >= 1) ||
    !(limit >= 0)
  ) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const all = readFileSync(join(values.data, 'queries.txt'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', type = 'A'] = line.split(' ');
      return [name, type] as const;
    });
  const manifest = JSON.parse(
    readFileSync(join(values.data, 'manifest.json'), 'utf8'),
  ) as { count: number };
  const perDomain = all.length / manifest.count;
  const queries = limit > 0 ? all.slice(0, limit) : all;
  const results: RunResult[] = [];
  for (let run = 1; run <= runs; run++) {
    const r = await replay(queries, values.server, inFlight, perDomain);
    results.push(r);
    process.stdout.write(`${JSON.stringify({ run, ...r })}\n`);
  }
  const med = (key: 'wall_s' | 'qps' | 'domains_per_s' | 'cpu_us_per_query') =>
    median(results.map((r) => r[key]));
  const summary = {
    summary: 'median',
    node: process.version,
    cares: process.versions.ares,
    server: values.server,
    in_flight: inFlight,
    runs,
    queries: queries.length,
    queries_per_domain: Number(perDomain.toFixed(2)),
    wall_s: med('wall_s'),
    qps: med('qps'),
    domains_per_s: med('domains_per_s'),
    cpu_us_per_query: med('cpu_us_per_query'),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

runAsScript(import.meta.url, 'dns-floor', main);
