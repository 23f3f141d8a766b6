import { describe, expect, it } from 'vitest';
import { createDnsCache } from '../../src/core/dns-cache.js';
import type { DnsPort, QueryResult, QueryStatus } from '../../src/core/dns.js';

/** A DnsPort that counts what reaches it; `status` decides each answer. */
function counting(status: (name: string) => QueryStatus = () => 'ok') {
  const asked: string[] = [];
  const port: DnsPort = {
    query: (name, type) => {
      asked.push(`${type} ${name}`);
      const result: QueryResult = {
        name,
        type,
        status: status(name),
        records: ['192.0.2.1'],
        resolver: 'fake',
        ms: 0,
      };
      return Promise.resolve(result as never);
    },
  };
  return { port, asked };
}

describe('createDnsCache', () => {
  it('does not keep a name asked once: names of one domain alone never fill it', async () => {
    const { port, asked } = counting();
    const cache = createDnsCache(port, { now: () => 0 });
    await cache.query('a.example', 'A');
    await cache.query('b.example', 'A');
    await cache.query('a.example', 'A');
    expect(asked).toEqual(['A a.example', 'A b.example', 'A a.example']);
    expect(cache.stats()).toEqual({ hits: 0, misses: 3 });
  });

  it('keeps a name from its second ask on, and shares it after that', async () => {
    const { port, asked } = counting();
    const cache = createDnsCache(port, { now: () => 0 });
    for (let i = 0; i < 5; i++) await cache.query('mx.shared.example', 'A');
    await Promise.all([
      cache.query('mx.shared.example', 'A'),
      cache.query('mx.shared.example', 'A'),
    ]);
    expect(asked).toEqual(['A mx.shared.example', 'A mx.shared.example']);
    expect(cache.stats()).toEqual({ hits: 5, misses: 2 });
  });

  it('keys by type as well as name', async () => {
    const { port, asked } = counting();
    const cache = createDnsCache(port, { now: () => 0 });
    for (const type of ['A', 'AAAA', 'A', 'AAAA', 'A', 'AAAA'] as const) {
      await cache.query('mx.shared.example', type);
    }
    expect(asked).toHaveLength(4);
  });

  it('never keeps a failure: the next ask goes out again', async () => {
    const { port, asked } = counting(() => 'servfail');
    const cache = createDnsCache(port, { now: () => 0 });
    for (let i = 0; i < 4; i++) await cache.query('down.example', 'A');
    expect(asked).toHaveLength(4);
  });

  it('asks again once an answer is older than maxAgeMs', async () => {
    const { port, asked } = counting();
    let now = 0;
    const cache = createDnsCache(port, { now: () => now, maxAgeMs: 1000 });
    await cache.query('mx.shared.example', 'A');
    await cache.query('mx.shared.example', 'A');
    await cache.query('mx.shared.example', 'A');
    expect(asked).toHaveLength(2);
    now = 1500;
    await cache.query('mx.shared.example', 'A');
    await cache.query('mx.shared.example', 'A');
    expect(asked).toHaveLength(3);
  });

  it('is bounded: a kept name is forgotten after 2 × size other kept names', async () => {
    const { port, asked } = counting();
    const cache = createDnsCache(port, { now: () => 0, size: 10 });
    const twice = async (name: string) => {
      await cache.query(name, 'A');
      await cache.query(name, 'A');
    };
    await twice('first.example');
    for (let i = 0; i < 25; i++) await twice(`n${i}.example`);
    const before = asked.length;
    await cache.query('first.example', 'A');
    expect(asked.length).toBe(before + 1);
  });
});
