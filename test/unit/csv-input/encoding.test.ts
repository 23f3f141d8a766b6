import { describe, expect, it } from 'vitest';
import { detectEncoding } from '../../../src/adapters/csv-input/encoding.js';
import type { Encoding } from '../../../src/adapters/csv-input/encoding.js';
import { InputError } from '../../../src/adapters/csv-input/input-error.js';
import type { InputErrorCode } from '../../../src/adapters/csv-input/input-error.js';

const utf16le = (text: string): Buffer => Buffer.from(text, 'utf16le');
const utf16be = (text: string): Buffer => utf16le(text).swap16();

describe('detectEncoding', () => {
  const text: [string, Buffer, Encoding][] = [
    ['ASCII', Buffer.from('domain\nexample.com\n'), 'utf-8'],
    ['UTF-8 with a BOM', Buffer.from('\ufeffdomain\n'), 'utf-8'],
    ['UTF-8 accents', Buffer.from('société,exemple.fr\n'), 'utf-8'],
    // Latin-1 and Windows-1252 bytes pass here: the transcoder reports them
    // with their line as it reads.
    ['Latin-1 é', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), 'utf-8'],
    ['Windows-1252 quotes', Buffer.from([0x93, 0x61, 0x94, 0x0a]), 'utf-8'],
    [
      'UTF-16LE with a BOM',
      Buffer.from([0xff, 0xfe, ...utf16le('d\n')]),
      'utf-16le',
    ],
    [
      'UTF-16BE with a BOM',
      Buffer.from([0xfe, 0xff, ...utf16be('d\n')]),
      'utf-16be',
    ],
    [
      'a lone NUL in UTF-8',
      Buffer.from('a,b\u0000c\nmore text here\n'),
      'utf-8',
    ],
    [
      'three bytes of UTF-16 without a BOM: too short to tell',
      utf16le('a').subarray(0, 2),
      'utf-8',
    ],
  ];
  it.each(text)('%s → %s', (_name, bytes, encoding) => {
    expect(detectEncoding(bytes, 'in.csv')).toBe(encoding);
  });

  const refused: [string, Buffer, InputErrorCode][] = [
    ['empty', Buffer.alloc(0), 'EXO_INPUT_EMPTY'],
    [
      'UTF-32LE (BOM)',
      Buffer.from([0xff, 0xfe, 0, 0, 0x64, 0, 0, 0]),
      'EXO_INPUT_ENCODING',
    ],
    [
      'UTF-32BE (BOM)',
      Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x64]),
      'EXO_INPUT_ENCODING',
    ],
    [
      'UTF-16LE without a BOM',
      utf16le('domain\nexample.com\n'),
      'EXO_INPUT_ENCODING',
    ],
    [
      'UTF-16BE without a BOM',
      utf16be('domain\nexample.com\n'),
      'EXO_INPUT_ENCODING',
    ],
    [
      'an .xlsx (ZIP)',
      Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0]),
      'EXO_INPUT_BINARY',
    ],
    [
      'an .xls',
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1]),
      'EXO_INPUT_BINARY',
    ],
    ['gzip', Buffer.from([0x1f, 0x8b, 0x08, 0]), 'EXO_INPUT_BINARY'],
    ['a PDF', Buffer.from('%PDF-1.7\n'), 'EXO_INPUT_BINARY'],
  ];
  it.each(refused)('%s → %s', (_name, bytes, code) => {
    let err: unknown;
    try {
      detectEncoding(bytes, 'in.csv');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code });
    expect((err as Error).message).toMatch(/^in\.csv: /);
  });
});
