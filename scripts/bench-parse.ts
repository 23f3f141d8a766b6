/**
 * Pure parsers of what the benchmark's tools print: dns-floor's summary line,
 * dnsperf's report, /proc status and stat files, GNU time's line, Redis INFO,
 * exoscope's JSONL evidence, and the row-by-row check against ground truth.
 * No I/O here: `bench.ts` reads, these interpret (tested in
 * test/unit/bench-parse.test.ts).
 */

/** A benchmark input that cannot be read: the step is reported as failed. */
export class BenchParseError extends Error {
  override readonly name = 'BenchParseError';
  readonly code = 'EXO_BENCH_PARSE';
}

/** The medians dns-floor prints on its last line (`"summary":"median"`). */
export interface FloorSummary {
  domainsPerS: number;
  qps: number;
  cpuUsPerQuery: number;
  queriesPerDomain: number;
  wallS: number;
  queries: number;
}

/** Reads dns-floor's summary JSON line (the last line with `"summary"`). */
export function parseFloorSummary(stdout: string): FloorSummary {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.includes('"summary"'));
  if (!line) throw new BenchParseError('dns-floor printed no summary line');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new BenchParseError(`dns-floor summary is not JSON: ${line}`);
  }
  const num = (key: string): number => {
    const v = raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new BenchParseError(`dns-floor summary has no number '${key}'`);
    }
    return v;
  };
  return {
    domainsPerS: num('domains_per_s'),
    qps: num('qps'),
    cpuUsPerQuery: num('cpu_us_per_query'),
    queriesPerDomain: num('queries_per_domain'),
    wallS: num('wall_s'),
    queries: num('queries'),
  };
}

/** The figures of dnsperf's "Statistics:" block. */
export interface DnsperfResult {
  qps: number;
  sent: number | null;
  completed: number | null;
  lost: number | null;
  /** Mean latency in seconds, when printed. */
  avgLatencyS: number | null;
}

/** Reads dnsperf's report; null when it has no "Queries per second" line. */
export function parseDnsperf(stdout: string): DnsperfResult | null {
  const qps = firstNumber(stdout, /Queries per second:\s+([\d.]+)/);
  if (qps === null) return null;
  return {
    qps,
    sent: firstNumber(stdout, /Queries sent:\s+(\d+)/),
    completed: firstNumber(stdout, /Queries completed:\s+(\d+)/),
    lost: firstNumber(stdout, /Queries lost:\s+(\d+)/),
    avgLatencyS: firstNumber(stdout, /Average Latency \(s\):\s+([\d.]+)/),
  };
}

/** Resident set now and its peak (high-water mark) from /proc/<pid>/status, in KiB. */
export interface ProcMemory {
  rssKb: number | null;
  hwmKb: number | null;
}

export function parseProcStatus(text: string): ProcMemory {
  return {
    rssKb: firstNumber(text, /^VmRSS:\s+(\d+)\s+kB/m),
    hwmKb: firstNumber(text, /^VmHWM:\s+(\d+)\s+kB/m),
  };
}

/**
 * User + system CPU seconds from /proc/<pid>/stat (fields 14 and 15, in
 * clock ticks). The command name (field 2) may hold spaces and parentheses,
 * so fields are counted from the last `)`.
 */
export function parseProcStat(text: string, ticksPerSecond = 100): number {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new BenchParseError('not a /proc/<pid>/stat line');
  // after ") ": field 3 (state) is index 0, so field n is index n - 3
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new BenchParseError('no utime/stime in /proc/<pid>/stat');
  }
  return (utime + stime) / ticksPerSecond;
}

/** The machine's CPU time in clock ticks, from the `cpu` line of /proc/stat. */
export interface CpuTicks {
  /** Every state: user, nice, system, idle, iowait, irq, softirq, steal. */
  total: number;
  steal: number;
}

/**
 * Reads the first (all CPUs) line of /proc/stat. Guest time is already in
 * user and nice, so it is not added again.
 */
export function parseCpuTicks(text: string): CpuTicks {
  const line = /^cpu\s+(.*)$/m.exec(text)?.[1];
  const fields = line?.trim().split(/\s+/).map(Number) ?? [];
  if (
    fields.length < 8 ||
    fields.slice(0, 8).some((n) => !Number.isFinite(n))
  ) {
    throw new BenchParseError('no cpu line of 8 numbers in /proc/stat');
  }
  const eight = fields.slice(0, 8);
  return { total: eight.reduce((a, b) => a + b, 0), steal: eight[7] as number };
}

/** Steal in % of the CPU time between two readings; null when none passed. */
export function stealPercent(before: CpuTicks, after: CpuTicks): number | null {
  const total = after.total - before.total;
  return total > 0 ? (100 * (after.steal - before.steal)) / total : null;
}

