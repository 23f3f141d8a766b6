import { describe, expect, it } from 'vitest';
import {
  firstRecord,
  holdsFirstRecord,
} from '../../../src/adapters/csv-input/first-record.js';

describe('firstRecord', () => {
  const cases: [string, string, [number, number] | undefined][] = [
    ['a plain first line', 'a,b\nc\n', [0, 3]],
    ['no line end yet', 'a,b', [0, 3]],
    ['after comments and blank lines', '# x\n\n  \nd\n', [8, 9]],
    ['a comment running to CR', '# x\rd\r', [4, 5]],
    ['a quoted line break', '"a\nb",c\nd\n', [0, 7]],
    ['a quote never closed runs to the end', '"a\nb\n', [0, 5]],
    ['only comments', '# a\n# b', undefined],
    ['only white space', ' \n\t\r\n', undefined],
    ['empty', '', undefined],
  ];
  it.each(cases)('%s', (_name, text, range) => {
    expect(firstRecord(text)).toEqual(
      range === undefined ? undefined : { start: range[0], end: range[1] },
    );
  });
});

describe('holdsFirstRecord', () => {
  const b = (text: string): Buffer => Buffer.from(text);
  const cases: [string, Buffer[], boolean][] = [
    ['a whole first line', [b('domain\n')], true],
    ['a first line cut short', [b('domain')], false],
    ['the line end in a later chunk', [b('dom'), b('ain\r\n')], true],
    ['only a comment so far', [b('# exported\n')], false],
    ['an open quote', [b('"a\nb\n')], false],
    ['a UTF-8 BOM is fine', [b('\ufeffdomain\n')], true],
    // the encoding check wants its full peek for these
    ['a UTF-16LE BOM', [Buffer.from([0xff, 0xfe, 0x61, 0, 0x0a, 0])], false],
    ['a UTF-16BE BOM', [Buffer.from([0xfe, 0xff, 0, 0x61, 0, 0x0a])], false],
    ['a NUL byte', [b('a\u0000\nb\n')], false],
  ];
  it.each(cases)('%s → %s', (_name, chunks, holds) => {
    expect(holdsFirstRecord(chunks)).toBe(holds);
  });
});
