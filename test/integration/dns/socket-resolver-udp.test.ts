import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { createSocketResolver } from '../../../src/adapters/dns/socket-resolver.js';
import type { SocketResolverOptions } from '../../../src/adapters/dns/socket-resolver.js';
import { startFakeDnsServer } from '../../helpers/dns-server.js';
import type { FakeDnsServer, FakeRecord } from '../../helpers/dns-server.js';
import { resolverContract } from '../../helpers/resolver-contract.js';

resolverContract('udp', (options) => createSocketResolver(options));

const cleanups: (() => unknown)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function resolver(options: SocketResolverOptions) {
  const r = createSocketResolver({ timeoutMs: 500, ...options });
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

/** A reply to `query` echoing its question, with `answers` and flags. */
function replyTo(
  query: DecodedPacket,
  answers: Answer[],
  extra: Partial<Packet> = {},
): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: query.questions ?? [],
    answers,
    ...extra,
  });
}

/**
 * A UDP server on 127.0.0.1 that answers each query with the datagrams
 * `script` returns (in order), for replies the fake server cannot make.
 */
async function scriptedServer(
  script: (query: DecodedPacket, raw: Buffer) => Buffer[],
): Promise<{ address: string; received: Buffer[] }> {
  const udp = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  udp.on('message', (raw, rinfo) => {
    received.push(raw);
    for (const out of script(dnsPacket.decode(raw), raw)) {
      udp.send(out, rinfo.port, rinfo.address);
    }
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => udp.close(resolve)));
  return { address: `127.0.0.1:${udp.address().port}`, received };
}

const CHAIN: FakeRecord[] = [
  { name: 'www.test', type: 'CNAME', data: 'Edge.CDN.test.' },
  { name: 'edge.cdn.test', type: 'CNAME', data: 'host.cdn.test' },
  { name: 'host.cdn.test', type: 'A', data: '192.0.2.7' },
  {
    name: 'host.cdn.test',
    type: 'MX',
    data: { preference: 1, exchange: 'mx.cdn.test' },
  },
  { name: 'mx.test', type: 'MX', data: { preference: 1, exchange: 'm.test' } },
  { name: 'loop1.test', type: 'CNAME', data: 'loop2.test' },
  { name: 'loop2.test', type: 'CNAME', data: 'loop1.test' },
];

describe('udp: CNAME chains', () => {
  it.each<{
    name: string;
    type: 'A' | 'MX' | 'CNAME' | 'TXT';
    status: string;
    records: unknown[];
    cnames: string[] | undefined;
  }>([
    {
      name: 'www.test',
      type: 'A',
      status: 'ok',
      records: ['192.0.2.7'],
      cnames: ['edge.cdn.test', 'host.cdn.test'],
    },
    {
      name: 'WWW.Test',
      type: 'MX',
      status: 'ok',
      records: [{ exchange: 'mx.cdn.test', priority: 1 }],
      cnames: ['edge.cdn.test', 'host.cdn.test'],
    },
    {
      name: 'www.test',
      type: 'TXT',
      status: 'nodata',
      records: [],
      cnames: ['edge.cdn.test', 'host.cdn.test'],
    },
    // A CNAME question is answered by the first alias alone.
    {
      name: 'www.test',
      type: 'CNAME',
      status: 'ok',
      records: ['edge.cdn.test'],
      cnames: undefined,
    },
    {
      name: 'mx.test',
      type: 'MX',
      status: 'ok',
      records: [{ exchange: 'm.test', priority: 1 }],
      cnames: undefined,
    },
    {
      name: 'loop1.test',
      type: 'A',
      status: 'nodata',
      records: [],
      cnames: ['loop2.test', 'loop1.test'],
    },
  ])(
    '$type $name → $status via $cnames',
    async ({ name, type, status, records, cnames }) => {
      const s = await server({ records: CHAIN });
      const result = await resolver({ servers: [s.address] }).query(name, type);
      expect(result).toMatchObject({ name, type, status, records });
      expect(result.cnames).toEqual(cnames);
    },
  );

  it('names the alias of a lone CNAME (an authoritative server’s answer)', async () => {
    const s = await server({
      records: [{ name: 'd.test', type: 'CNAME', data: 'elsewhere.example' }],
    });
    const result = await resolver({ servers: [s.address] }).query(
      'd.test',
      'MX',
    );
    expect(result).toMatchObject({ status: 'nodata', records: [] });
    expect(result.cnames).toEqual(['elsewhere.example']);
  });

  it('keeps the chain of an NXDOMAIN after aliases', async () => {
    const s = await scriptedServer((q) => [
      replyTo(
        q,
        [
          {
            name: q.questions?.[0]?.name ?? '',
            type: 'CNAME',
            ttl: 60,
            data: 'gone.test',
          },
        ],
        { flags: dnsPacket.RECURSION_DESIRED | 3 },
      ),
    ]);
    const result = await resolver({ servers: [s.address] }).query(
      'alias.test',
      'MX',
    );
    expect(result).toMatchObject({ status: 'nxdomain', records: [] });
    expect(result.cnames).toEqual(['gone.test']);
  });

  it('ignores records that are not on the chain', async () => {
    const s = await scriptedServer((q) => [
      replyTo(q, [
        { name: 'other.test', type: 'A', ttl: 60, data: '192.0.2.66' },
        { name: 'a.test', type: 'A', ttl: 60, data: '192.0.2.1' },
      ]),
    ]);
    const result = await resolver({ servers: [s.address] }).query(
      'a.test',
      'A',
    );
    expect(result).toMatchObject({ status: 'ok', records: ['192.0.2.1'] });
  });
});

