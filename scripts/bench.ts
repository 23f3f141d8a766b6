#!/usr/bin/env node
/**
 * `npm run bench [-- options]`: exoscope against this machine's DNS floor.
 *
 * Generates the synthetic portfolio (scripts/portfolio/generate.ts), serves
 * it with Knot behind Unbound on loopback ports of its own
 * (scripts/dns-servers.ts), and on that one server runs: the DNS floor
 * (scripts/dns-floor.ts, before), dnsperf, a JSONL sample for the query count, `scan` in
 * one process, `scan` in two concurrent halves, enqueue + 2 workers + collect
 * over Redis, the floor (after); optionally a memory run of 1 M domains.
 * Every output is checked row by row against ground-truth.csv. Prints one
 * table and writes it to --out. The steps live in bench-steps.ts,
 * bench-distributed.ts and bench-memory.ts; see HELP for the options.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { stepDistributed } from './bench-distributed.js';
import {
  cleanup,
  generate,
  loadTruth,
  log,
  onCleanup,
  startFixture,
} from './bench-fixture.js';
import { memoryPlan, repeatedInput, stepMemory } from './bench-memory.js';
import {
  ensureDebianPackage,
  killLiveChildren,
  onPath,
  runText,
} from './bench-proc.js';
import {
  stepDnsperf,
  stepFloor,
  stepQuerySample,
  stepScanOne,
  stepScanSplit,
  stepStartup,
} from './bench-steps.js';
import type { Ctx } from './bench-steps.js';
import { DNS_CLIENTS, isDnsClient } from '../src/run/dns-layout.js';
import type { DnsClient } from '../src/run/dns-layout.js';
import { parseCpuTicks, stealPercent } from './bench-parse.js';
import type { CpuTicks, FloorSummary } from './bench-parse.js';
import {
  formatDuration,
  medianRow,
  pairedRatios,
  renderReport,
  roundOrder,
} from './bench-table.js';
import type {
  BenchReport,
  Machine,
  MemoryRun,
  StepRow,
} from './bench-table.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The CLI under test (EXOSCOPE_BENCH_CLI: another build of it). */
const CLI =
  process.env.EXOSCOPE_BENCH_CLI ?? join(REPO, 'dist/src/cli/main.js');

const HELP = `Usage: npm run bench -- [options]

Runs exoscope against the DNS floor of this machine on the synthetic
portfolio of scripts/portfolio/generate.ts, served by Knot behind Unbound on
127.0.0.1 (Debian packages knot and unbound, installed if missing), and
prints one table. A quick check of the whole run: --count 2000 --floor-runs 1
--scan-runs 1 --no-dnsperf.

Portfolio and server:
  --count N            domains (default 100000)
  --seed S             generator seed (default 1)
  --work DIR           work directory, kept afterwards; a portfolio already
                       there with the same count and seed is reused
                       (default: a temporary directory, removed at the end)
  --keep               keep the temporary work directory
  --port P             Knot on P, Unbound on P+1; the memory run uses P+2
                       and P+3 (default 35353)

Steps (all on by default):
  --floor-runs N       runs of dns-floor before and after (default 3)
  --scan-runs N        runs of each warm exoscope step, taken in turn (1 process,
                       1 process on udp, --threads 2, halves, distributed;
                       each round starts one step later); the row shown is
                       the median by domains/s (default 3)
  --no-dnsperf         skip dnsperf (Debian package, installed if missing)
  --dnsperf-seconds S  dnsperf run length (default 10)
  --dnsperf-clients N  dnsperf -c (default 4)
  --dnsperf-max-qps Q  dnsperf -Q; 0 = no cap (default 0)
  --sample N           domains of the JSONL run that counts queries (default 2000)
  --no-split           skip the two concurrent half scans
  --no-distributed     skip enqueue + 2 workers + collect
  --redis URL          Redis of the distributed step
                       (default redis://127.0.0.1:6379)
  --concurrency N      pass --concurrency N to exoscope (default: its own)
  --dns-client C       exoscope's DNS client in every exoscope step: auto
                       (default, exoscope's own default: pipelined TCP to the
                       local Unbound, which takes it), tcp, udp or cares;
                       unless it is udp, a warm step of one process on udp
                       runs too, for comparison
  --memory-run         also scan --memory-count domains in one process and
                       report RSS at 10 k, 100 k and 1 M output rows
  --memory-count N     domains of the memory run (default 1000000)
  --memory-only        only the memory run

Output:
  --json               print the report as JSON instead of the table
  --out FILE           also write the table here (default
                       bench-results/latest.md)
  -h, --help           this text

Environment: EXOSCOPE_BENCH_CLI (another exoscope entry point than
dist/src/cli/main.js).

Exit code 0 when every step ran and every verdict matched ground-truth.csv;
1 when a step failed or a verdict was wrong; 2 for a usage error.
`;

