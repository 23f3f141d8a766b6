/**
 * Compares the two DNS clients behind the DnsPort: replays the first N lines
 * of a query plan (`name TYPE` per line, the bench fixture's queries.txt)
 * against one server at a fixed number of queries in flight, and prints per
 * run and as medians: queries per second and CPU microseconds per query
 * (process.cpuUsage, user + system, the figure that does not move with
 * scheduling). Runs of the two clients alternate, after one unmeasured pass
 * that warms a recursor's cache.
 *
 *   node dist/scripts/dns-client-bench.js --server 127.0.0.1:5354 \
 *     [--client udp,cares] [--limit 100000] [--conc 200] [--runs 3] \
 *     [--file /tmp/dns-bench/queries.txt] [--sockets 2] [--max-in-flight 100]
 *     [--timeout-ms 2000] [--retries 2]   (--retries 0: lost datagrams show as timeouts)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createCaresResolver } from '../src/adapters/dns/cares-resolver.js';
import { createSocketResolver } from '../src/adapters/dns/socket-resolver.js';
import type { DnsPort, QueryType } from '../src/core/dns.js';

type Client = 'udp' | 'cares';
type Resolver = DnsPort & { close(): void };

interface Run {
  client: Client;
  run: number;
  queries: number;
  wall_s: number;
  qps: number;
  cpu_us_per_query: number;
  /** The kernel's share (sendmsg/recvmsg on loopback deliver to the peer too). */
  sys_us_per_query: number;
  statuses: Record<string, number>;
}

const QUERY_TYPES: ReadonlySet<string> = new Set([
  'MX',
  'A',
  'AAAA',
  'CNAME',
  'TXT',
  'SRV',
]);

function options() {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: '127.0.0.1:5354' },
      client: { type: 'string', default: 'udp,cares' },
      file: { type: 'string', default: '/tmp/dns-bench/queries.txt' },
      limit: { type: 'string', default: '100000' },
      conc: { type: 'string', default: '200' },
      runs: { type: 'string', default: '3' },
      sockets: { type: 'string', default: '2' },
      'max-in-flight': { type: 'string', default: '100' },
      'timeout-ms': { type: 'string', default: '2000' },
      retries: { type: 'string', default: '2' },
    },
  });
  const clients = values.client.split(',').map((c) => {
    if (c !== 'udp' && c !== 'cares') throw new Error(`unknown client ${c}`);
    return c as Client;
  });
  return {
    server: values.server,
    clients,
    file: values.file,
    limit: Number(values.limit),
    conc: Number(values.conc),
    runs: Number(values.runs),
    sockets: Number(values.sockets),
    maxInFlight: Number(values['max-in-flight']),
    timeoutMs: Number(values['timeout-ms']),
    retries: Number(values.retries),
  };
}

type Options = ReturnType<typeof options>;

function readPlan(file: string, limit: number): [string, QueryType][] {
  const plan: [string, QueryType][] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (plan.length >= limit) break;
    const [name, type = 'A'] = line.trim().split(/\s+/);
    if (!name) continue;
    const upper = type.toUpperCase();
    if (!QUERY_TYPES.has(upper)) continue;
    plan.push([name, upper as QueryType]);
  }
  return plan;
}

function createClient(client: Client, o: Options): Resolver {
  return client === 'udp'
    ? createSocketResolver({
        servers: [o.server],
        timeoutMs: o.timeoutMs,
        retries: o.retries,
        socketsPerServer: o.sockets,
        maxInFlightPerSocket: o.maxInFlight,
      })
    : createCaresResolver({
        servers: [o.server],
        timeoutMs: o.timeoutMs,
        retries: o.retries,
        instancesPerServer: o.sockets,
        maxInFlightPerInstance: o.maxInFlight,
      });
}

async function replay(
  client: Client,
  run: number,
  plan: readonly [string, QueryType][],
  o: Options,
): Promise<Run> {
  const resolver = createClient(client, o);
  const statuses: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < plan.length; i = next++) {
      const [name, type] = plan[i] as [string, QueryType];
      const { status } = await resolver.query(name, type);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: o.conc }, worker));
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  resolver.close();
  return {
    client,
    run,
    queries: plan.length,
    wall_s: Number(wall.toFixed(3)),
    qps: Math.round(plan.length / wall),
    cpu_us_per_query: Number(
      ((used.user + used.system) / plan.length).toFixed(2),
    ),
    sys_us_per_query: Number((used.system / plan.length).toFixed(2)),
    statuses,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const o = options();
  const plan = readPlan(o.file, o.limit);
  if (plan.length === 0) throw new Error(`no queries in ${o.file}`);
  await replay(o.clients[0] as Client, 0, plan, o); // warm-up, not reported
  const runs: Run[] = [];
  for (let run = 1; run <= o.runs; run++) {
    for (const client of o.clients) {
      const result = await replay(client, run, plan, o);
      runs.push(result);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    }
  }
  for (const client of o.clients) {
    const mine = runs.filter((r) => r.client === client);
    process.stdout.write(
      `${JSON.stringify({
        summary: 'median',
        client,
        node: process.version,
        cares: process.versions.ares,
        server: o.server,
        queries: plan.length,
        conc: o.conc,
        sockets: o.sockets,
        max_in_flight: o.maxInFlight,
        runs: mine.length,
        qps: median(mine.map((r) => r.qps)),
        cpu_us_per_query: median(mine.map((r) => r.cpu_us_per_query)),
        sys_us_per_query: median(mine.map((r) => r.sys_us_per_query)),
      })}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