describe('udp: which replies count', () => {
  it('ignores a reply to another question and takes the right one', async () => {
    const s = await scriptedServer((q) => {
      const question = q.questions?.[0];
      if (!question) return [];
      const answer: Answer = {
        name: question.name,
        type: 'A',
        ttl: 60,
        data: '192.0.2.1',
      };
      return [
        // Same id, other name; other type; other class: all ignored.
        replyTo(q, [{ ...answer, data: '192.0.2.66' }], {
          questions: [{ ...question, name: 'evil.test' }],
        }),
        replyTo(q, [{ ...answer, data: '192.0.2.67' }], {
          questions: [{ ...question, type: 'AAAA' }],
        }),
        replyTo(q, [{ ...answer, data: '192.0.2.68' }], {
          questions: [{ ...question, class: 'CH' }],
        }),
        replyTo(q, [{ ...answer, data: '192.0.2.69' }], { questions: [] }),
        // A question, not a reply.
        dnsPacket.encode({
          type: 'query',
          id: q.id ?? 0,
          questions: q.questions ?? [],
          answers: [{ ...answer, data: '192.0.2.70' }],
        }),
        // Then the real answer.
        replyTo(q, [answer]),
      ];
    });
    const result = await resolver({ servers: [s.address] }).query(
      'a.test',
      'A',
    );
    expect(result).toMatchObject({ status: 'ok', records: ['192.0.2.1'] });
  });

  it('times out when every reply is for another question', async () => {
    const s = await scriptedServer((q) => [
      replyTo(q, [{ name: 'evil.test', type: 'A', ttl: 60, data: '1.2.3.4' }], {
        questions: [{ name: 'evil.test', type: 'A', class: 'IN' }],
      }),
    ]);
    const result = await resolver({
      servers: [s.address],
      timeoutMs: 150,
      retries: 1,
    }).query('a.test', 'A');
    expect(result).toMatchObject({ status: 'timeout', records: [] });
    expect(s.received).toHaveLength(2);
  });

  it('fails fast with EBADRESP on a malformed reply carrying our id', async () => {
    // A compression pointer that points at itself.
    const s = await scriptedServer((q) => {
      const out = replyTo(q, [
        { name: 'a.test', type: 'CNAME', ttl: 60, data: 'b.test' },
      ]);
      const rdata = out.length - 'b.test'.length - 2;
      out.writeUInt16BE(0xc000 | rdata, rdata);
      return [out];
    });
    const started = performance.now();
    const result = await resolver({
      servers: [s.address],
      timeoutMs: 2000,
      retries: 1,
    }).query('a.test', 'MX');
    expect(result).toMatchObject({ status: 'error', error: 'EBADRESP' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(s.received).toHaveLength(2);
  });

  it('sends RD, EDNS0 (1232 bytes) and random ids', async () => {
    const s = await scriptedServer((q) => [replyTo(q, [])]);
    const r = resolver({ servers: [s.address] });
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => r.query(`n${i}.test`, 'A')),
    );
    expect(results.every((x) => x.status === 'nodata')).toBe(true);
    const queries = s.received.map((raw) => dnsPacket.decode(raw));
    for (const q of queries) {
      expect(q.flags ?? 0).toBe(dnsPacket.RECURSION_DESIRED);
      expect(q.additionals).toEqual([
        expect.objectContaining({ type: 'OPT', udpPayloadSize: 1232 }),
      ]);
    }
    const ids = queries.map((q) => q.id ?? 0);
    expect(new Set(ids).size).toBeGreaterThan(60);
    const sequential = ids.filter(
      (id, i) => i > 0 && id === (ids[i - 1] ?? 0) + 1,
    );
    expect(sequential.length).toBeLessThan(4);
  });

  it('asks again without EDNS when a server does not know it', async () => {
    const s = await scriptedServer((q) =>
      q.additionals?.some((a) => a.type === 'OPT')
        ? [replyTo(q, [], { flags: 1 })] // FORMERR, no OPT
        : [
            replyTo(q, [
              { name: 'a.test', type: 'A', ttl: 60, data: '192.0.2.1' },
            ]),
          ],
    );
    const result = await resolver({ servers: [s.address] }).query(
      'a.test',
      'A',
    );
    expect(result).toMatchObject({ status: 'ok', records: ['192.0.2.1'] });
    expect(
      s.received.map((raw) => dnsPacket.decode(raw).additionals?.length),
    ).toEqual([1, 0]);
  });
});

