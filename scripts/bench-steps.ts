/**
 * The benchmark's steps on one server: dns-floor, dnsperf, exoscope's
 * start-up, the JSONL query-count sample, `scan` in one process and in two
 * concurrent halves. Each returns a table row; a failure is a row with a
 * note, never an exception that ends the run.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse';
import {
  TruthCheck,
  allCorrect,
  countQueries,
  formatTruth,
  parseDnsperf,
  parseFloorSummary,
} from './bench-parse.js';
import type { FloorSummary, QuerySample, TruthResult } from './bench-parse.js';
import { log } from './bench-fixture.js';
import {
  ensureDebianPackage,
  lastLine,
  runMeasured,
  runText,
} from './bench-proc.js';
import type { Measurement, MeasuredProcess, ServerCpu } from './bench-proc.js';
import type { StepRow } from './bench-table.js';
import type { DnsClient } from '../src/run/dns-layout.js';

/** What every step needs: the tools, the server, the data. */
export interface Ctx {
  /** exoscope's CLI entry (dist/src/cli/main.js). */
  cli: string;
  /** Portfolio directory (domains.csv, ground-truth.csv, queries.txt). */
  data: string;
  /** Where outputs and scratch files go. */
  scratch: string;
  recursor: string;
  recursorPort: number;
  /** CPU seconds of Knot + Unbound so far, and of Knot. */
  serverCpuS(): ServerCpu | null;
  timeBin: string | null;
  /** `--concurrency` for exoscope, when the benchmark was given one. */
  concurrency: number | null;
  /** exoscope's `--dns-client`. */
  dnsClient: DnsClient;
  truth: Array<[string, string]>;
  /** Queries per domain from the JSONL sample, once known. */
  queries: QuerySample | null;
}

/** The DNS floor's script, built beside this one. */
const FLOOR = fileURLToPath(new URL('./dns-floor.js', import.meta.url));

// ------------------------------------------------------------------ helpers

let timeFiles = 0;

/** Runs `node <args>` under GNU time, sampling /proc. */
export function measure(
  ctx: Ctx,
  args: readonly string[],
  extra: { stdout?: 'pipe'; onStderr?: (chunk: string) => void } = {},
): MeasuredProcess {
  return runMeasured(process.execPath, args, {
    timeBin: ctx.timeBin,
    timeFile: join(ctx.scratch, `time-${process.pid}-${++timeFiles}.txt`),
    ...extra,
  });
}

/** `exoscope scan <input>` against the recursor, quiet, to `output` (or stdout). */
export function scanArgs(
  ctx: Ctx,
  input: string,
  output: string | null,
  ...extra: string[]
): string[] {
  const out = output ? ['-o', output, '--force'] : [];
  return [ctx.cli, 'scan', input, '--resolver', ctx.recursor, ...out, '-q']
    .concat(clientArgs(ctx))
    .concat(extra);
}

/** exoscope's `--dns-client` and `--concurrency` of this benchmark. */
export function clientArgs(ctx: Ctx): string[] {
  const args = ['--dns-client', ctx.dnsClient];
  if (ctx.concurrency !== null) {
    args.push('--concurrency', String(ctx.concurrency));
  }
  return args;
}

/** CPU seconds Knot + Unbound (and Knot) spend from now until the returned function is called. */
export function serverMeter(ctx: Ctx): () => ServerCpu | null {
  const start = ctx.serverCpuS();
  return () => {
    const end = ctx.serverCpuS();
    return start === null || end === null
      ? null
      : { total: end.total - start.total, auth: end.auth - start.auth };
  };
}

/** The servers' CPU of a step as the row's per-domain figures. */
function serverPerDomain(
  cpu: ServerCpu | null,
  domains: number,
): Pick<StepRow, 'serverCpuUsPerDomain' | 'authCpuUsPerDomain'> {
  return {
    serverCpuUsPerDomain: perDomainUs(cpu?.total ?? null, domains),
    authCpuUsPerDomain: perDomainUs(cpu?.auth ?? null, domains),
  };
}

