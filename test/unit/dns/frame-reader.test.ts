import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../../src/adapters/dns/frame-reader.js';

/** `message` after its length in two bytes, as on a DNS TCP stream. */
function framed(message: string): Buffer {
  const body = Buffer.from(message);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([length, body]);
}

/** What a reader hands over when fed `chunks` one after the other. */
function read(chunks: Buffer[]): string[] {
  const reader = new FrameReader();
  const messages: string[] = [];
  for (const chunk of chunks) {
    reader.read(chunk, (message) => {
      messages.push(message.toString());
      return true;
    });
  }
  return messages;
}

/** `bytes` cut at each of `cuts` (offsets, ascending). */
function cut(bytes: Buffer, ...cuts: number[]): Buffer[] {
  const edges = [0, ...cuts, bytes.length];
  return edges.slice(1).map((end, i) => bytes.subarray(edges[i], end));
}

const ONE = framed('first');
const TWO = framed('second!');
const BOTH = Buffer.concat([ONE, TWO]);

describe('FrameReader', () => {
  it.each<[string, Buffer[], string[]]>([
    ['one whole message', [ONE], ['first']],
    ['two messages in one chunk', [BOTH], ['first', 'second!']],
    ['a message split in its body', cut(ONE, 4), ['first']],
    ['a message split in its length', cut(ONE, 1), ['first']],
    ['a message split after its length', cut(ONE, 2), ['first']],
    ['a message a byte a chunk', cut(ONE, 1, 2, 3, 4, 5, 6), ['first']],
    [
      'the end of one and the start of the next in one chunk',
      cut(BOTH, 5, ONE.length + 3),
      ['first', 'second!'],
    ],
    [
      'a chunk ending right after a length',
      cut(BOTH, ONE.length + 2),
      ['first', 'second!'],
    ],
    ['an empty message', [framed('')], ['']],
    [
      'an empty chunk between parts',
      [...cut(ONE, 3), Buffer.alloc(0)],
      ['first'],
    ],
    [
      'a start whose rest never comes',
      cut(BOTH, ONE.length + 4).slice(0, 1),
      ['first'],
    ],
    ['nothing but a byte of a length', [Buffer.from([0])], []],
  ])('reads %s', (_what, chunks, messages) => {
    expect(read(chunks)).toEqual(messages);
  });

  it('reads a split message whose first part stays untouched', () => {
    // The rest of a message arrives later: what was kept must not be a view
    // of a buffer the socket reuses.
    const first = Buffer.from(ONE.subarray(0, 4));
    const reader = new FrameReader();
    const messages: string[] = [];
    const each = (message: Buffer): boolean => {
      messages.push(message.toString());
      return true;
    };
    reader.read(first, each);
    first.fill(0);
    reader.read(ONE.subarray(4), each);
    expect(messages).toEqual(['first']);
  });

  it('stops handing over messages when told to', () => {
    const reader = new FrameReader();
    const messages: string[] = [];
    reader.read(Buffer.concat([ONE, TWO, ONE]), (message) => {
      messages.push(message.toString());
      return false;
    });
    expect(messages).toEqual(['first']);
  });
});
