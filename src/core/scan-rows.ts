import type { Evidence } from './evidence.js';
import { GenerationalCache } from './lru.js';
import { reportRow } from './report.js';
import type { DomainScanner, RowInput, RowReport } from './report.js';

export interface ScanRowsOptions {
  /** Domains scanned at the same time. */
  concurrency: number;
  /**
   * Rows read ahead of the oldest unfinished one. Bounds memory, and lets a
   * slow domain (timeouts) hold back the output without stalling the scan.
   * Default: 4 × concurrency.
   */
  window?: number;
  /**
   * Distinct recent domains whose scan duplicate rows share (each holds its
   * evidence, a few KiB). Default 1 000.
   */
  dedupe?: number;
  now: () => number;
}

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
  const window = options.window ?? options.concurrency * 4;
  const shared = dedupe(scan, options.dedupe ?? 1_000);
  let running = 0;
  let slotFreed: (() => void) | null = null;
  const counted: DomainScanner = async (domain) => {
    running++;
    try {
      return await shared(domain);
    } finally {
      running--;
      slotFreed?.();
    }
  };
  const pending: InFlightRow[] = [];
  for await (const row of rows) {
    pending.push(new InFlightRow(reportRow(row, counted, options.now)));
    while (
      pending.length > 0 &&
      ((pending[0] as InFlightRow).done || pending.length >= window)
    ) {
      yield await (pending.shift() as InFlightRow).report;
    }
    while (running >= options.concurrency) {
      await new Promise<void>((resolve) => (slotFreed = resolve));
      slotFreed = null;
    }
  }
  while (pending.length > 0)
    yield await (pending.shift() as InFlightRow).report;
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
