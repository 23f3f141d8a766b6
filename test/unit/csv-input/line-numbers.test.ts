import { describe, expect, it } from 'vitest';
import {
  LineCounter,
  RecordLines,
  lineBreaks,
} from '../../../src/adapters/csv-input/line-numbers.js';

describe('lineBreaks', () => {
  const cases: [string, number][] = [
    ['', 0],
    ['abc', 0],
    ['a\nb\n', 2],
    ['a\r\nb\r\n', 2],
    ['a\rb\r', 2],
    ['a\r\n\r\nb', 2],
    ['a\n\rb', 2],
    ['\r\r\n\n', 3],
  ];
  it.each(cases)('%j has %d', (text, n) => {
    expect(lineBreaks(text, text.length)).toBe(n);
    expect(lineBreaks(Buffer.from(text), text.length)).toBe(n);
  });

  it('counts only before `to`, a CRLF cut at `to` as its CR', () => {
    expect(lineBreaks('a\nb\nc', 2)).toBe(1);
    expect(lineBreaks('a\nb\nc', 1)).toBe(0);
    expect(lineBreaks('a\r\nb', 2)).toBe(1);
  });
});

describe('LineCounter', () => {
  const cases: [string, string[], number][] = [
    ['nothing', [], 1],
    ['one chunk', ['a\nb\nc'], 3],
    ['a CRLF split between chunks counts once', ['a\r', '\nb'], 2],
    ['a CR at a chunk end, then text', ['a\r', 'b'], 2],
    ['a CR, then an empty chunk, then LF', ['a\r', '', '\nb'], 2],
    ['CRLF in every chunk', ['a\r\n', 'b\r\n', 'c'], 3],
    ['lone CRs', ['a\rb\r', '\r'], 4],
  ];
  it.each(cases)('%s → line %d', (_name, chunks, line) => {
    const counter = new LineCounter();
    for (const chunk of chunks) counter.advance(Buffer.from(chunk));
    expect(counter.line).toBe(line);
  });

  it('names the line of an offset in the next chunk', () => {
    const counter = new LineCounter();
    counter.advance('a\nb\r');
    expect(counter.line).toBe(3);
    // the LF that completes the CRLF, and `c` after it, are on line 3
    expect(counter.lineAt('\nc\nd', 0)).toBe(3);
    expect(counter.lineAt('\nc\nd', 1)).toBe(3);
    expect(counter.lineAt('\nc\nd', 3)).toBe(4);
  });
});

describe('RecordLines', () => {
  it('numbers records by their raw text, comments and quoted breaks included', () => {
    const lines = new RecordLines();
    // `raw` holds the record and its line end; comment totals are running.
    expect(lines.record('domain\r\n', 0)).toBe(1);
    expect(lines.record('"two\r\nlines",x\r\n', 0)).toBe(2);
    // two comment lines before this record: csv-parse counts them apart
    expect(lines.record('# c\n# d\nb.com\n', 2)).toBe(6);
    expect(lines.next(2)).toBe(7);
    // a comment seen while the next record is being parsed
    expect(lines.next(3)).toBe(8);
  });
});
