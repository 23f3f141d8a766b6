/**
 * The benchmark's report: its data shape (also the `--json` output) and its
 * rendering as one plain-text table that is also Markdown. Pure.
 */

/** One line of the table: a step of the run. */
export interface StepRow {
  step: string;
  /** Domains the step handled (null: not a per-domain step, e.g. dnsperf). */
  domains: number | null;
  wallS: number | null;
  domainsPerS: number | null;
  /** DNS queries per second that reached the resolver. */
  qps: number | null;
  queriesPerDomain: number | null;
  cpuUsPerDomain: number | null;
  /** CPU of the DNS servers (Knot + Unbound) during the step, per domain. */
  serverCpuUsPerDomain: number | null;
  /**
   * Knot's part of it: the names Unbound asked upstream during the step
   * because they were not in its cache or had expired there.
   */
  authCpuUsPerDomain: number | null;
  /** Peak RSS per process, in MB (e.g. `{ scan: 210 }` or `{ w1: 190, w2: 185 }`). */
  peakRssMb: Record<string, number | null>;
  redisPeakMb: number | null;
  /** domains/s ÷ the floor's (mean of the before and after medians). */
  floorRatio: number | null;
  /**
   * The machine's CPU time stolen by the hypervisor during the step, in % of
   * all its CPU time (/proc/stat): above a few %, the step ran slower than
   * the machine can, and its ratios to the floor are less sure.
   */
  stealPct: number | null;
  /** `N/N (100.00 %)`, or null when the step has no output to check. */
  correct: string | null;
  /** Every row present and right (null: not checked). */
  ok: boolean | null;
  /** Why the step has no figures, or what else to know. */
  note: string;
}

/** RSS of the one-process scan at a number of output rows. */
export interface MemoryPoint {
  rows: number;
  rssMb: number | null;
  atS: number;
}

export interface MemoryRun {
  domains: number;
  wallS: number;
  domainsPerS: number;
  cpuUsPerDomain: number | null;
  peakRssMb: number | null;
  points: MemoryPoint[];
  correct: string | null;
  ok: boolean | null;
  /** Time to generate and serve the 1 M portfolio, before the scan. */
  setupS: number;
  note: string;
}

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  memTotalMb: number | null;
  /** 1-minute load average when the run started (other work on the machine). */
  loadAvg: number | null;
  node: string;
  cares: string;
  servers: string;
  /** The commit of exoscope measured (`git describe --always --dirty`), or 'unknown'. */
  commit: string;
}

export interface BenchReport {
  machine: Machine;
  params: {
    count: number;
    seed: number;
    resolver: string;
    concurrency: number | null;
    /** exoscope's --dns-client in its steps. */
    dnsClient: string;
    querySample: number;
  };
  /** Mean of the floor's before/after domains/s: the ratio's denominator. */
  floorDomainsPerS: number | null;
  steps: StepRow[];
  memory: MemoryRun | null;
  totalS: number;
  notes: string[];
}

const HEAD = [
  'step',
  'domains',
  'wall s',
  'domains/s',
  'DNS q/s',
  'q/domain',
  'CPU µs/domain',
  'server CPU µs/domain (Knot)',
  'peak RSS MB',
  'Redis peak MB',
  '× floor',
  'CPU steal %',
  'correct',
] as const;

/** The report as text: a heading block, the table, the memory run, notes. */
export function renderReport(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [
    `## exoscope benchmark — ${m.date}`,
    '',
    `Commit ${m.commit}. Machine: ${m.nproc} × ${m.cpu}${m.memTotalMb ? `, ${Math.round(m.memTotalMb / 1024)} GB RAM` : ''}${m.loadAvg === null ? '' : `, load ${m.loadAvg.toFixed(2)} at start`}; Node ${m.node}, c-ares ${m.cares}; ${m.servers}`,
    `Portfolio: ${r.params.count} domains, seed ${r.params.seed}; resolver ${r.params.resolver} (Unbound in front of Knot); exoscope --dns-client ${r.params.dnsClient}${r.params.concurrency ? ` --concurrency ${r.params.concurrency}` : ''}`,
  ];
  if (r.steps.length) out.push('', ...renderTable(r.steps));
  if (r.memory) out.push('', ...renderMemory(r.memory));
  out.push('', `Whole run: ${formatDuration(r.totalS)}.`);
  if (r.notes.length) {
    out.push('', ...r.notes.map((n) => `- ${n}`));
  }
  return `${out.join('\n')}\n`;
}

/** Knot + Unbound CPU per domain, with Knot's part in brackets. */
function serverCell(s: StepRow): string {
  const total = int(s.serverCpuUsPerDomain);
  return s.authCpuUsPerDomain === null
    ? total
    : `${total} (${int(s.authCpuUsPerDomain)})`;
}

