/**
 * Where the first record of an input is: the one that decides the delimiter
 * and the layout, and whose end says the peek at the input may stop.
 */
import { startsWith } from './encoding.js';

/** Where the first non-blank, non-comment record is; its end is a line break or the text's end. */
export function firstRecord(
  text: string,
): { start: number; end: number } | undefined {
  let pos = 0;
  while (pos < text.length) {
    let end = pos;
    if (text[pos] === '#') {
      while (end < text.length && text[end] !== '\n' && text[end] !== '\r') {
        end++;
      }
    } else {
      let quoted = false;
      for (; end < text.length; end++) {
        const char = text[end];
        if (char === '"') quoted = !quoted;
        else if (!quoted && (char === '\n' || char === '\r')) break;
      }
      if (text.slice(pos, end).trim() !== '') return { start: pos, end };
    }
    pos = end + 1;
  }
  return undefined;
}

/**
 * Whether the bytes read so far hold a complete first record, so that the
 * delimiter can be sniffed and the layout chosen. Only for input that looks
 * like UTF-8: a byte-order mark or NUL bytes make `detectEncoding` want more.
 */
export function holdsFirstRecord(chunks: readonly Buffer[]): boolean {
  const bytes = Buffer.concat(chunks);
  if (bytes.includes(0) || startsWith(bytes, [0xff, 0xfe])) return false;
  if (startsWith(bytes, [0xfe, 0xff])) return false;
  const text = bytes.toString('utf8');
  const record = firstRecord(text);
  return record !== undefined && record.end < text.length;
}