describe('udp: defences against forged replies', () => {
  const LONG = 'mailbox-of-a-rather-long-domain.example.test';

  it('sends each name in random letter case (DNS 0x20)', async () => {
    const s = await server({});
    const r = resolver({ servers: [s.address] });
    await Promise.all(Array.from({ length: 32 }, () => r.query(LONG, 'A')));
    const sent = s.queries.map((q) => q.name);
    expect(sent.every((n) => n.toLowerCase() === LONG)).toBe(true);
    // 36 letters: 32 queries with fewer than 30 spellings would be no chance
    expect(new Set(sent).size).toBeGreaterThan(30);
  });

  it('does not take a reply in another letter case over UDP: asks over TCP', async () => {
    const records: FakeRecord[] = [
      { name: LONG, type: 'A', data: '192.0.2.1' },
      { name: 'echo.test', type: 'A', data: '192.0.2.2' },
    ];
    const s = await server({
      records,
      behaviour: (name) => (name === LONG ? 'other-case' : 'answer'),
    });
    const blind: string[] = [];
    const r = resolver({
      servers: [s.address],
      onCaseBlind: (spec) => blind.push(spec),
    });
    // The server echoes the case: one that does not is a forgery.
    expect(await r.query('echo.test', 'A')).toMatchObject({ status: 'ok' });
    for (let i = 0; i < 4; i++) {
      const result = await r.query(LONG, 'A');
      expect(result).toMatchObject({ status: 'ok', records: ['192.0.2.1'] });
    }
    const asked = s.queries.filter((q) => q.name.toLowerCase() === LONG);
    expect(asked.map((q) => q.proto)).toEqual([
      ...['udp', 'tcp', 'udp', 'tcp', 'udp', 'tcp', 'udp', 'tcp'],
    ]);
    expect(blind).toEqual([]);
  });

  it('sends plain names, with one notice, to a server that does not echo the case', async () => {
    const s = await server({
      records: [{ name: LONG, type: 'A', data: '192.0.2.1' }],
      behaviour: () => 'lower-case',
    });
    const blind: string[] = [];
    const r = resolver({
      servers: [s.address],
      onCaseBlind: (spec) => blind.push(spec),
    });
    for (let i = 0; i < 8; i++) {
      const result = await r.query(LONG, 'A');
      expect(result).toMatchObject({ status: 'ok', records: ['192.0.2.1'] });
    }
    expect(blind).toEqual([s.address]);
    // The first answer in another case over TCP (no forgery comes that way)
    // shows the server's habit: plain names from then on.
    const sent = s.queries.map((q) => `${q.proto} ${q.name}`);
    expect(sent.slice(2)).toEqual(
      Array.from({ length: 7 }, () => `udp ${LONG}`),
    );
    expect(sent[0]).not.toBe(`udp ${LONG}`);
    expect(sent[1]?.toLowerCase()).toBe(`tcp ${LONG}`);
  });

  it('takes a server without TCP whose replies are in another case for one that does not echo it', async () => {
    const s = await server({
      records: [{ name: LONG, type: 'A', data: '192.0.2.1' }],
      behaviour: () => 'lower-case',
      tcp: false,
    });
    const blind: string[] = [];
    const r = resolver({
      servers: [s.address],
      retries: 2,
      onCaseBlind: (spec) => blind.push(spec),
    });
    // Each try over TCP after a reply in another case is refused; the third
    // makes the server one that does not echo the case.
    expect(await r.query(LONG, 'A')).toMatchObject({
      status: 'error',
      error: 'ECONNREFUSED',
    });
    expect(blind).toEqual([s.address]);
    expect(await r.query(LONG, 'A')).toMatchObject({ status: 'ok' });
    expect(s.queries.at(-1)?.name).toBe(LONG);
  });

  it('moves to a fresh socket on a new port after udpSocketQueries queries', async () => {
    const s = await server({
      records: [{ name: 'a.test', type: 'A', data: '192.0.2.1' }],
    });
    const r = resolver({
      servers: [s.address],
      socketsPerServer: 1,
      udpSocketQueries: 4,
    });
    for (let i = 0; i < 20; i++) {
      expect(await r.query('a.test', 'A')).toMatchObject({ status: 'ok' });
    }
    const ports = s.queries.map((q) => q.port);
    expect(new Set(ports).size).toBe(5);
    for (let i = 0; i < 20; i += 4) {
      expect(new Set(ports.slice(i, i + 4)).size).toBe(1);
    }
  });

  it('takes the replies to an old socket’s queries there, and only those', async () => {
    // An attacker who learnt the first port answers every query there, with
    // the right id and question; the real server answers slow.test late.
    const udp = dgram.createSocket('udp4');
    let learnt: number | undefined;
    const ports: number[] = [];
    udp.on('message', (raw, rinfo) => {
      const q = dnsPacket.decode(raw);
      learnt ??= rinfo.port;
      ports.push(rinfo.port);
      const name = q.questions?.[0]?.name ?? '';
      const answer = replyTo(q, [
        { name, type: 'A', ttl: 60, data: '192.0.2.9' },
      ]);
      if (/^slow\.test$/i.test(name)) {
        setTimeout(() => udp.send(answer, rinfo.port, rinfo.address), 300);
      } else {
        udp.send(answer, learnt, rinfo.address);
      }
    });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => udp.close(resolve)));
    const r = resolver({
      servers: [`127.0.0.1:${udp.address().port}`],
      socketsPerServer: 1,
      udpSocketQueries: 1,
      timeoutMs: 1000,
      retries: 0,
    });
    const slow = r.query('slow.test', 'A');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const others = await Promise.all(
      ['b.test', 'c.test', 'd.test'].map((n) => r.query(n, 'A')),
    );
    expect(await slow).toMatchObject({ status: 'ok', records: ['192.0.2.9'] });
    expect(new Set(ports).size).toBe(4);
    // Sent on new sockets, answered on the old one: not taken.
    expect(others.map((x) => x.status)).toEqual([
      'timeout',
      'timeout',
      'timeout',
    ]);
  });

  it('takes no forged reply that guessed the id (one in 65536 does)', async () => {
    const s = await server({
      records: [{ name: LONG, type: 'A', data: '192.0.2.1' }],
      spoofPerQuery: 'guessed-id',
    });
    const r = resolver({ servers: [s.address] });
    expect(await r.query(LONG, 'A')).toMatchObject({
      status: 'ok',
      records: ['192.0.2.1'],
    });
    // The forgery came in another letter case: asked again over TCP.
    expect(s.queries.map((q) => q.proto)).toEqual(['udp', 'tcp']);
  });
});

