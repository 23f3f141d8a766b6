import type { Clock } from '../core/clock.js';
import type { RowReport } from '../core/report.js';

/** Counts of a run, for the progress line and the closing summary. */
export class RunStats {
  rows = 0;
  readonly byClass = new Map<string, number>();
  readonly byStatus = new Map<string, number>();
  readonly started: number;

  constructor(private readonly clock: Clock) {
    this.started = clock.now();
  }

  /** The run's clock. */
  now(): number {
    return this.clock.now();
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
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
