import { describe, expect, it } from 'vitest';
import type { Encoding } from '../../../src/adapters/csv-input/encoding.js';
import type { InputErrorCode } from '../../../src/adapters/csv-input/input-error.js';
import { Transcoder } from '../../../src/adapters/csv-input/transcoder.js';

/** Feeds the chunks through a fresh transcoder; the UTF-8 text out. */
function transcode(encoding: Encoding, chunks: readonly Buffer[]): string {
  const t = new Transcoder('in.csv', encoding);
  const out = chunks.map((c) => t.write(c));
  out.push(t.end());
  return Buffer.concat(out).toString('utf8');
}

/**
 * Every way of cutting `bytes` in two, the first chunk at least `min` bytes
 * long (as the input's peek is, unless the input is shorter).
 */
function splits(bytes: Buffer, min = 0): Buffer[][] {
  const from = Math.min(min, bytes.length);
  return Array.from({ length: bytes.length + 1 - from }, (_, i) => [
    bytes.subarray(0, from + i),
    bytes.subarray(from + i),
  ]);
}

const utf16le = (text: string): Buffer => Buffer.from(text, 'utf16le');
const utf16be = (text: string): Buffer => utf16le(text).swap16();

describe('Transcoder: text through', () => {
  const cases: [string, Encoding, Buffer, string][] = [
    ['ASCII', 'utf-8', Buffer.from('a,b\r\nc\n'), 'a,b\r\nc\n'],
    ['a UTF-8 BOM dropped', 'utf-8', Buffer.from('\ufeffdomain\n'), 'domain\n'],
    ['a BOM later kept', 'utf-8', Buffer.from('a\n\ufeffb\n'), 'a\n\ufeffb\n'],
    ['accents and emoji', 'utf-8', Buffer.from('café,😀\n'), 'café,😀\n'],
    [
      'UTF-16LE, BOM dropped',
      'utf-16le',
      Buffer.from([0xff, 0xfe, ...utf16le('société;😀\r\n')]),
      'société;😀\r\n',
    ],
    [
      'UTF-16BE, BOM dropped',
      'utf-16be',
      Buffer.from([0xfe, 0xff, ...utf16be('müller.de\n')]),
      'müller.de\n',
    ],
  ];
  it.each(cases)('%s', (_name, encoding, bytes, text) => {
    expect(transcode(encoding, [bytes])).toBe(text);
  });

  it.each(cases)(
    '%s, cut anywhere past the peek',
    (_n, encoding, bytes, text) => {
      for (const chunks of splits(bytes, 8)) {
        expect(transcode(encoding, chunks)).toBe(text);
      }
    },
  );
});

describe('Transcoder: refusals, with the line', () => {
  // UTF-8 is checked line by line: the line is exact wherever the chunks end.
  const utf8: [string, InputErrorCode, number, Buffer][] = [
    [
      'Latin-1 é on line 3',
      'EXO_INPUT_ENCODING',
      3,
      Buffer.concat([
        Buffer.from('domain\na.com\ncaf'),
        Buffer.from([0xe9]),
        Buffer.from('.fr\n'),
      ]),
    ],
    [
      'Windows-1252 quotes after CRLF lines',
      'EXO_INPUT_ENCODING',
      3,
      Buffer.concat([
        Buffer.from('a\r\nb\r\n'),
        Buffer.from([0x93, 0x78, 0x94]),
      ]),
    ],
    [
      'Windows-1252 € after lone CRs',
      'EXO_INPUT_ENCODING',
      4,
      Buffer.concat([Buffer.from('a\rb\rc\r'), Buffer.from([0x80])]),
    ],
    [
      'UTF-8 cut short at the end',
      'EXO_INPUT_ENCODING',
      2,
      Buffer.from('a\né').subarray(0, 3),
    ],
    ['a NUL byte', 'EXO_INPUT_BINARY', 3, Buffer.from('a\nb\nc\u0000\n')],
  ];
  it.each(utf8)('%s → %s line %d', (_name, code, line, bytes) => {
    for (const chunks of splits(bytes)) {
      expect(() => transcode('utf-8', chunks)).toThrow(
        expect.objectContaining({ code, line }),
      );
    }
  });

  // UTF-16 that does not decode is reported at the line its chunk starts on.
  const utf16: [string, InputErrorCode, number, Encoding, Buffer[]][] = [
    [
      'a lone surrogate in one chunk',
      'EXO_INPUT_ENCODING',
      1,
      'utf-16le',
      [Buffer.concat([utf16le('a\nb\n'), Buffer.from([0x00, 0xdc])])],
    ],
    [
      'a lone surrogate in the second chunk',
      'EXO_INPUT_ENCODING',
      3,
      'utf-16le',
      [utf16le('a\nb\n'), Buffer.from([0x00, 0xdc, 0x61, 0x00])],
    ],
    [
      'a NUL in UTF-16BE, at its own line',
      'EXO_INPUT_BINARY',
      2,
      'utf-16be',
      [utf16be('a\n\u0000')],
    ],
  ];
  it.each(utf16)('%s → %s line %d', (_name, code, line, encoding, chunks) => {
    expect(() => transcode(encoding, chunks)).toThrow(
      expect.objectContaining({ code, line }),
    );
  });
});
