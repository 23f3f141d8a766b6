/**
 * The behaviour every {@link DnsPort} adapter on real servers must share, as
 * one suite to run against each: answers and record shapes, NXDOMAIN/NODATA,
 * rotation and retries, failures as data, truncation, cancellation. Call
 * {@link resolverContract} at the top level of a test file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFailure } from '../../src/core/dns.js';
import type { DnsPort, QueryType } from '../../src/core/dns.js';
import { startFakeDnsServer } from './dns-server.js';
import type { FakeDnsServer, FakeRecord } from './dns-server.js';

/** The options every adapter takes. */
export interface ContractOptions {
  servers: string[];
  timeoutMs?: number;
  retries?: number;
}

export type ContractResolver = DnsPort & { close(): void };

export const CONTRACT_RECORDS: FakeRecord[] = [
  {
    name: 'a.test',
    type: 'MX',
    data: { preference: 10, exchange: 'MX1.Example.COM.' },
  },
  {
    name: 'a.test',
    type: 'MX',
    data: { preference: 20, exchange: 'mx2.example.com' },
  },
  { name: 'a.test', type: 'A', data: '192.0.2.1' },
  { name: 'a.test', type: 'A', data: '192.0.2.2' },
  { name: 'a.test', type: 'AAAA', data: '2001:db8:0:0:0:0:0:1' },
  { name: 'a.test', type: 'TXT', data: 'v=spf1 -all' },
  {
    name: 'a.test',
    type: 'TXT',
    data: ['v=spf1 include:spf.protection.', 'outlook.com -all'],
  },
  { name: 'alias.test', type: 'CNAME', data: 'A.Test.' },
  { name: 'dangling.test', type: 'CNAME', data: 'elsewhere.example' },
  {
    name: '_sip._tls.a.test',
    type: 'SRV',
    data: {
      priority: 100,
      weight: 1,
      port: 443,
      target: 'SIPDIR.Online.Lync.com.',
    },
  },
  { name: 'nullmx.test', type: 'MX', data: { preference: 0, exchange: '.' } },
  {
    name: '*.wild.test',
    type: 'MX',
    data: { preference: 5, exchange: 'mx.wild.test' },
  },
];

/**
 * Defines the shared suites for the adapter `create` builds, under `label`.
 * `create` gets the options of the case; it should not set `timeoutMs` or
 * `retries` defaults of its own. `transport` is how the adapter sends its
 * queries: a datagram each, or pipelined on TCP connections.
 */
