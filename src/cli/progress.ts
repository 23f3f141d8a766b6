import { duration } from '../core/duration.js';
import type { RowReport } from '../core/report.js';
import { escapeControls } from '../core/untrusted-text.js';

/** Counts of a run, for the progress line and the closing summary. */
export class RunStats {
  rows = 0;
  readonly byClass = new Map<string, number>();
  readonly byStatus = new Map<string, number>();
  readonly started: number;

  constructor(readonly now: () => number) {
    this.started = now();
  }

  add(r: RowReport): void {
    this.tally(r.verdict.classification, r.status);
  }

  /** Counts one row by its classification and status. */
  tally(classification: string, status: string): void {
    this.rows++;
    bump(this.byClass, classification);
    bump(this.byStatus, status);
  }

  seconds(): number {
    return Math.max((this.now() - this.started) / 1000, 0.001);
  }

  /** The closing summary, several lines, for stderr. */
  summary(
    extra: Omit<SummaryParts, 'rows' | 'seconds' | 'byClass' | 'byStatus'>,
  ): string {
    return summaryText({
      ...extra,
      rows: this.rows,
      seconds: this.seconds(),
      byClass: this.byClass,
      byStatus: this.byStatus,
    });
  }
}

/** What the closing summary of any run (scan, scan --redis, collect) tells. */
export interface SummaryParts {
  /** What was done: `scanned` (default), `collected scan q4`, ... */
  what?: string;
  rows: number;
  seconds: number;
  byClass: ReadonlyMap<string, number>;
  byStatus: ReadonlyMap<string, number>;
  skipped?: { blank: number; comment: number };
  interrupted?: boolean;
  output?: string;
  /** Rows that had more fields than the header. */
  extraFieldRows?: number;
  /** More lines, each shown indented. */
  notes?: readonly string[];
}

/** The closing summary, several lines, for stderr: the same for every command. */
export function summaryText(parts: SummaryParts): string {
  const s = Math.max(parts.seconds, 0.001);
  const what = parts.interrupted
    ? 'INTERRUPTED after'
    : (parts.what ?? 'scanned');
  const lines = [
    `exoscope: ${what} ${parts.rows} rows in ${s.toFixed(1)} s (${Math.round(parts.rows / s)} rows/s)${parts.output ? ` -> ${parts.output}` : ''}`,
    `  classification: ${format(parts.byClass)}`,
    `  status: ${format(parts.byStatus)}`,
  ];
  const skipped = parts.skipped;
  if (skipped && skipped.blank + skipped.comment > 0) {
    lines.push(
      `  skipped input lines: ${skipped.blank} blank, ${skipped.comment} comment`,
    );
  }
  const extraFields = extraFieldsNote(parts.extraFieldRows ?? 0);
  if (extraFields) lines.push(extraFields);
  for (const note of parts.notes ?? []) lines.push(`  ${note}`);
  // names in it (the output, a partial file) reach a terminal
  return `${lines.map(escapeControls).join('\n')}\n`;
}

/** The summary line counting rows with more fields than the header, if any. */
export function extraFieldsNote(rows: number): string | null {
  if (rows === 0) return null;
  return `  rows with more fields than the header: ${rows} (flag extra-fields; see their error column)`;
}

/**
 * `N of T rows (P %) · ETA …` when the total is known, else `N rows`. The
 * total is an estimate that may run high, never low: the ETA is `done` once
 * every row is in, and a count past it drops the total rather than show 104 %.
 */
export function progressOf(
  done: number,
  total: number | null,
  seconds: number,
): string {
  if (total === null || total <= 0 || done > total) return `${done} rows`;
  const pct = Math.floor((100 * done) / total);
  const rate = done / Math.max(seconds, 0.001);
  const eta = done > 0 ? Math.round((total - done) / rate) : null;
  return `${done} of ${total} rows (${pct} %)${eta === null ? '' : ` · ETA ${duration(eta)}`}`;
}

/**
 * Progress on stderr. On a terminal, one line redrawn at most 4 times a
 * second; elsewhere (a log file, CI, `--progress` into a pipe) a plain line
 * every 2 seconds, so the log holds no control sequences.
 */
export class ProgressLine {
  private last: number;
  private shown = false;
  private readonly terminal: boolean;
  /** Rows the input holds (an estimate, see {@link progressOf}); null: unknown. */
  total: number | null = null;

  constructor(
    private readonly stats: RunStats,
    private readonly out: NodeJS.WriteStream,
    private readonly enabled: boolean,
  ) {
    this.terminal = out.isTTY === true;
    // On a terminal the first line comes at once; in a log, after a while.
    this.last = this.terminal ? 0 : stats.started;
  }

  tick(): void {
    if (!this.enabled) return;
    const now = this.stats.now();
    if (now - this.last < (this.terminal ? 250 : 2000)) return;
    this.last = now;
    const s = this.stats.seconds();
    const unresolved = this.stats.byClass.get('unresolved') ?? 0;
    const text = `${progressOf(this.stats.rows, this.total, s)} · ${Math.round(this.stats.rows / s)}/s · ${unresolved} unresolved · ${s.toFixed(0)} s`;
    if (this.terminal) {
      this.out.write(`\r\x1b[K${text}`);
      this.shown = true;
    } else {
      this.out.write(`exoscope: progress: ${text}\n`);
    }
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function format(m: ReadonlyMap<string, number>): string {
  return (
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'
  );
}
