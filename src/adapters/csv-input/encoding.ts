/**
 * What the first bytes of an input say about it: UTF-8 (the default),
 * UTF-16 with a byte-order mark, or a file that is not text we read (UTF-32,
 * UTF-16 without a mark, a workbook, an archive, a PDF).
 */
import { InputError } from './input-error.js';

/** The encodings the input may be in. */
export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** File types people export by mistake, recognised by their first bytes. */
const BINARY_SIGNATURES = [
  {
    magic: [0x50, 0x4b, 0x03, 0x04],
    what: 'a ZIP archive (an .xlsx workbook?)',
  },
  { magic: [0xd0, 0xcf, 0x11, 0xe0], what: 'an Excel .xls workbook' },
  { magic: [0x1f, 0x8b], what: 'a gzip-compressed file' },
  { magic: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
] as const;

/** Decides the encoding from the first bytes, or says why the file is not text. */
export function detectEncoding(peek: Buffer, name: string): Encoding {
  if (peek.length === 0) {
    throw new InputError('EXO_INPUT_EMPTY', `${name}: the input is empty`);
  }
  if (
    startsWith(peek, [0xff, 0xfe, 0, 0]) ||
    startsWith(peek, [0, 0, 0xfe, 0xff])
  ) {
    throw new InputError(
      'EXO_INPUT_ENCODING',
      `${name}: is UTF-32 text; save it as UTF-8`,
    );
  }
  if (startsWith(peek, [0xff, 0xfe])) return 'utf-16le';
  if (startsWith(peek, [0xfe, 0xff])) return 'utf-16be';
  for (const { magic, what } of BINARY_SIGNATURES) {
    if (startsWith(peek, magic)) {
      throw new InputError(
        'EXO_INPUT_BINARY',
        `${name}: looks like ${what}, not CSV text; export it as CSV (UTF-8)`,
      );
    }
  }
  const utf16 = peek.includes(0) ? guessUtf16(peek) : undefined;
  if (utf16 !== undefined) {
    throw new InputError(
      'EXO_INPUT_ENCODING',
      `${name}: looks like ${utf16.toUpperCase()} text without a byte-order mark; save it as UTF-8`,
    );
  }
  // Other NUL bytes and invalid UTF-8 are reported, with their line, by the
  // Transcoder as it reads the peeked bytes.
  return 'utf-8';
}

/** Whether `buf` begins with the bytes `magic`. */
export function startsWith(buf: Buffer, magic: readonly number[]): boolean {
  return magic.every((byte, i) => buf[i] === byte);
}

/** ASCII-range text in UTF-16 has a NUL in every other byte. */
function guessUtf16(peek: Buffer): Encoding | undefined {
  const n = Math.min(peek.length, 4096) & ~1;
  if (n < 4) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i++) {
    if (peek[i] === 0) {
      if (i % 2 === 0) evenNul++;
      else oddNul++;
    }
  }
  const pairs = n / 2;
  if (oddNul > pairs * 0.7 && evenNul < pairs * 0.1) return 'utf-16le';
  if (evenNul > pairs * 0.7 && oddNul < pairs * 0.1) return 'utf-16be';
  return undefined;
}