/** Throws with the end of stderr when a process failed. */
export function mustSucceed(what: string, m: Measurement): void {
  if (m.code !== 0) {
    const why = lastLine(m.stderrTail) || '(no message)';
    throw new Error(`${what} exited ${m.code ?? m.signal}: ${why}`);
  }
}

export const mb = (kb: number | null | undefined): number | null =>
  kb === null || kb === undefined ? null : kb / 1024;

/** Checks CSV outputs, concatenated in order, against the ground truth. */
export async function checkCsv(
  files: readonly string[],
  truth: ReadonlyArray<readonly [string, string]>,
): Promise<TruthResult> {
  const check = new TruthCheck(truth);
  for (const file of files) {
    const parser = createReadStream(file).pipe(parseCsv({ columns: true }));
    for await (const row of parser as AsyncIterable<Record<string, string>>) {
      const why = `${row.reasons ?? ''}; ${row.status ?? ''} ${row.error ?? ''}`;
      check.add(row.domain ?? '', row.classification ?? '', why.trim());
    }
  }
  return check.result();
}

/** Prints the check and, when anything is wrong, says so loudly. */
export function reportTruth(step: string, r: TruthResult): void {
  log(`${step}: ${formatTruth(r)}`);
  if (allCorrect(r)) return;
  const bar = '!'.repeat(72);
  const wrong = r.expected - r.correct;
  process.stderr.write(
    `${bar}\n!!! WRONG RESULTS in "${step}": ${wrong} of ${r.expected} rows differ from ground-truth.csv\n` +
      r.examples.map((e) => `!!!   ${e}\n`).join('') +
      `${bar}\n`,
  );
}