/** Whole-number options: default, min, max. */
const NUMBERS = {
  count: [100_000, 10, 10_000_000],
  seed: [1, 0, 2 ** 31],
  port: [35353, 1024, 65532],
  'floor-runs': [3, 1, 21],
  'scan-runs': [3, 1, 21],
  'dnsperf-seconds': [10, 1, 600],
  'dnsperf-clients': [4, 1, 64],
  'dnsperf-max-qps': [0, 0, 10_000_000],
  sample: [2000, 10, 1_000_000],
  concurrency: [0, 1, 10_000],
  'memory-count': [1_000_000, 10, 10_000_000],
} as const satisfies Record<string, readonly [number, number, number]>;
type NumberOption = keyof typeof NUMBERS;

const FLAGS = [
  'keep',
  'no-dnsperf',
  'no-split',
  'no-distributed',
  'memory-run',
  'memory-only',
  'json',
] as const;

export interface BenchOptions {
  count: number;
  seed: number;
  /** Work directory given by the user (kept), or null for a temporary one. */
  work: string | null;
  keep: boolean;
  port: number;
  floorRuns: number;
  scanRuns: number;
  dnsperf: {
    enabled: boolean;
    seconds: number;
    clients: number;
    maxQps: number;
  };
  sample: number;
  split: boolean;
  distributed: boolean;
  redis: string;
  concurrency: number | null;
  dnsClient: DnsClient;
  memoryRun: boolean;
  memoryCount: number;
  memoryOnly: boolean;
  json: boolean;
  out: string;
}

/** The options, validated; null for --help. Throws a one-line message. */
export function parseOptions(argv: string[]): BenchOptions | null {
  const options: ParseArgsConfig['options'] = {
    work: { type: 'string' },
    redis: { type: 'string' },
    out: { type: 'string' },
    'dns-client': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const name of Object.keys(NUMBERS)) options[name] = { type: 'string' };
  for (const name of FLAGS) options[name] = { type: 'boolean' };
  const { values, positionals } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
  });
  if (values.help) return null;
  if (positionals.length) {
    throw new Error(`unexpected argument: ${positionals.join(' ')}`);
  }
  const num = (name: NumberOption): number => {
    const [fallback, min, max] = NUMBERS[name];
    const raw = values[name];
    if (typeof raw !== 'string') return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(
        `--${name} must be a whole number from ${min} to ${max}, got '${raw}'`,
      );
    }
    return n;
  };
  const flag = (name: (typeof FLAGS)[number]): boolean => values[name] === true;
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const work = str('work');
  return {
    count: num('count'),
    seed: num('seed'),
    work: work ? resolve(work) : null,
    keep: flag('keep'),
    port: num('port'),
    floorRuns: num('floor-runs'),
    scanRuns: num('scan-runs'),
    dnsperf: {
      enabled: !flag('no-dnsperf'),
      seconds: num('dnsperf-seconds'),
      clients: num('dnsperf-clients'),
      maxQps: num('dnsperf-max-qps'),
    },
    sample: Math.min(num('sample'), num('count')),
    split: !flag('no-split'),
    distributed: !flag('no-distributed'),
    redis: str('redis') ?? 'redis://127.0.0.1:6379',
    concurrency: values.concurrency === undefined ? null : num('concurrency'),
    dnsClient: dnsClient(str('dns-client')),
    memoryRun: flag('memory-run') || flag('memory-only'),
    memoryCount: num('memory-count'),
    memoryOnly: flag('memory-only'),
    json: flag('json'),
    out: resolve(str('out') ?? 'bench-results/latest.md'),
  };
}

