import { describe, expect, it } from 'vitest';
import { threadShare } from '../../src/run/thread-pool.js';
import type { DepsOptions } from '../../src/run/deps.js';

const deps: DepsOptions = {
  resolvers: ['127.0.0.1:53'],
  rate: 900,
  timeoutMs: 2000,
  retries: 2,
  asnSource: 'none',
  asnDb: null,
};

describe('threadShare', () => {
  it.each([
    [1, 200, 900],
    [2, 100, 450],
    [3, 67, 300],
  ])(
    '%i threads share --concurrency 200 and --rate 900 as %i and %i',
    (threads, concurrency, rate) => {
      const share = threadShare({ concurrency: 200, deps }, threads);
      expect(share.concurrency).toBe(concurrency);
      expect(share.deps.rate).toBe(rate);
      expect(share.deps.resolvers).toEqual(deps.resolvers);
    },
  );

  it('keeps an unlimited rate unlimited and at least one domain a thread', () => {
    const share = threadShare(
      { concurrency: 1, deps: { ...deps, rate: 0 } },
      4,
    );
    expect(share.deps.rate).toBe(0);
    expect(share.concurrency).toBe(1);
  });
});