/** Rows [start, end) of a CSV, with its header, into a new file. */
export async function writeCsvSlice(
  from: string,
  to: string,
  start: number,
  end: number,
): Promise<void> {
  const out = createWriteStream(to);
  const input = createReadStream(from);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let i = -1; // the header
  for await (const line of lines) {
    if (i === -1 || i >= start) {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
    if (++i >= end) break;
  }
  lines.close();
  input.destroy();
  out.end();
  await once(out, 'finish');
}

/** The figures of one exoscope run (or of processes that ran together). */
export interface ScanFigures {
  step: string;
  domains: number;
  wallS: number;
  cpuS: number | null;
  serverCpuS: ServerCpu | null;
  rssMb: Record<string, number | null>;
  truth: TruthResult;
  /** What exoscope's processes wrote on stderr (their tails), for notices. */
  stderr?: readonly string[];
}

/**
 * exoscope's notices of a resolver moved from TCP to UDP (`--dns-client
 * auto`), for the row's note: a step that says so measured UDP, not TCP.
 */
export function transportNote(stderr: readonly string[]): string {
  const lines = new Set<string>();
  for (const text of stderr) {
    for (const line of text.split('\n')) {
      if (line.includes('asking it over UDP')) {
        lines.add(line.replace(/^exoscope[^:]*: /, '').trim());
      }
    }
  }
  return lines.size > 0
    ? `exoscope moved a resolver to UDP: ${[...lines].join('; ')}`
    : '';
}

/** Notes of a row, in order, the empty ones left out. */
export function joinNotes(...notes: string[]): string {
  return notes.filter(Boolean).join('; ');
}

/** A table row from exoscope's figures; q/s from the JSONL sample's queries/domain. */
export function scanRow(ctx: Ctx, f: ScanFigures): StepRow {
  const perDomain = ctx.queries
    ? ctx.queries.distinct / ctx.queries.rows
    : null;
  const dps = f.domains / f.wallS;
  return {
    ...emptyRow(f.step, f.domains, transportNote(f.stderr ?? [])),
    wallS: f.wallS,
    domainsPerS: dps,
    qps: perDomain === null ? null : dps * perDomain,
    queriesPerDomain: perDomain,
    cpuUsPerDomain: perDomainUs(f.cpuS, f.domains),
    ...serverPerDomain(f.serverCpuS, f.domains),
    peakRssMb: f.rssMb,
    correct: formatTruth(f.truth).replace(/^correct: /, ''),
    ok: allCorrect(f.truth),
  };
}

/** A row without figures: a skipped or failed step (the note says which). */
export function emptyRow(
  step: string,
  domains: number | null,
  note: string,
): StepRow {
  return {
    step,
    domains,
    wallS: null,
    domainsPerS: null,
    qps: null,
    queriesPerDomain: null,
    cpuUsPerDomain: null,
    serverCpuUsPerDomain: null,
    authCpuUsPerDomain: null,
    peakRssMb: {},
    redisPeakMb: null,
    floorRatio: null,
    stealPct: null,
    correct: null,
    ok: null,
    note,
  };
}

export function failedRow(
  step: string,
  domains: number,
  err: unknown,
): StepRow {
  const message = err instanceof Error ? err.message : String(err);
  log(`${step}: FAILED: ${message}`);
  return emptyRow(step, domains, `failed: ${message}`);
}

function perDomainUs(seconds: number | null, domains: number): number | null {
  return seconds === null || domains === 0 ? null : (seconds * 1e6) / domains;
}

// ------------------------------------------------------------------ steps

/** dns-floor: the query plan through node:dns with no work on the answers. */
export async function stepFloor(
  ctx: Ctx,
  when: string,
  runs: number,
): Promise<{ row: StepRow; floor: FloorSummary | null }> {
  const step = `dns-floor (${when})`;
  const domains = ctx.truth.length;
  log(`${step}: ${runs} runs against ${ctx.recursor}`);
  const args = [FLOOR, '--server', ctx.recursor];
  args.push('--data', ctx.data, '--runs', String(runs));
  const server = serverMeter(ctx);
  const p = measure(ctx, args, { stdout: 'pipe' });
  let stdout = '';
  p.child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const m = await p.done;
  const serverS = server();
  try {
    mustSucceed('dns-floor', m);
    const f = parseFloorSummary(stdout);
    log(
      `${step}: ${f.domainsPerS} domains/s, ${f.qps} q/s, ${f.cpuUsPerQuery} µs CPU/query`,
    );
    const row: StepRow = {
      ...emptyRow(step, domains, `median of ${runs} runs; wall s of one run`),
      wallS: f.wallS,
      domainsPerS: f.domainsPerS,
      qps: f.qps,
      queriesPerDomain: f.queriesPerDomain,
      cpuUsPerDomain: f.cpuUsPerQuery * f.queriesPerDomain,
      ...serverPerDomain(serverS, domains * runs),
      peakRssMb: { floor: mb(m.peakRssKb) },
    };
    return { floor: f, row };
  } catch (err) {
    return { floor: null, row: failedRow(step, domains, err) };
  }
}

/** dnsperf replaying queries.txt: the recursor's ceiling, for context. */
export async function stepDnsperf(
  ctx: Ctx,
  o: { seconds: number; clients: number; maxQps: number },
): Promise<StepRow> {
  const step = 'dnsperf (server ceiling)';
  if (!(await ensureDebianPackage('dnsperf', 'dnsperf', log))) {
    log('dnsperf: n/a (not installed, and apt-get could not install it)');
    return emptyRow(step, null, 'n/a: dnsperf could not be installed');
  }
  const queries = join(ctx.data, 'queries.txt');
  const args = ['-s', '127.0.0.1', '-p', String(ctx.recursorPort)];
  args.push('-d', queries, '-l', String(o.seconds), '-c', String(o.clients));
  if (o.maxQps > 0) args.push('-Q', String(o.maxQps));
  log(`dnsperf ${args.join(' ')}`);
  const server = serverMeter(ctx);
  const timeoutMs = (o.seconds + 60) * 1000;
  const r = await runText('dnsperf', args, { timeoutMs });
  const serverS = server();
  const d = parseDnsperf(r.stdout);
  if (!d) {
    const why = lastLine(r.stderr) || 'no "Queries per second" line';
    log(`dnsperf: n/a (${why})`);
    return emptyRow(step, null, `n/a: ${why}`);
  }
  const plan = (await countLines(queries)) / ctx.truth.length;
  const answered = d.completed ?? d.qps * o.seconds;
  log(`dnsperf: ${Math.round(d.qps)} q/s (${d.lost ?? '?'} lost)`);
  const cap = o.maxQps ? ` -Q ${o.maxQps}` : '';
  return {
    ...emptyRow(
      step,
      null,
      `queries.txt replayed for ${o.seconds} s, -c ${o.clients}${cap}; ${answered} answered, ${d.lost ?? '?'} lost; domains/s = q/s ÷ the plan's q/domain`,
    ),
    wallS: o.seconds,
    qps: d.qps,
    queriesPerDomain: plan,
    domainsPerS: d.qps / plan,
    ...serverPerDomain(serverS, answered / plan),
  };
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    for (const byte of chunk as Buffer) if (byte === 10) n++;
  }
  return n;
}

