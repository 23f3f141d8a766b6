import { describe, expect, it } from 'vitest';
import { FallbackPolicy } from '../../../src/adapters/dns/fallback-policy.js';
import type { ConnectionEnd } from '../../../src/adapters/dns/fallback-policy.js';

const TIMEOUT_MS = 500;

/** A connection that was up, had answered, and ended with nothing on it. */
const CLEAN: ConnectionEnd = {
  wasUp: true,
  answeredOnce: true,
  silent: false,
  unanswered: 0,
  code: 'EOF',
};

describe('FallbackPolicy.afterTimeouts', () => {
  it.each<[number, boolean, string | undefined]>([
    [0, false, undefined],
    [7, false, undefined],
    [
      8,
      false,
      'answers TCP queries one at a time (8 stuck behind one that timed out)',
    ],
    [
      100,
      false,
      'answers TCP queries one at a time (100 stuck behind one that timed out)',
    ],
    // A server that has answered out of order answers concurrently.
    [8, true, undefined],
    [100, true, undefined],
  ])('%j behind, out of order %j: %j', (behind, outOfOrder, reason) => {
    const policy = new FallbackPolicy(TIMEOUT_MS);
    expect(policy.afterTimeouts(behind, outOfOrder)).toBe(reason);
  });
});

describe('FallbackPolicy.afterClose', () => {
  it.each<[string, Partial<ConnectionEnd>, string | undefined]>([
    [
      'a connection that never came up',
      { wasUp: false, answeredOnce: false, code: 'ECONNREFUSED' },
      'made no TCP connection (ECONNREFUSED)',
    ],
    [
      'a connection not up within the deadline',
      { wasUp: false, answeredOnce: false, code: 'ETIMEDOUT' },
      'made no TCP connection (ETIMEDOUT)',
    ],
    [
      'a new connection that never came up, on a server that answered before',
      { wasUp: false, answeredOnce: true, code: 'ECONNREFUSED' },
      'made no TCP connection (ECONNREFUSED)',
    ],
    [
      'a connection closed before any answer',
      { answeredOnce: false, unanswered: 3, code: 'ECONNRESET' },
      'closed a TCP connection without an answer (ECONNRESET)',
    ],
    [
      'an idle connection closed before any answer',
      { answeredOnce: false, unanswered: 0 },
      'closed a TCP connection without an answer (EOF)',
    ],
    [
      'a connection given up on before any answer',
      { answeredOnce: false, silent: true, unanswered: 5 },
      'answered nothing over TCP for 500 ms',
    ],
    ['an idle connection closed after answers', {}, undefined],
    ['a first close under unanswered queries', { unanswered: 4 }, undefined],
    [
      'a connection given up on after answers',
      { silent: true, unanswered: 5 },
      undefined,
    ],
  ])('%s: %j', (_what, end, reason) => {
    const policy = new FallbackPolicy(TIMEOUT_MS);
    expect(policy.afterClose({ ...CLEAN, ...end })).toBe(reason);
  });

  it.each<[string, Partial<ConnectionEnd>[], (string | undefined)[]]>([
    [
      'three closes under unanswered queries',
      [{ unanswered: 1 }, { unanswered: 2 }, { unanswered: 1 }],
      [
        undefined,
        undefined,
        'closed TCP connections with queries unanswered 3 times (EOF)',
      ],
    ],
    [
      'idle closes between them, which do not count',
      [{ unanswered: 1 }, {}, { unanswered: 1 }, {}, { unanswered: 1 }],
      [
        undefined,
        undefined,
        undefined,
        undefined,
        'closed TCP connections with queries unanswered 3 times (EOF)',
      ],
    ],
    [
      'connections given up on, which do not count',
      [
        { unanswered: 1 },
        { silent: true, unanswered: 9 },
        { unanswered: 1 },
        { silent: true, unanswered: 9 },
      ],
      [undefined, undefined, undefined, undefined],
    ],
    [
      'more closes after the third',
      [
        { unanswered: 1 },
        { unanswered: 1 },
        { unanswered: 1, code: 'ECONNRESET' },
        { unanswered: 1, code: 'ECONNRESET' },
      ],
      [
        undefined,
        undefined,
        'closed TCP connections with queries unanswered 3 times (ECONNRESET)',
        'closed TCP connections with queries unanswered 4 times (ECONNRESET)',
      ],
    ],
  ])('counts %s', (_what, ends, reasons) => {
    const policy = new FallbackPolicy(TIMEOUT_MS);
    expect(ends.map((end) => policy.afterClose({ ...CLEAN, ...end }))).toEqual(
      reasons,
    );
  });

  it('keeps a count per policy (one per TCP channel)', () => {
    const a = new FallbackPolicy(TIMEOUT_MS);
    const b = new FallbackPolicy(TIMEOUT_MS);
    const lossy = { ...CLEAN, unanswered: 1 };
    a.afterClose(lossy);
    a.afterClose(lossy);
    expect(b.afterClose(lossy)).toBeUndefined();
    expect(a.afterClose(lossy)).toMatch(/3 times/);
  });
});
