/**
 * The input's bytes as checked UTF-8, chunk by chunk: a UTF-8 byte-order
 * mark dropped, UTF-16 decoded, a NUL byte or invalid text refused with the
 * line it is on.
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import type { Encoding } from './encoding.js';
import { startsWith } from './encoding.js';
import { InputError } from './input-error.js';
import { LineCounter } from './line-numbers.js';

const EMPTY = Buffer.alloc(0);

/**
 * Turns the input's bytes into checked UTF-8 for csv-parse: strips a UTF-8
 * BOM, decodes UTF-16, and fails with the line number on a NUL byte or on
 * bytes that are not valid in the encoding, so no garbage reaches a row.
 */
export class Transcoder {
  private readonly lines = new LineCounter();
  private readonly utf16: TextDecoder | undefined;
  private carry: Buffer = EMPTY;
  private started = false;

  constructor(
    private readonly name: string,
    private readonly encoding: Encoding,
  ) {
    this.utf16 =
      encoding === 'utf-8'
        ? undefined
        : new TextDecoder(encoding, { fatal: true });
  }

  write(chunk: Buffer): Buffer {
    if (this.utf16 !== undefined) return this.decodeUtf16(chunk, true);
    let block = chunk;
    if (!this.started) {
      this.started = true;
      if (startsWith(block, [0xef, 0xbb, 0xbf])) block = block.subarray(3);
    }
    if (this.carry.length > 0) block = Buffer.concat([this.carry, block]);
    const cut = completeUtf8Length(block);
    this.carry = Buffer.from(block.subarray(cut));
    return this.checked(block.subarray(0, cut), true);
  }

  end(): Buffer {
    if (this.utf16 !== undefined) return this.decodeUtf16(EMPTY, false);
    const rest = this.carry;
    this.carry = EMPTY;
    return this.checked(rest, true);
  }

  private decodeUtf16(chunk: Buffer, stream: boolean): Buffer {
    let text: string;
    try {
      text = (this.utf16 as TextDecoder).decode(chunk, { stream });
    } catch (cause) {
      const line = this.lines.line;
      throw new InputError(
        'EXO_INPUT_ENCODING',
        `${this.name}: line ${line}: invalid ${this.encoding.toUpperCase()} text`,
        { cause, line },
      );
    }
    return this.checked(Buffer.from(text, 'utf8'), false);
  }

  private checked(block: Buffer, validate: boolean): Buffer {
    const nul = block.indexOf(0);
    if (nul !== -1) {
      const line = this.lines.lineAt(block, nul);
      throw new InputError(
        'EXO_INPUT_BINARY',
        `${this.name}: line ${line} contains a NUL byte; this looks like a binary file, not CSV text`,
        { line },
      );
    }
    if (validate && !isUtf8(block)) {
      const line = this.lines.lineAt(block, firstInvalidLine(block));
      throw new InputError(
        'EXO_INPUT_ENCODING',
        `${this.name}: line ${line} is not valid UTF-8 (Latin-1 or Windows-1252?); save the file as CSV UTF-8`,
        { line },
      );
    }
    this.lines.advance(block);
    return block;
  }
}

/**
 * The length of the longest prefix of `buf` that does not end inside a UTF-8
 * sequence; the rest waits for the next chunk.
 */
function completeUtf8Length(buf: Buffer): number {
  for (let i = buf.length - 1; i >= 0 && i >= buf.length - 4; i--) {
    const byte = buf[i] as number;
    if (byte < 0x80) return buf.length;
    if (byte >= 0xc0) {
      const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return buf.length - i < size ? i : buf.length;
    }
  }
  return buf.length;
}

/** The offset of the start of the first line holding invalid UTF-8. */
function firstInvalidLine(block: Buffer): number {
  let start = 0;
  for (let i = 0; i <= block.length; i++) {
    if (i === block.length || block[i] === 0x0a || block[i] === 0x0d) {
      if (!isUtf8(block.subarray(start, i))) return start;
      start = i + 1;
    }
  }
  return 0;
}