export function resolverContract(
  label: string,
  create: (options: ContractOptions) => ContractResolver,
  transport: 'udp' | 'tcp' = 'udp',
): void {
  const cleanups: (() => unknown)[] = [];

  /** A resolver that cleans up after the test; fresh, so rotation starts at servers[0]. */
  function resolver(options: ContractOptions): ContractResolver {
    const r = create({ timeoutMs: 500, ...options });
    cleanups.push(() => r.close());
    return r;
  }

  async function server(
    ...args: Parameters<typeof startFakeDnsServer>
  ): Promise<FakeDnsServer> {
    const s = await startFakeDnsServer(...args);
    cleanups.push(() => s.close());
    return s;
  }

  /** A server that takes every query, over UDP and TCP, and never answers. */
  function blackHole(): Promise<FakeDnsServer> {
    return server({ behaviour: () => 'drop' });
  }

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  describe(`${label}: answers from a fake server`, () => {
    let good: FakeDnsServer;

    beforeAll(async () => {
      good = await server({ records: CONTRACT_RECORDS });
    });

    it.each<{
      name: string;
      type: QueryType;
      status: string;
      records: unknown[];
    }>([
      {
        name: 'a.test',
        type: 'MX',
        status: 'ok',
        records: [
          { exchange: 'mx1.example.com', priority: 10 },
          { exchange: 'mx2.example.com', priority: 20 },
        ],
      },
      {
        name: 'a.test',
        type: 'A',
        status: 'ok',
        records: ['192.0.2.1', '192.0.2.2'],
      },
      { name: 'a.test', type: 'AAAA', status: 'ok', records: ['2001:db8::1'] },
      {
        name: 'a.test',
        type: 'TXT',
        status: 'ok',
        records: [
          'v=spf1 -all',
          'v=spf1 include:spf.protection.outlook.com -all',
        ],
      },
      { name: 'alias.test', type: 'CNAME', status: 'ok', records: ['a.test'] },
      {
        name: '_sip._tls.a.test',
        type: 'SRV',
        status: 'ok',
        records: [
          {
            name: 'sipdir.online.lync.com',
            port: 443,
            priority: 100,
            weight: 1,
          },
        ],
      },
      {
        name: 'nullmx.test',
        type: 'MX',
        status: 'ok',
        records: [{ exchange: '', priority: 0 }],
      },
      {
        name: 'alias.test',
        type: 'MX',
        status: 'ok',
        records: [
          { exchange: 'mx1.example.com', priority: 10 },
          { exchange: 'mx2.example.com', priority: 20 },
        ],
      },
      {
        name: 'host.wild.test',
        type: 'MX',
        status: 'ok',
        records: [{ exchange: 'mx.wild.test', priority: 5 }],
      },
      { name: 'nope.test', type: 'MX', status: 'nxdomain', records: [] },
      { name: 'a.test', type: 'SRV', status: 'nodata', records: [] },
      { name: 'a.test', type: 'CNAME', status: 'nodata', records: [] },
      { name: '_tls.a.test', type: 'SRV', status: 'nodata', records: [] },
      // c-ares returns an empty list, not ENODATA, for a lone CNAME.
      { name: 'dangling.test', type: 'MX', status: 'nodata', records: [] },
      { name: 'dangling.test', type: 'A', status: 'nodata', records: [] },
    ])('$type $name → $status', async ({ name, type, status, records }) => {
      const result = await resolver({ servers: [good.address] }).query(
        name,
        type,
      );
      expect(result).toMatchObject({
        name,
        type,
        status,
        records,
        resolver: good.address,
      });
      expect(result.error).toBeUndefined();
      expect(result.ms).toBeGreaterThanOrEqual(0);
    });

    it('reports a bad name as error without throwing', async () => {
      const r = resolver({ servers: [good.address] });
      await expect(r.query('a..test', 'A')).resolves.toMatchObject({
        status: 'error',
        error: 'EBADNAME',
      });
      await expect(
        r.query(undefined as unknown as string, 'A'),
      ).resolves.toMatchObject({ status: 'error' });
    });

    it('answers 2000 parallel queries', async () => {
      const many = await server({
        records: Array.from({ length: 2000 }, (_, i) => ({
          name: `d${i}.test`,
          type: 'MX' as const,
          data: { preference: i % 50, exchange: `mx${i}.test` },
        })),
      });
      const r = resolver({ servers: [many.address], timeoutMs: 2000 });
      const results = await Promise.all(
        Array.from({ length: 2000 }, (_, i) => r.query(`d${i}.test`, 'MX')),
      );
      expect(results.filter((x) => x.status !== 'ok')).toEqual([]);
      results.forEach((x, i) => {
        expect(x.records).toEqual([
          { exchange: `mx${i}.test`, priority: i % 50 },
        ]);
      });
      // Nothing was lost and retried.
      expect(many.queries).toHaveLength(2000);
    });
  });

  describe(`${label}: rotation and failures`, () => {
    it('moves on to the next server after SERVFAIL', async () => {
      const failing = await server({
        records: CONTRACT_RECORDS,
        behaviour: () => 'servfail',
      });
      const good = await server({ records: CONTRACT_RECORDS });
      const r = resolver({
        servers: [failing.address, good.address],
        retries: 1,
      });
      // Four queries: two start on each server.
      const results = await Promise.all(
        ['a.test', 'a.test', 'nope.test', 'nope.test'].map((n) =>
          r.query(n, 'MX'),
        ),
      );
      expect(results.map((x) => [x.status, x.resolver])).toEqual([
        ['ok', good.address],
        ['ok', good.address],
        ['nxdomain', good.address],
        ['nxdomain', good.address],
      ]);
      expect(failing.queries).toHaveLength(2);
      expect(good.queries).toHaveLength(4);
    });

    it('gives SERVFAIL when there is no try left', async () => {
      const failing = await server({
        records: CONTRACT_RECORDS,
        behaviour: () => 'servfail',
      });
      const good = await server({ records: CONTRACT_RECORDS });
      const r = resolver({
        servers: [failing.address, good.address],
        retries: 0,
      });
      const result = await r.query('a.test', 'MX');
      expect(result).toMatchObject({
        status: 'servfail',
        resolver: failing.address,
      });
      expect(good.queries).toHaveLength(0);
    });

    it('gives REFUSED when every server refuses, after 1 + retries tries', async () => {
      const a = await server({ behaviour: () => 'refused' });
      const b = await server({ behaviour: () => 'refused' });
      const r = resolver({ servers: [a.address, b.address], retries: 2 });
      const result = await r.query('a.test', 'MX');
      expect(result).toMatchObject({ status: 'refused', resolver: a.address });
      expect(a.queries.length + b.queries.length).toBe(3);
    });

    it('keeps the last try’s status', async () => {
      const refusing = await server({ behaviour: () => 'refused' });
      const hole = await blackHole();
      const r = resolver({
        servers: [refusing.address, hole.address],
        retries: 1,
        timeoutMs: 200,
      });
      const first = await r.query('a.test', 'MX');
      expect(first).toMatchObject({
        status: 'timeout',
        resolver: hole.address,
      });
      const second = await r.query('a.test', 'MX');
      expect(second).toMatchObject({
        status: 'refused',
        resolver: refusing.address,
      });
    });

    it('times out on a black hole within a few deadlines', async () => {
      const hole = await blackHole();
      const timeoutMs = 300;
      const retries = 2;
      const r = resolver({ servers: [hole.address], timeoutMs, retries });
      const started = performance.now();
      const result = await r.query('a.test', 'A');
      const elapsed = performance.now() - started;
      expect(result.status).toBe('timeout');
      expect(result.error).toBeUndefined();
      expect(elapsed).toBeLessThan(5 * timeoutMs * (1 + retries));
    });

    it('answers in full a query whose UDP reply would be truncated', async () => {
      const truncating = await server({
        records: CONTRACT_RECORDS,
        behaviour: () => 'truncate',
      });
      const result = await resolver({ servers: [truncating.address] }).query(
        'a.test',
        'TXT',
      );
      expect(result.status).toBe('ok');
      expect(result.records).toHaveLength(2);
      expect(truncating.queries.map((q) => q.proto)).toEqual(
        transport === 'udp' ? ['udp', 'tcp'] : ['tcp'],
      );
    });

    it('gives error, not nodata, when the answer needs TCP and TCP is refused', async () => {
      const udpOnly = await server({
        records: CONTRACT_RECORDS,
        behaviour: () => 'truncate',
        tcp: false,
      });
      const result = await resolver({ servers: [udpOnly.address] }).query(
        'a.test',
        'MX',
      );
      expect(result).toMatchObject({ status: 'error', error: 'ECONNREFUSED' });
    });

    it(`moves on from a server whose ${transport.toUpperCase()} port is closed`, async () => {
      const gone = await startFakeDnsServer();
      await gone.close();
      const good = await server({ records: CONTRACT_RECORDS });
      const r = resolver({ servers: [gone.address, good.address], retries: 1 });
      expect(await r.query('a.test', 'A')).toMatchObject({
        status: 'ok',
        resolver: good.address,
      });
      expect(
        await resolver({ servers: [gone.address], retries: 0 }).query(
          'a.test',
          'A',
        ),
      ).toMatchObject({ status: 'error', error: 'ECONNREFUSED' });
    });

    it.each([
      { behaviour: 'garbage' as const, status: 'error', error: 'EBADRESP' },
      // c-ares drops a reply with a foreign id and keeps waiting.
      { behaviour: 'wrong-id' as const, status: 'timeout', error: undefined },
      { behaviour: 'formerr' as const, status: 'error', error: 'EFORMERR' },
    ])(
      'turns $behaviour into $status',
      async ({ behaviour, status, error }) => {
        const bad = await server({
          records: CONTRACT_RECORDS,
          behaviour: () => behaviour,
        });
        const r = resolver({
          servers: [bad.address],
          timeoutMs: 200,
          retries: 1,
        });
        const result = await r.query('a.test', 'MX');
        expect(isFailure(result.status)).toBe(true);
        expect(result.status).toBe(status);
        expect(result.error).toBe(error);
        // The channel still works afterwards.
        bad.setBehaviour(() => 'answer');
        expect((await r.query('a.test', 'MX')).status).toBe('ok');
      },
    );

    it('ends in-flight and later queries as cancelled on close()', async () => {
      const hole = await blackHole();
      const r = create({ servers: [hole.address], timeoutMs: 5000 });
      const pending = r.query('a.test', 'A');
      r.close();
      expect(await pending).toMatchObject({
        status: 'error',
        error: 'ECANCELLED',
      });
      expect(await r.query('a.test', 'A')).toMatchObject({
        status: 'error',
        error: 'ECANCELLED',
      });
    });
  });
}
