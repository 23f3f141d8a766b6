import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countRecordLines } from '../../src/adapters/line-count.js';
import { editDistance } from '../../src/cli/flag-suggest.js';
import { ProgressLine, progressOf } from '../../src/cli/progress.js';
import { RunStats } from '../../src/run/run-stats.js';

describe('progressOf', () => {
  it.each([
    [0, 100, 0, '0 of 100 rows (0 %)'],
    [25, 100, 5, '25 of 100 rows (25 %) · ETA 15 s'],
    [100, 100, 9, '100 of 100 rows (100 %) · ETA 0 s'],
    [10, 1000, 1, '10 of 1000 rows (1 %) · ETA 2 min'],
    [5, null, 1, '5 rows'],
    // The count runs high, never low; past it, no total rather than 104 %.
    [104, 100, 1, '104 rows'],
  ])('%i of %s after %i s: %s', (done, total, seconds, text) => {
    expect(progressOf(done, total, seconds)).toBe(text);
  });

  it('the plain progress line carries the total once known', () => {
    let now = 0;
    const stats = new RunStats({ now: () => now });
    const written: string[] = [];
    const out = {
      isTTY: false,
      write: (s: string) => written.push(s),
    } as unknown as NodeJS.WriteStream;
    const line = new ProgressLine(stats, out, true);
    line.total = 40;
    for (let i = 0; i < 10; i++) stats.tally('exchange-online', 'ok');
    now = 2500;
    line.tick();
    expect(written).toEqual([
      'exoscope: progress: 10 of 40 rows (25 %) · ETA 8 s · 4/s · 0 unresolved · 3 s\n',
    ]);
  });
});

describe('countRecordLines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exoscope-count-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['header,x\na,1\nb,2\n', 3],
    ['header,x\na,1\nb,2', 3],
    ['a\r\n\r\nb\r\n# comment\r\n\nc', 3],
    ['', 0],
    ['\n\n\n', 0],
  ])('%j: %i', async (text, lines) => {
    const path = join(dir, `f${lines}-${text.length}.csv`);
    writeFileSync(path, text);
    expect(await countRecordLines(path)).toBe(lines);
  });

  it('a file across several read chunks', async () => {
    const path = join(dir, 'big.csv');
    writeFileSync(path, 'domain\n' + 'example.test\n\n'.repeat(200_000));
    expect(await countRecordLines(path)).toBe(200_001);
  });

  it('a missing file: null', async () => {
    expect(await countRecordLines(join(dir, 'nope.csv'))).toBeNull();
  });
});

describe('editDistance', () => {
  it.each([
    ['resovler', 'resolver', 1],
    ['resolver', 'resolver', 0],
    ['concurency', 'concurrency', 1],
    ['abc', '', 3],
    ['ab', 'ba', 1],
  ])('%s → %s: %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});
