import type { RowReport } from '../core/report.js';

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
    this.rows++;
    bump(this.byClass, r.verdict.classification);
    bump(this.byStatus, r.status);
  }

  seconds(): number {
    return Math.max((this.now() - this.started) / 1000, 0.001);
  }

  /** The closing summary, several lines, for stderr. */
  summary(extra: {
    skipped?: { blank: number; comment: number };
    interrupted?: boolean;
    output?: string;
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
    return `${lines.join('\n')}\n`;
  }
}

/** A single progress line on a terminal, redrawn at most 4 times a second. */
export class ProgressLine {
  private last = 0;
  private shown = false;

  constructor(
    private readonly stats: RunStats,
    private readonly out: NodeJS.WriteStream,
    private readonly enabled: boolean,
  ) {}

  tick(): void {
    if (!this.enabled) return;
    const now = this.stats.now();
    if (now - this.last < 250) return;
    this.last = now;
    const s = this.stats.seconds();
    const unresolved = this.stats.byClass.get('unresolved') ?? 0;
    this.out.write(
      `\r\x1b[K${this.stats.rows} rows · ${Math.round(this.stats.rows / s)}/s · ${unresolved} unresolved · ${s.toFixed(0)} s`,
    );
    this.shown = true;
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
