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
  summary(extra: {
    skipped?: { blank: number; comment: number };
    interrupted?: boolean;
    output?: string;
    /** Rows that had more fields than the header. */
    extraFieldRows?: number;
    /** More lines, each shown indented. */
    notes?: readonly string[];
  }): string {
    const s = this.seconds();
    const lines = [
      `exoscope: ${extra.interrupted ? 'INTERRUPTED after' : 'scanned'} ${this.rows} rows in ${s.toFixed(1)} s (${Math.round(this.rows / s)} rows/s)${extra.output ? ` -> ${extra.output}` : ''}`,
      `  classification: ${format(this.byClass)}`,
      `  status: ${format(this.byStatus)}`,
    ];
    if (extra.skipped && extra.skipped.blank + extra.skipped.comment > 0) {
      lines.push(
        `  skipped input lines: ${extra.skipped.blank} blank, ${extra.skipped.comment} comment`,
      );
    }
    const extraFields = extraFieldsNote(extra.extraFieldRows ?? 0);
    if (extraFields) lines.push(extraFields);
    for (const note of extra.notes ?? []) lines.push(`  ${note}`);
    // names in it (the output, a partial file) reach a terminal
    return `${lines.map(escapeControls).join('\n')}\n`;
  }
}

/** The summary line counting rows with more fields than the header, if any. */
export function extraFieldsNote(rows: number): string | null {
  if (rows === 0) return null;
  return `  rows with more fields than the header: ${rows} (flag extra-fields; see their error column)`;
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
    const text = `${this.stats.rows} rows · ${Math.round(this.stats.rows / s)}/s · ${unresolved} unresolved · ${s.toFixed(0)} s`;
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

function format(m: Map<string, number>): string {
  return (
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'
  );
}