describe('udp: a closed port', () => {
  it('fails a burst of queries fast with ECONNREFUSED, not by timeouts', async () => {
    const gone = await startFakeDnsServer();
    await gone.close();
    const r = resolver({
      servers: [gone.address],
      retries: 0,
      timeoutMs: 5000,
    });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => r.query(`n${i}.test`, 'A')),
    );
    expect(new Set(results.map((x) => `${x.status} ${x.error}`))).toEqual(
      new Set(['error ECONNREFUSED']),
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('udp: sizes and load', () => {
  const chunk = (c: string) => c.repeat(250);

  it('gets a 1000-byte TXT answer over UDP thanks to EDNS', async () => {
    const s = await server({
      records: [
        {
          name: 'big.test',
          type: 'TXT',
          data: [chunk('a'), chunk('b'), chunk('c'), chunk('d')],
        },
      ],
    });
    const result = await resolver({ servers: [s.address] }).query(
      'big.test',
      'TXT',
    );
    expect(result.status).toBe('ok');
    expect(result.records).toEqual([
      chunk('a') + chunk('b') + chunk('c') + chunk('d'),
    ]);
    expect(s.queries.map((q) => q.proto)).toEqual(['udp']);
  });

  it('falls back to TCP when the answer exceeds 1232 bytes', async () => {
    const s = await server({
      records: Array.from({ length: 6 }, (_, i) => ({
        name: 'huge.test',
        type: 'TXT' as const,
        data: [chunk(String(i))],
      })),
    });
    const result = await resolver({ servers: [s.address] }).query(
      'huge.test',
      'TXT',
    );
    expect(result.status).toBe('ok');
    expect(result.records).toHaveLength(6);
    expect(s.queries.map((q) => q.proto)).toEqual(['udp', 'tcp']);
  });

  it('asks truncated queries again on one TCP connection, kept for the next', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `t${i}.test`);
    const s = await server({
      records: names.map((name) => ({
        name,
        type: 'TXT' as const,
        data: [name],
      })),
      behaviour: () => 'truncate',
    });
    const r = resolver({ servers: [s.address], socketsPerServer: 1 });
    const burst = await Promise.all(names.map((n) => r.query(n, 'TXT')));
    expect(burst.map((x) => [x.status, x.records])).toEqual(
      names.map((n) => ['ok', [n]]),
    );
    const later = await r.query('t0.test', 'TXT');
    expect(later).toMatchObject({ status: 'ok', records: ['t0.test'] });
    expect(s.queries.filter((q) => q.proto === 'tcp')).toHaveLength(31);
    expect(s.tcpConnections).toBe(1);
  });

  it('after truncation, a TCP connection the server closes is opened again', async () => {
    const s = await server({
      records: [{ name: 'a.test', type: 'TXT', data: ['x'] }],
      behaviour: () => 'truncate',
    });
    const r = resolver({ servers: [s.address] });
    expect(await r.query('a.test', 'TXT')).toMatchObject({ status: 'ok' });
    await s.dropTcpConnections();
    expect(await r.query('a.test', 'TXT')).toMatchObject({ status: 'ok' });
    expect(s.tcpConnections).toBe(2);
  });

  it('answers 20 000 parallel queries, none lost', async () => {
    const count = 20_000;
    const many = await server({
      records: Array.from({ length: count }, (_, i) => ({
        name: `d${i}.test`,
        type: 'MX' as const,
        data: { preference: i % 50, exchange: `mx${i}.test` },
      })),
    });
    const r = resolver({ servers: [many.address], timeoutMs: 2000 });
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) => r.query(`d${i}.test`, 'MX')),
    );
    expect(results.filter((x) => x.status !== 'ok')).toEqual([]);
    const wrong = results.filter(
      (x, i) =>
        x.records.length !== 1 ||
        x.records[0]?.exchange !== `mx${i}.test` ||
        x.records[0]?.priority !== i % 50,
    );
    expect(wrong).toEqual([]);
    expect(many.queries).toHaveLength(count);
  });
});

