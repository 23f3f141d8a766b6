import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/system-clock.js';
import { emptyEvidence } from '../../src/core/evidence.js';
import type { Evidence } from '../../src/core/evidence.js';
import type { RowInput, RowReport } from '../../src/core/report.js';
import { DEFAULT_WINDOW, scanRows } from '../../src/core/scan-rows.js';

/** Rows d0.test, d1.test, ... that count how many were read. */
function input(domains: string[]) {
  const read = { count: 0 };
  function* rows(): Generator<RowInput> {
    for (const [index, value] of domains.entries()) {
      read.count++;
      yield { index, value, fields: [value] };
    }
  }
  return { rows: rows(), read };
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `d${i}.test`);

/** A scanner whose scans finish only when the test says so (or at once). */
function heldScanner(hold: (domain: string) => boolean = () => true) {
  const started: string[] = [];
  const held = new Map<string, () => void>();
  const scan = (domain: string): Promise<Evidence> => {
    started.push(domain);
    if (!hold(domain)) return Promise.resolve(emptyEvidence(domain));
    return new Promise((resolve) =>
      held.set(domain, () => resolve(emptyEvidence(domain))),
    );
  };
  const release = (domain: string) => held.get(domain)?.();
  return { scan, started, release };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('scanRows', () => {
  it('reads a row only when a scan can start at once', async () => {
    const { rows, read } = input(names(50));
    const s = heldScanner();
    const out = scanRows(rows, s.scan, {
      concurrency: 3,
      window: 12,
      clock: { now: () => 0 },
      scheduler: systemClock,
    });
    const first = out.next();
    await settle();
    // Three scans run; no fourth row waits read and unstarted.
    expect(s.started).toEqual(['d0.test', 'd1.test', 'd2.test']);
    expect(read.count).toBe(3);
    s.release('d1.test');
    await settle();
    expect(read.count).toBe(4);
    expect(s.started).toHaveLength(4);
    s.release('d0.test');
    expect((await first).value?.domain).toBe('d0.test');
  });

  it('hands a finished report on without waiting for the window to fill', async () => {
    const { rows, read } = input(names(1000));
    const s = heldScanner(() => false);
    const out = scanRows(rows, s.scan, {
      concurrency: 2,
      window: 500,
      clock: { now: () => 0 },
      scheduler: systemClock,
    });
    const first = await out.next();
    expect(first.value?.index).toBe(0);
    expect(read.count).toBeLessThanOrEqual(3);
    await out.return(undefined);
  });

  it('lets a slow row hold back the output, not the scan, up to the window', async () => {
    const { rows, read } = input(names(20));
    const s = heldScanner((d) => d === 'd0.test');
    const reports: RowReport[] = [];
    const done = (async () => {
      for await (const r of scanRows(rows, s.scan, {
        concurrency: 2,
        window: 6,
        clock: { now: () => 0 },
        scheduler: systemClock,
      })) {
        reports.push(r);
      }
    })();
    await settle();
    // d1..d5 were scanned while d0 held the output back.
    expect(s.started).toEqual(names(6));
    expect(read.count).toBe(6);
    expect(reports).toHaveLength(0);
    s.release('d0.test');
    await done;
    expect(reports.map((r) => r.index)).toEqual([...Array(20).keys()]);
  });

  it('gives every row one report, in input order, whatever the finishing order', async () => {
    const domains = names(300).map((d, i) => (i % 7 === 3 ? 'dup.test' : d));
    const { rows } = input([...domains, 'not a domain', 'last.test']);
    const scanned: string[] = [];
    let running = 0;
    let most = 0;
    const scan = async (domain: string): Promise<Evidence> => {
      scanned.push(domain);
      most = Math.max(most, ++running);
      const delay = (Number(domain.replace(/\D/g, '')) * 7919) % 5;
      await new Promise((resolve) => setTimeout(resolve, delay));
      running--;
      return emptyEvidence(domain);
    };
    const reports: RowReport[] = [];
    for await (const r of scanRows(rows, scan, {
      concurrency: 7,
      window: 20,
      clock: { now: () => 0 },
      scheduler: systemClock,
    })) {
      reports.push(r);
    }
    expect(reports.map((r) => r.index)).toEqual([...Array(302).keys()]);
    expect(reports.map((r) => r.input)).toEqual([
      ...domains,
      'not a domain',
      'last.test',
    ]);
    expect(reports[300]?.status).toBe('invalid');
    expect(most).toBe(7);
    // A duplicate of a recent domain shares its scan.
    expect(scanned.filter((d) => d === 'dup.test')).toHaveLength(1);
  });
  it('by default reads far ahead of a slow row: one dead domain does not stop the scan', async () => {
    // With 4 x concurrency (8 here) as the window, the scan stopped at row 8.
    const { rows, read } = input(names(5000));
    const s = heldScanner((d) => d === 'd0.test');
    const reports: RowReport[] = [];
    const done = (async () => {
      for await (const r of scanRows(rows, s.scan, {
        concurrency: 2,
        clock: { now: () => 0 },
        scheduler: systemClock,
      })) {
        reports.push(r);
      }
    })();
    for (let i = 0; i < 100 && read.count < 5000; i++) await settle();
    expect(DEFAULT_WINDOW).toBeGreaterThan(5000);
    expect(read.count).toBe(5000);
    expect(reports).toHaveLength(0);
    s.release('d0.test');
    await done;
    expect(reports.map((r) => r.index)).toEqual([...Array(5000).keys()]);
  });

  it('lets a scan that runs past straggleMs free its slot, within the window', async () => {
    const { rows, read } = input(names(50));
    const s = heldScanner((d) => d === 'd0.test' || d === 'd1.test');
    let clock = 0;
    const out = scanRows(rows, s.scan, {
      concurrency: 2,
      window: 10,
      straggleMs: 20,
      clock: { now: () => clock },
      scheduler: systemClock,
    });
    const first = out.next();
    await settle();
    // Both slots are held: nothing more starts while the clock stands still.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(s.started).toEqual(['d0.test', 'd1.test']);
    // Past straggleMs, the two stop counting: the rest of the window runs.
    clock = 21;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(read.count).toBe(10);
    expect(s.started).toEqual(names(10));
    s.release('d0.test');
    s.release('d1.test');
    expect((await first).value?.domain).toBe('d0.test');
    await out.return(undefined);
  });
});