/** exoscope on 10 domains: what start-up (ASN table, preflight) costs every run. */
export async function stepStartup(ctx: Ctx): Promise<string> {
  const input = join(ctx.scratch, 'startup.csv');
  await writeCsvSlice(join(ctx.data, 'domains.csv'), input, 0, 10);
  const output = join(ctx.scratch, 'startup.csv.out');
  const m = await measure(ctx, scanArgs(ctx, input, output)).done;
  if (m.code !== 0)
    return `exoscope start-up: failed (${lastLine(m.stderrTail)})`;
  const rss = mb(m.peakRssKb)?.toFixed(0) ?? '?';
  return `exoscope start-up (a scan of 10 domains): ${m.wallS.toFixed(2)} s wall, ${m.cpuS?.toFixed(2) ?? '?'} s CPU, ${rss} MB peak RSS — included in every exoscope row.`;
}

/** A JSONL scan of the first `n` domains: queries per domain, from the evidence. */
export async function stepQuerySample(ctx: Ctx, n: number): Promise<StepRow> {
  const step = `scan --format jsonl, ${n} (query count)`;
  const input = join(ctx.scratch, 'sample.csv');
  const output = join(ctx.scratch, 'sample.jsonl');
  await writeCsvSlice(join(ctx.data, 'domains.csv'), input, 0, n);
  log(step);
  const server = serverMeter(ctx);
  const m = await measure(ctx, scanArgs(ctx, input, output, '-f', 'jsonl'))
    .done;
  const serverCpuS = server();
  try {
    mustSucceed('exoscope scan --format jsonl', m);
    const lines = (await readFile(output, 'utf8')).split('\n').filter(Boolean);
    const q = countQueries(lines);
    ctx.queries = q;
    const check = new TruthCheck(ctx.truth.slice(0, n));
    for (const line of lines) {
      const row = JSON.parse(line) as {
        input?: { domain?: string };
        classification?: string;
        reasons?: string[];
        status?: string;
      };
      const why = `${(row.reasons ?? []).join(';')}; ${row.status ?? ''}`;
      check.add(row.input?.domain ?? '', row.classification ?? '', why);
    }
    const truth = check.result();
    reportTruth(step, truth);
    const used = (q.asked / q.rows).toFixed(2);
    log(
      `${step}: ${(q.distinct / q.rows).toFixed(2)} queries/domain sent, ${used} used (cache hits included)`,
    );
    const rssMb = { scan: mb(m.peakRssKb) };
    const figures = {
      step,
      domains: n,
      wallS: m.wallS,
      cpuS: m.cpuS,
      serverCpuS,
      rssMb,
      truth,
    };
    return {
      ...scanRow(ctx, figures),
      note: `q/domain = distinct (type, name) pairs of evidence.queries over the sample (${used} per domain with the answers shared through exoscope's cache); used for the q/s of every exoscope row`,
    };
  } catch (err) {
    return failedRow(step, n, err);
  }
}

