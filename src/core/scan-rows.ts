import type { Clock, Scheduler } from './clock.js';
import type { Evidence } from './evidence.js';
import { GenerationalCache } from './lru.js';
import { reportRow } from './report.js';
import { StraggleLimit } from './straggle-limit.js';
import type { DomainScanner, RowInput, RowReport } from './report.js';

export interface ScanRowsOptions {
  /** Domains scanned at the same time (stragglers aside, see `straggleMs`). */
  concurrency: number;
  /**
   * Rows read ahead of the oldest unfinished one. Bounds memory (a finished
   * row waiting for the rows before it holds its report, about 3 KiB), and
   * lets a slow domain (timeouts) hold back the output without stalling the
   * scan. Default: {@link DEFAULT_WINDOW}, or 4 × concurrency when larger.
   */
  window?: number;
  /**
   * A scan running longer than this (ms) is a straggler: it stops counting
   * against `concurrency`, so that domains whose servers do not answer
   * (each waits out its timeouts and retries, seconds) do not take the
   * slots of the rest. The window still bounds them. Default 1 000.
   */
  straggleMs?: number;
  /**
   * Distinct recent domains whose scan duplicate rows share (each holds its
   * evidence, a few KiB). Default 1 000.
   */
  dedupe?: number;
  /** Times each row's scan. */
  clock: Clock;
  /** Runs the straggler sweep. */
  scheduler: Scheduler;
}

/**
 * Rows a scan may read ahead of its oldest unfinished row by default: at a
 * few thousand domains a second, the rows of the seconds a domain with dead
 * name servers takes (3 tries of a 2 s timeout) — with 4 × concurrency
 * (800) instead, every such domain stopped the scan until it ended, and 1 %
 * of them took a run of 20 000 domains from 1 s to 159 s. At most about 3 KiB a
 * held row.
 */
export const DEFAULT_WINDOW = 20_000;

/**
 * Scans rows concurrently and yields their reports in input order. Memory is
 * bounded by the window, whatever the input's length. A duplicate of a recent
 * domain shares its scan; every row still gets its own report.
 *
 * A row is read only when a scan can start at once, and a finished report is
 * handed on as soon as every row before it is: rows neither wait unstarted
 * nor sit finished for the window to fill. (Held that long, a row's report
 * outlived a few young-generation collections and was copied into the old
 * generation: GC time spent on rows that were doing nothing.)
 */
export async function* scanRows(
  rows: AsyncIterable<RowInput> | Iterable<RowInput>,
  scan: DomainScanner,
  options: ScanRowsOptions,
): AsyncGenerator<RowReport> {
  const window =
    options.window ?? Math.max(DEFAULT_WINDOW, options.concurrency * 4);
  const limit = new StraggleLimit(options.concurrency, {
    clock: options.clock,
    scheduler: options.scheduler,
    straggleMs: options.straggleMs,
  });
  const clock = options.clock;
  const now = (): number => clock.now();
  const shared = dedupe(scan, options.dedupe ?? 1_000);
  const counted: DomainScanner = (domain) => limit.run(() => shared(domain));
  try {
    const pending: InFlightRow[] = [];
    for await (const row of rows) {
      pending.push(new InFlightRow(reportRow(row, counted, now)));
      while (
        pending.length > 0 &&
        ((pending[0] as InFlightRow).done || pending.length >= window)
      ) {
        yield await (pending.shift() as InFlightRow).report;
      }
      if (limit.full) await limit.whenFree();
    }
    while (pending.length > 0)
      yield await (pending.shift() as InFlightRow).report;
  } finally {
    limit.close();
  }
}

/** A row's report to be, and whether it is ready. */
class InFlightRow {
  done = false;
  constructor(readonly report: Promise<RowReport>) {
    void report.then(() => (this.done = true));
  }
}

/** Shares one scan among rows naming the same domain, for the last `size` domains. */
function dedupe(scan: DomainScanner, size: number): DomainScanner {
  const recent = new GenerationalCache<string, Promise<Evidence>>(size);
  return (domain) => {
    const hit = recent.get(domain);
    if (hit) return hit;
    const p = scan(domain);
    recent.set(domain, p);
    return p;
  };
}