function dnsClient(value: string | undefined): DnsClient {
  if (value === undefined) return 'auto';
  if (isDnsClient(value)) return value;
  throw new Error(
    `--dns-client must be one of ${DNS_CLIENTS.join(', ')}, got '${value}'`,
  );
}

/** The machine's CPU ticks now, or null where /proc/stat cannot be read. */
async function cpuTicks(): Promise<CpuTicks | null> {
  try {
    return parseCpuTicks(await readFile('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** `row` with the CPU steal between the two readings. */
function withSteal(
  row: StepRow,
  start: CpuTicks | null,
  end: CpuTicks | null,
): StepRow {
  const stealPct = start && end ? stealPercent(start, end) : null;
  return { ...row, stealPct };
}

// ------------------------------------------------------------------ machine

async function machineInfo(): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const nproc = await runText('nproc', []);
  const memKb = /^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1];
  const load = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: Number(nproc.stdout.trim()) || 0,
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU',
    memTotalMb: memKb ? Number(memKb) / 1024 : null,
    loadAvg: load ? Number(load.split(' ')[0]) : null,
    node: process.version,
    cares: process.versions.ares ?? 'unknown',
    servers: '',
    commit: await gitCommit(),
  };
}

/** The commit under test, `-dirty` with uncommitted changes; 'unknown' outside git. */
async function gitCommit(): Promise<string> {
  const r = await runText('git', [
    '-C',
    REPO,
    'describe',
    '--always',
    '--dirty',
    '--abbrev=12',
  ]);
  return (r.code === 0 && r.stdout.trim()) || 'unknown';
}

/** Knot, Unbound and dnsperf versions (after start-dns.sh has installed them). */
async function toolVersions(): Promise<string> {
  const probes: Array<[string, string, string[], RegExp]> = [
    ['Knot', 'knotd', ['--version'], /version\s+(\S+)/i],
    ['Unbound', 'unbound', ['-V'], /^Version\s+(\S+)/m],
    ['dnsperf', 'dnsperf', ['-h'], /^Version\s+(\S+)/m],
  ];
  const parts: string[] = [];
  for (const [label, bin, args, re] of probes) {
    if (!onPath(bin)) continue;
    const r = await runText(bin, args);
    const v = re.exec(r.stdout + r.stderr)?.[1];
    if (v) parts.push(`${label} ${v}`);
  }
  return parts.join(', ') || 'server versions unknown';
}

async function ensureTime(): Promise<string | null> {
  if (await ensureDebianPackage('/usr/bin/time', 'time', log)) {
    return '/usr/bin/time';
  }
  log('GNU time is missing: CPU and peak RSS come from /proc samples (200 ms)');
  return null;
}

// ------------------------------------------------------------------ run

/** A portfolio generated, served and loaded: what the steps run against. */
async function openWorld(
  opts: BenchOptions,
  base: Pick<Ctx, 'scratch' | 'timeBin'>,
  dir: string,
  count: number,
  port: number,
): Promise<{ ctx: Ctx; stop: () => Promise<void> }> {
  await generate(dir, count, opts.seed);
  const fixture = await startFixture(dir, port);
  const ctx: Ctx = {
    ...base,
    cli: CLI,
    data: dir,
    recursor: fixture.recursor,
    recursorPort: fixture.recursorPort,
    serverCpuS: () => fixture.serverCpuS(),
    concurrency: opts.concurrency,
    dnsClient: opts.dnsClient,
    truth: await loadTruth(dir),
    queries: null,
  };
  return { ctx, stop: fixture.stop };
}

/** Steps 1-4 on one server, dns-floor first and last; ratios to the floor. */
async function mainSteps(
  ctx: Ctx,
  opts: BenchOptions,
): Promise<{ steps: StepRow[]; floor: number | null; notes: string[] }> {
  const steps: StepRow[] = [];
  const floors: number[] = [];
  const run = async (step: () => Promise<StepRow>) => {
    const start = await cpuTicks();
    const row = await step();
    return withSteal(row, start, await cpuTicks());
  };
  const floorStep = async (when: string) => {
    let floor = null as FloorSummary | null;
    const row = await run(async () => {
      const f = await stepFloor(ctx, when, opts.floorRuns);
      floor = f.floor;
      return f.row;
    });
    steps.push(row);
    return floor;
  };
  const before = await floorStep('before');
  if (opts.dnsperf.enabled) {
    steps.push(await run(() => stepDnsperf(ctx, opts.dnsperf)));
  }
  const startup = await stepStartup(ctx);
  steps.push(await run(() => stepQuerySample(ctx, opts.sample)));
  // The first scan meets Unbound cold for the names beyond dns-floor's plan
  // (SRV, exchangedelegation, wildcard probes, ...), on the same 2 cores;
  // dns-floor is measured warm (median of 3), so the compared rows are too.
  steps.push(await run(() => stepScanOne(ctx, 1, ' (recursor cold)')));
  // The warm steps in turn, --scan-runs times: the machine's speed drifts
  // by ±20 % between minutes, and a drift then touches every step alike.
  // Each round starts one step later: a round lasts about as long as the
  // zones' negative TTL (300 s), so with a fixed order Unbound's refetches
  // fell on the same step every round (the distributed step of the 20:08
  // run made Unbound work 433 µs a domain, the others 215-258).
  const warm: [WarmStep, () => Promise<StepRow>][] = [
    ['one', () => stepScanOne(ctx)],
  ];
  if (ctx.dnsClient !== 'udp') {
    const udp = { ...ctx, dnsClient: 'udp' as const };
    warm.push(['udp', () => stepScanOne(udp, 1, ', --dns-client udp')]);
  }
  warm.push(['threads', () => stepScanOne(ctx, 2)]);
  if (opts.split) warm.push(['halves', () => stepScanSplit(ctx)]);
  if (opts.distributed) {
    warm.push(['distributed', () => stepDistributed(ctx, opts.redis)]);
  }
  const runs: StepRow[][] = warm.map(() => []);
  for (let r = 0; r < opts.scanRuns; r++) {
    if (opts.scanRuns > 1)
      log(`warm steps: round ${r + 1} of ${opts.scanRuns}`);
    for (const i of roundOrder(warm.length, r)) {
      const step = warm[i] as [WarmStep, () => Promise<StepRow>];
      runs[i]?.push(await run(step[1]));
    }
  }
  steps.push(...runs.map(medianRow));
  const runsOf = (name: WarmStep): StepRow[] =>
    runs[warm.findIndex(([n]) => n === name)] ?? [];
  const paired = PAIRS.flatMap(([a, b]) => {
    const p = pairedRatios(runsOf(a), runsOf(b));
    if (!p || opts.scanRuns < 2) return [];
    const list = p.ratios.map((x) => (x === null ? '—' : x.toFixed(2)));
    const name = (n: WarmStep) => runsOf(n)[0]?.step ?? n;
    return [
      `${name(a)} ÷ ${name(b)}: ${list.join(', ')} (median ${p.median.toFixed(2)})`,
    ];
  });
  const pairedNote = paired.length
    ? [
        `Round by round (the two runs of a round ran minutes apart, so a drift of the machine's speed touches both alike), domains/s of ${paired.join('; of ')}.`,
      ]
    : [];
  const after = await floorStep('after');
  for (const f of [before, after]) if (f) floors.push(f.domainsPerS);
  const floor = floors.length
    ? floors.reduce((a, b) => a + b) / floors.length
    : null;
  for (const s of steps) {
    if (floor && s.domainsPerS !== null && !s.step.startsWith('dnsperf')) {
      s.floorRatio = s.domainsPerS / floor;
    }
  }
  return { steps, floor, notes: [startup, ...pairedNote] };
}

/** The warm steps, by what they compare. */
type WarmStep = 'one' | 'udp' | 'threads' | 'halves' | 'distributed';

/** Pairs of warm steps compared round by round (the target 3). */
const PAIRS: [WarmStep, WarmStep][] = [
  ['distributed', 'threads'],
  ['distributed', 'halves'],
];

async function run(opts: BenchOptions): Promise<number> {
  const t0 = performance.now();
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: npm run build`);
  const work = opts.work ?? (await mkdtemp(join(tmpdir(), 'exoscope-bench-')));
  if (!opts.work && !opts.keep) {
    onCleanup(() => rm(work, { recursive: true, force: true }));
  }
  log(`work directory ${work}${opts.work || opts.keep ? ' (kept)' : ''}`);
  const scratch = join(work, 'out');
  await mkdir(scratch, { recursive: true });
  const machine = await machineInfo();
  const base = { scratch, timeBin: await ensureTime() };

  let main = {
    steps: [] as StepRow[],
    floor: null as number | null,
    notes: [] as string[],
  };
  let resolver = `127.0.0.1:${opts.port + 1}`;
  if (!opts.memoryOnly) {
    const world = await openWorld(
      opts,
      base,
      join(work, 'data'),
      opts.count,
      opts.port,
    );
    resolver = world.ctx.recursor;
    main = await mainSteps(world.ctx, opts);
    await world.stop();
  }
  let memory: MemoryRun | null = null;
  if (opts.memoryRun) {
    const setup = performance.now();
    const dir = join(work, 'memory');
    const plan = memoryPlan(opts.memoryCount);
    const world = await openWorld(opts, base, dir, plan.count, opts.port + 2);
    const { input, truth } = await repeatedInput(world.ctx, plan.repeats);
    const note =
      plan.repeats > 1
        ? `The input is the ${plan.count}-domain portfolio ${plan.repeats} times (the memory run has always served at most 900 k generated domains). `
        : '';
    const setupS = (performance.now() - setup) / 1000;
    if (opts.memoryOnly) resolver = world.ctx.recursor;
    memory = await stepMemory({ ...world.ctx, truth }, setupS, input, note);
    await world.stop();
  }
  machine.servers = await toolVersions();

  const report: BenchReport = {
    machine,
    params: {
      count: opts.memoryOnly ? opts.memoryCount : opts.count,
      seed: opts.seed,
      resolver,
      concurrency: opts.concurrency,
      dnsClient: opts.dnsClient,
      querySample: opts.sample,
    },
    floorDomainsPerS: main.floor,
    steps: main.steps,
    memory,
    totalS: (performance.now() - t0) / 1000,
    notes: main.steps.length
      ? [...main.notes, ...reportNotes(main.floor, opts.dnsClient)]
      : [],
  };
  await writeReport(report, opts);
  const wrong = main.steps.some((s) => s.ok === false) || memory?.ok === false;
  const failed = main.steps.some((s) => s.note.startsWith('failed'));
  if (wrong) log('SOME RESULTS ARE WRONG: see the "correct" column');
  return wrong || failed ? 1 : 0;
}

function reportNotes(floor: number | null, client: DnsClient): string[] {
  return [
    `Every exoscope step runs with --dns-client ${client} unless its name says otherwise.`,
    `× floor = domains/s ÷ ${floor ? Math.round(floor) : '?'}, the mean of dns-floor's before/after medians (same server, same run).`,
    'q/domain of the exoscope rows: queries that reached the resolver, from the JSONL sample; DNS q/s = domains/s × q/domain.',
    'CPU µs/domain: user + system CPU of the exoscope processes (GNU time), start-up included, ÷ domains; server CPU: Knot + Unbound during the step, with the part of Knot in brackets: the names Unbound had to ask again because they were not in its cache or had expired there (the negative TTL of the portfolio is 300 s, so a step that runs about 300 s after the same names were last fetched pays for refetching them). Peak RSS: max RSS of each process.',
    "Unbound caches: after the first dns-floor run every step meets a warm recursor for the query plan's names (like a second scan of a portfolio).",
  ];
}

async function writeReport(
  report: BenchReport,
  opts: BenchOptions,
): Promise<void> {
  const text = renderReport(report);
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, text);
  process.stdout.write(
    opts.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${text}`,
  );
  log(
    `table written to ${opts.out}; whole run ${formatDuration(report.totalS)}`,
  );
}

async function main(): Promise<void> {
  let opts: BenchOptions | null;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (!opts) {
    process.stdout.write(HELP);
    return;
  }
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping the children and the DNS servers`);
    killLiveChildren('SIGTERM');
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.exitCode = await run(opts);
  } catch (err) {
    log(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    if (!interrupted) await cleanup();
  }
}

await main();