/** The steps as an aligned Markdown table. */
export function renderTable(steps: readonly StepRow[]): string[] {
  const rows = steps.map((s) => [
    s.step,
    s.domains === null ? '—' : String(s.domains),
    fixed(s.wallS, 1),
    int(s.domainsPerS),
    int(s.qps),
    fixed(s.queriesPerDomain, 2),
    int(s.cpuUsPerDomain),
    serverCell(s),
    rssCell(s.peakRssMb),
    fixed(s.redisPeakMb, 1),
    fixed(s.floorRatio, 2),
    fixed(s.stealPct, 0),
    s.correct === null
      ? '—'
      : s.ok === false
        ? `**WRONG** ${s.correct}`
        : s.correct,
  ]);
  const lines = alignedTable([...HEAD], rows);
  const notes = steps.filter((s) => s.note);
  if (notes.length) {
    lines.push('');
    for (const s of notes) lines.push(`- ${s.step}: ${s.note}`);
  }
  return lines;
}

function renderMemory(mem: MemoryRun): string[] {
  const rows = mem.points.map((p) => [
    String(p.rows),
    fixed(p.rssMb, 0),
    fixed(p.atS, 1),
  ]);
  return [
    `Memory run: ${mem.domains} domains in one process, ${formatDuration(mem.wallS)} (${int(mem.domainsPerS)} domains/s, ${int(mem.cpuUsPerDomain)} µs CPU/domain), peak RSS ${fixed(mem.peakRssMb, 0)} MB, ${mem.correct === null ? 'not checked' : mem.ok === false ? `**WRONG** ${mem.correct}` : `correct: ${mem.correct}`}; portfolio generation and server start took ${formatDuration(mem.setupS)} more.${mem.note ? ` ${mem.note}` : ''}`,
    '',
    ...alignedTable(['rows written', 'RSS MB', 'at s'], rows),
  ];
}

/** A Markdown table whose columns line up in plain text too. */
export function alignedTable(head: string[], rows: string[][]): string[] {
  const width = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(width[i] ?? 0)).join(' | ')} |`;
  return [
    line(head),
    `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ];
}

function rssCell(rss: Record<string, number | null>): string {
  const entries = Object.entries(rss);
  if (entries.length === 0) return '—';
  if (entries.length === 1) return fixed(entries[0]?.[1] ?? null, 0);
  return entries.map(([k, v]) => `${k} ${fixed(v, 0)}`).join(', ');
}

function fixed(n: number | null, digits: number): string {
  return n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}

function int(n: number | null): string {
  return fixed(n, 0);
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}

/**
 * One row for a step run several times: a run that failed or was not 100 %
 * correct if there is one (a fast wrong result does not count), else the
 * run with the median domains/s (the lower of the two middle ones for an
 * even count), its note saying so and listing every run's rate.
 */
export function medianRow(runs: readonly StepRow[]): StepRow {
  const first = runs[0];
  if (!first) throw new RangeError('medianRow: no runs');
  if (runs.length === 1) return first;
  const rates = runs.map((r) => r.domainsPerS);
  const bad = runs.findIndex((r) => r.ok === false || r.domainsPerS === null);
  const pick =
    bad >= 0
      ? bad
      : runs
          .map((_r, i) => i)
          .sort((a, b) => (rates[a] as number) - (rates[b] as number) || a - b)[
          Math.floor((runs.length - 1) / 2)
        ];
  const row = runs[pick as number] as StepRow;
  const list = rates
    .map((r) => (r === null ? 'failed' : Math.round(r)))
    .join(', ');
  const steal = runs.some((r) => r.stealPct !== null)
    ? `; CPU steal of the runs: ${runs.map((r) => (r.stealPct === null ? '?' : Math.round(r.stealPct))).join(', ')} %`
    : '';
  const why =
    (bad >= 0
      ? `run ${bad + 1} of ${runs.length} shown: it failed or was wrong (domains/s of the runs: ${list})`
      : `median of ${runs.length} runs by domains/s (${list}); the other figures are that run's`) +
    steal;
  return { ...row, note: row.note ? `${row.note}; ${why}` : why };
}

/**
 * Step `a`'s domains/s over step `b`'s, round by round (runs of the same
 * round ran minutes apart, so the drift of the machine's speed touches both
 * alike), with their median; a round where either run failed or was wrong
 * has no ratio. Null when no round has one.
 */
export function pairedRatios(
  a: readonly StepRow[],
  b: readonly StepRow[],
): { ratios: (number | null)[]; median: number } | null {
  const ratios = a.map((run, i) => {
    const other = b[i];
    const ok = (
      r: StepRow | undefined,
    ): r is StepRow & { domainsPerS: number } =>
      r !== undefined &&
      r.ok !== false &&
      r.domainsPerS !== null &&
      r.domainsPerS > 0;
    return ok(run) && ok(other) ? run.domainsPerS / other.domainsPerS : null;
  });
  const known = ratios
    .filter((r): r is number => r !== null)
    .sort((x, y) => x - y);
  if (known.length === 0) return null;
  const mid = Math.floor(known.length / 2);
  const median =
    known.length % 2 === 1
      ? (known[mid] as number)
      : ((known[mid - 1] as number) + (known[mid] as number)) / 2;
  return { ratios, median };
}

/** The order of `steps` warm steps in round `round` (from 0): each round starts one step later. */
export function roundOrder(steps: number, round: number): number[] {
  return Array.from({ length: steps }, (_, i) => (i + round) % steps);
}
