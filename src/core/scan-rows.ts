import pLimit from 'p-limit';
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
 */
export async function* scanRows(
  rows: AsyncIterable<RowInput> | Iterable<RowInput>,
  scan: DomainScanner,
  options: ScanRowsOptions,
): AsyncGenerator<RowReport> {
  const limit = pLimit(options.concurrency);
  const window = options.window ?? options.concurrency * 4;
  const shared = dedupe(scan, options.dedupe ?? 1_000);
  const limited: DomainScanner = (d) => limit(() => shared(d));
  const pending: Promise<RowReport>[] = [];
  for await (const row of rows) {
    pending.push(reportRow(row, limited, options.now));
    if (pending.length >= window)
      yield await (pending.shift() as Promise<RowReport>);
  }
  while (pending.length > 0)
    yield await (pending.shift() as Promise<RowReport>);
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