/** `exoscope scan` on the whole portfolio in one process. */
export async function stepScanOne(
  ctx: Ctx,
  threads = 1,
  label = '',
): Promise<StepRow> {
  const step =
    (threads === 1
      ? 'scan, 1 process'
      : `scan, 1 process, --threads ${threads}`) + label;
  const domains = ctx.truth.length;
  const output = join(ctx.scratch, `scan-1-t${threads}.csv`);
  log(`${step}: ${domains} domains`);
  const server = serverMeter(ctx);
  const input = join(ctx.data, 'domains.csv');
  const extra = threads === 1 ? [] : ['--threads', String(threads)];
  const m = await measure(ctx, scanArgs(ctx, input, output, ...extra)).done;
  const serverCpuS = server();
  try {
    mustSucceed('exoscope scan', m);
    const truth = await checkCsv([output], ctx.truth);
    reportTruth(step, truth);
    const rssMb = { scan: mb(m.peakRssKb) };
    const row = scanRow(ctx, {
      step,
      domains,
      wallS: m.wallS,
      cpuS: m.cpuS,
      serverCpuS,
      rssMb,
      truth,
      stderr: [m.stderrTail],
    });
    log(
      `${step}: ${Math.round(row.domainsPerS ?? 0)} domains/s, ${Math.round(row.cpuUsPerDomain ?? 0)} µs CPU/domain`,
    );
    return row;
  } catch (err) {
    return failedRow(step, domains, err);
  }
}

/** Two `exoscope scan` processes on the two halves of the input at once. */
export async function stepScanSplit(ctx: Ctx): Promise<StepRow> {
  const step = 'scan, 2 processes (halves)';
  const domains = ctx.truth.length;
  const half = Math.ceil(domains / 2);
  const parts = [
    { name: 'p1', start: 0, end: half },
    { name: 'p2', start: half, end: domains },
  ].map((p) => ({
    ...p,
    input: join(ctx.scratch, `half-${p.name}.csv`),
    output: join(ctx.scratch, `scan-half-${p.name}.csv`),
  }));
  for (const p of parts) {
    await writeCsvSlice(join(ctx.data, 'domains.csv'), p.input, p.start, p.end);
  }
  log(`${step}: ${half} + ${domains - half} domains`);
  const server = serverMeter(ctx);
  const started = performance.now();
  const ms = await Promise.all(
    parts.map((p) => measure(ctx, scanArgs(ctx, p.input, p.output)).done),
  );
  const wallS = (performance.now() - started) / 1000;
  const serverCpuS = server();
  try {
    ms.forEach((m, i) => mustSucceed(`exoscope scan (half ${i + 1})`, m));
    const truth = await checkCsv(
      parts.map((p) => p.output),
      ctx.truth,
    );
    reportTruth(step, truth);
    const cpuS = sumCpu(ms);
    const rssMb = { p1: mb(ms[0]?.peakRssKb), p2: mb(ms[1]?.peakRssKb) };
    const row = scanRow(ctx, {
      step,
      domains,
      wallS,
      cpuS,
      serverCpuS,
      rssMb,
      truth,
      stderr: ms.map((m) => m.stderrTail),
    });
    log(`${step}: ${Math.round(row.domainsPerS ?? 0)} domains/s combined`);
    const took = ms.map((m) => m.wallS.toFixed(1)).join(' s and ');
    return {
      ...row,
      note: joinNotes(
        `halves took ${took} s; domains/s = all domains ÷ time until both finished`,
        row.note,
      ),
    };
  } catch (err) {
    return failedRow(step, domains, err);
  }
}

/** Total CPU of processes, null when one is unknown. */
export function sumCpu(ms: readonly Measurement[]): number | null {
  return ms.every((m) => m.cpuS !== null)
    ? ms.reduce((s, m) => s + (m.cpuS ?? 0), 0)
    : null;
}