describe.each(['udp', 'tcp'] as const)(
  '%s: names whose servers do not answer',
  (transport) => {
    it('lets later queries past them while the server answers the rest', async () => {
      const s = await server({
        behaviour: (name) => (name.startsWith('dead') ? 'drop' : 'answer'),
      });
      const r = resolver({
        servers: [s.address],
        transport,
        socketsPerServer: 1,
        maxInFlightPerSocket: 2,
        timeoutMs: 2000,
        retries: 0,
      });
      const live = Array.from({ length: 8 }, (_, i) => `live${i + 2}.test`);
      const names = ['dead1.test', 'live1.test', 'dead2.test', ...live];
      const ended: string[] = [];
      await Promise.all(
        names.map((name) =>
          r.query(name, 'A').then((res) => ended.push(`${name} ${res.status}`)),
        ),
      );
      // Both slots hold a dead query from the third on. Counted for their
      // whole 2 s, they would keep live2 and the rest waiting until then.
      expect(ended.slice(0, 9).every((e) => e.startsWith('live'))).toBe(true);
      expect(ended.slice(9)).toEqual([
        'dead1.test timeout',
        'dead2.test timeout',
      ]);
    });

    it('keeps to the cap when nothing is answered', async () => {
      const s = await server({ behaviour: () => 'drop' });
      const r = resolver({
        servers: [s.address],
        transport,
        socketsPerServer: 1,
        maxInFlightPerSocket: 3,
        timeoutMs: 1500,
        retries: 0,
      });
      const asked = Promise.all(
        Array.from({ length: 6 }, (_, i) => r.query(`n${i}.test`, 'A')),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(s.queries).toHaveLength(3);
      expect((await asked).map((x) => x.status)).toEqual(
        Array(6).fill('timeout'),
      );
    });
  },
);

describe('udp: record shapes as node:dns gives them', () => {
  it.each([
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::192.0.2.1'],
    ['::', '::'],
    ['::1', '::1'],
    ['::2', '::2'],
    ['1::', '1::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['FE80:0:0:0:ABCD:0:0:1', 'fe80::abcd:0:0:1'],
  ])('prints AAAA %s as %s', async (address, printed) => {
    const s = await server({
      records: [{ name: 'v6.test', type: 'AAAA', data: address }],
    });
    const result = await resolver({ servers: [s.address] }).query(
      'v6.test',
      'AAAA',
    );
    expect(result.records).toEqual([printed]);
  });

  it('escapes special characters in names as c-ares does', async () => {
    const s = await server({
      records: [
        {
          name: 'a.test',
          type: 'MX',
          data: { preference: 1, exchange: 'We(ird).x$y.test' },
        },
      ],
    });
    const result = await resolver({ servers: [s.address] }).query(
      'a.test',
      'MX',
    );
    expect(result.records).toEqual([
      { exchange: 'we\\(ird\\).x\\$y.test', priority: 1 },
    ]);
  });

  it('decodes TXT as UTF-8 when it is, else one character a byte', async () => {
    const s = await scriptedServer((q) => [
      replyTo(q, [
        { name: 'a.test', type: 'TXT', ttl: 60, data: [Buffer.from('café ✓')] },
        {
          name: 'a.test',
          type: 'TXT',
          ttl: 60,
          data: [Buffer.from([0x63, 0x61, 0x66]), Buffer.from([0xe9])],
        },
      ]),
    ]);
    const result = await resolver({ servers: [s.address] }).query(
      'a.test',
      'TXT',
    );
    expect(result.records).toEqual(['café ✓', 'caf\u00e9']);
  });

  it('gives EBADRESP for a TXT record without strings, as c-ares does', async () => {
    const s = await server({
      records: [{ name: 'a.test', type: 'TXT', data: [] }],
    });
    const result = await resolver({
      servers: [s.address],
      retries: 0,
    }).query('a.test', 'TXT');
    expect(result).toMatchObject({ status: 'error', error: 'EBADRESP' });
  });

  it.each([
    ['a.test.', 'a.test'],
    ['A.Test', 'a.test'],
    ['müller.test', 'xn--mller-kva.test'],
  ])('sends %s as %s, letters in any case', async (name, sent) => {
    const s = await server({});
    await resolver({ servers: [s.address] }).query(name, 'A');
    expect(s.queries.map((q) => q.name.toLowerCase())).toEqual([sent]);
  });

  it.each([
    '.a.test',
    'a.test..',
    'a b.test',
    'a\\.b.test',
    `${'x'.repeat(64)}.test`,
    `${`${'x'.repeat(60)}.`.repeat(4)}abcdefghij`,
  ])('refuses to send %j (EBADNAME)', async (name) => {
    const s = await server({});
    const result = await resolver({ servers: [s.address] }).query(name, 'A');
    expect(result).toMatchObject({ status: 'error', error: 'EBADNAME' });
    expect(s.queries).toHaveLength(0);
  });
});

describe('udp: configuration', () => {
  it.each<[string, SocketResolverOptions]>([
    ['no servers', { servers: [] }],
    ['a bad server', { servers: ['127.0.0.1', 'foo'] }],
    ['timeoutMs 0', { servers: ['127.0.0.1'], timeoutMs: 0 }],
    ['retries -1', { servers: ['127.0.0.1'], retries: -1 }],
    ['socketsPerServer 1.5', { servers: ['127.0.0.1'], socketsPerServer: 1.5 }],
    [
      'maxInFlightPerSocket 0',
      { servers: ['127.0.0.1'], maxInFlightPerSocket: 0 },
    ],
    [
      'maxInFlightPerSocket 5000',
      { servers: ['127.0.0.1'], maxInFlightPerSocket: 5000 },
    ],
  ])('createSocketResolver rejects %s', (_what, options) => {
    expect(() => createSocketResolver(options)).toThrow(
      expect.objectContaining({ code: 'EXO_BAD_RESOLVER' }),
    );
  });

  it('exposes the normalised servers', () => {
    const r = createSocketResolver({ servers: ['127.0.0.1', '::1'] });
    expect(r.servers).toEqual(['127.0.0.1:53', '[::1]:53']);
    r.close();
  });
});