/** The `-f` format the benchmark gives GNU time (`-o` file), and its parse. */
export const TIME_FORMAT = 'EXOBENCH %U %S %M';

export interface TimeResult {
  userS: number;
  sysS: number;
  maxRssKb: number;
}

/**
 * Reads the line written with {@link TIME_FORMAT}. GNU time may put "Command
 * exited with non-zero status" or "Command terminated by signal" before it.
 */
export function parseTimeOutput(text: string): TimeResult | null {
  const m = /^EXOBENCH ([\d.]+) ([\d.]+) (\d+)\s*$/m.exec(text);
  if (!m) return null;
  return {
    userS: Number(m[1]),
    sysS: Number(m[2]),
    maxRssKb: Number(m[3]),
  };
}

/** A field of Redis INFO (`key:value` lines), as a number; null when absent. */
export function redisInfoNumber(info: string, key: string): number | null {
  const m = new RegExp(`^${key}:([\\d.]+)\\s*$`, 'm').exec(info);
  return m ? Number(m[1]) : null;
}

/** How many DNS queries the rows of a JSONL sample made. */
export interface QuerySample {
  rows: number;
  /** Sum of `evidence.queries` lengths: every answer a scan used, cache hits included. */
  asked: number;
  /** Distinct `TYPE name` pairs: what went to the network (the cache asks each once). */
  distinct: number;
}

/**
 * Counts queries in exoscope's `--format jsonl` lines. `evidence.queries`
 * lists every answer a domain's scan used, including ones shared through the
 * run's answer cache, so the distinct (type, name) pairs over the sample are
 * the queries that reached the resolver (retries not counted).
 */
export function countQueries(lines: Iterable<string>): QuerySample {
  const seen = new Set<string>();
  let rows = 0;
  let asked = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as {
      evidence?: { queries?: { name?: unknown; type?: unknown }[] } | null;
    };
    rows++;
    for (const q of row.evidence?.queries ?? []) {
      asked++;
      seen.add(`${String(q.type)} ${String(q.name).toLowerCase()}`);
    }
  }
  return { rows, asked, distinct: seen.size };
}

/** `ground-truth.csv` (`domain,expected_class`, no quoting) as pairs, in order. */
export function parseGroundTruth(text: string): Array<[string, string]> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== 'domain,expected_class') {
    throw new BenchParseError(
      `ground-truth.csv: unexpected header '${lines[0] ?? ''}'`,
    );
  }
  return lines.slice(1).map((line) => {
    const [domain = '', expected = ''] = line.trim().split(',');
    return [domain, expected];
  });
}

/** The outcome of checking a step's output against the ground truth. */
export interface TruthResult {
  expected: number;
  /** Output rows seen. */
  rows: number;
  correct: number;
  /** The first few differences, one line each. */
  examples: string[];
}

/**
 * Checks output rows, in input order, against the ground truth: the row's
 * domain must be the expected one and its classification the expected class.
 */
export class TruthCheck {
  private rows = 0;
  private correct = 0;
  private readonly examples: string[] = [];

  constructor(
    private readonly truth: ReadonlyArray<readonly [string, string]>,
    private readonly maxExamples = 10,
  ) {}

  add(domain: string, classification: string, detail = ''): void {
    const want = this.truth[this.rows];
    this.rows++;
    if (want && want[0] === domain && want[1] === classification) {
      this.correct++;
      return;
    }
    if (this.examples.length >= this.maxExamples) return;
    this.examples.push(
      want
        ? `row ${this.rows}: ${domain} is ${classification || '(empty)'}, expected ${want[0] === domain ? want[1] : `domain ${want[0]} (${want[1]})`}${detail ? ` — ${detail}` : ''}`
        : `row ${this.rows}: ${domain} is beyond the ${this.truth.length} expected rows`,
    );
  }

  result(): TruthResult {
    return {
      expected: this.truth.length,
      rows: this.rows,
      correct: this.correct,
      examples: [...this.examples],
    };
  }
}

/** Every expected row present and right. */
export function allCorrect(r: TruthResult): boolean {
  return r.rows === r.expected && r.correct === r.expected;
}

/** `correct: N/N (100.00 %)`, plus what is missing or extra. */
export function formatTruth(r: TruthResult): string {
  const pct = r.expected ? (100 * r.correct) / r.expected : 0;
  // 99.995 % would round to 100.00 %: never print 100 for a wrong result
  const shown = r.correct < r.expected ? Math.min(pct, 99.99) : pct;
  const extra =
    r.rows === r.expected
      ? ''
      : r.rows < r.expected
        ? ` (${r.expected - r.rows} rows missing)`
        : ` (${r.rows - r.expected} extra rows)`;
  return `correct: ${r.correct}/${r.expected} (${shown.toFixed(2)} %)${extra}`;
}

function firstNumber(text: string, re: RegExp): number | null {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}
