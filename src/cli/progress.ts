import { duration } from '../core/duration.js';
import type { CollectProgress, CollectResult } from '../queue/aggregator.js';
import type { RunStats } from '../run/run-stats.js';
import { escapeControls } from '../core/untrusted-text.js';

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
 * The progress line of every command, on stderr. On a terminal, one line
 * redrawn at most 4 times a second; elsewhere (a log file, CI, `--progress`
 * into a pipe) a plain line every 2 seconds, so the log holds no control
 * sequences. `tick` shows a scan's rows, `chunks` a queued scan's chunks.
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

  /** A row more is done (`stats` counts it). */
  tick(): void {
    if (!this.due()) return;
    const s = this.stats.seconds();
    const unresolved = this.stats.byClass.get('unresolved') ?? 0;
    this.show(
      `${progressOf(this.stats.rows, this.total, s)} · ${Math.round(this.stats.rows / s)}/s · ${unresolved} unresolved · ${s.toFixed(0)} s`,
    );
  }

  /** The chunks of a scan being waited for. */
  readonly chunks = (p: CollectProgress): void => {
    if (!this.due()) return;
    const of = p.chunks === null ? '?' : String(p.chunks);
    const seconds = (this.last - this.stats.started) / 1000;
    // Every chunk but the last is full: rows done within one chunk.
    const rows =
      p.rows === null
        ? ''
        : ` · ${progressOf(Math.min(p.rows, p.done * p.chunkSize), p.rows, seconds)}`;
    this.show(
      `${p.done}/${of} chunks done${rows}${p.failed ? ` · ${p.failed} failed` : ''} · ${Math.round(seconds)} s`,
    );
  };

  /** Takes the line off the terminal (before other output). */
  readonly clear = (): void => {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  };

  /** Whether a line is due now (and, if so, notes the time). */
  private due(): boolean {
    if (!this.enabled) return false;
    const now = this.stats.now();
    if (now - this.last < (this.terminal ? 250 : 2000)) return false;
    this.last = now;
    return true;
  }

  private show(text: string): void {
    if (this.terminal) {
      this.out.write(`\r\x1b[K${text}`);
      this.shown = true;
    } else {
      this.out.write(`exoscope: progress: ${text}\n`);
    }
  }
}

function format(m: ReadonlyMap<string, number>): string {
  return (
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'
  );
}

/** The closing summary of a run over Redis (`collect`, `scan --redis`). */
export function collectedSummary(
  result: CollectResult,
  seconds: number,
  what: string,
  output: string | null,
  notes: readonly string[] = [],
): string {
  return summaryText({
    what,
    rows: result.rows,
    seconds,
    byClass: result.classification,
    byStatus: result.status,
    skipped: result.skipped,
    extraFieldRows: result.extraFieldRows,
    ...(output ? { output } : {}),
    notes,
  });
}

/** The closing summary of a scan in this process, from its counts. */
export function statsSummary(
  stats: RunStats,
  extra: Omit<SummaryParts, 'rows' | 'seconds' | 'byClass' | 'byStatus'>,
): string {
  return summaryText({
    ...extra,
    rows: stats.rows,
    seconds: stats.seconds(),
    byClass: stats.byClass,
    byStatus: stats.byStatus,
  });
}
