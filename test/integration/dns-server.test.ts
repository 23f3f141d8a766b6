import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDnsServer } from '../helpers/dns-server.js';
import type { FakeDnsServer, FakeRecord } from '../helpers/dns-server.js';

const QUERY_ID = 0x1234;

function query(name: string, type: RecordType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: QUERY_ID,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
  });
}

/** One raw query over UDP; undefined when nothing comes back within 300 ms. */
async function askUdp(
  port: number,
  name: string,
  type: RecordType,
): Promise<DecodedPacket | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 300);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(dnsPacket.decode(msg));
      });
      socket.send(query(name, type), port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

async function askTcp(
  port: number,
  name: string,
  type: RecordType,
): Promise<DecodedPacket> {
  const socket = net.connect(port, '127.0.0.1');
  try {
    return await new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          resolve(dnsPacket.streamDecode(buf) as DecodedPacket);
        }
      });
      socket.write(dnsPacket.streamEncode(dnsPacket.decode(query(name, type))));
    });
  } finally {
    socket.destroy();
  }
}

function summary(p: DecodedPacket | undefined) {
  return {
    rcode: (p as { rcode?: string } | undefined)?.rcode,
    answers: (p?.answers ?? []).map((a) => [
      a.name,
      a.type,
      'data' in a ? a.data : undefined,
    ]),
  };
}

const RECORDS: FakeRecord[] = [
  { name: 'a.test', type: 'A', data: '192.0.2.1' },
  {
    name: 'a.test',
    type: 'MX',
    data: { preference: 10, exchange: 'mx.a.test' },
  },
  { name: 'c.test', type: 'CNAME', data: 'b.test' },
  { name: 'b.test', type: 'CNAME', data: 'A.test.' },
  { name: 'dangling.test', type: 'CNAME', data: 'elsewhere.example' },
  {
    name: '_sip._tls.a.test',
    type: 'SRV',
    data: { priority: 1, weight: 1, port: 443, target: 'sip.a.test' },
  },
  {
    name: '*.w.test',
    type: 'MX',
    data: { preference: 5, exchange: 'wild.w.test' },
  },
  { name: 'real.w.test', type: 'A', data: '192.0.2.9' },
  {
    name: 'big.test',
    type: 'TXT',
    data: ['x'.repeat(250), 'y'.repeat(250), 'z'.repeat(250)],
  },
];

describe('fake DNS server', () => {
  let server: FakeDnsServer;

  beforeAll(async () => {
    server = await startFakeDnsServer({ records: RECORDS });
  });
  afterAll(() => server.close());

  it.each([
    {
      what: 'exact match',
      name: 'a.test',
      type: 'A' as const,
      rcode: 'NOERROR',
      answers: [['a.test', 'A', '192.0.2.1']],
    },
    {
      what: 'CNAME chain chased to the asked type',
      name: 'c.test',
      type: 'A' as const,
      rcode: 'NOERROR',
      answers: [
        ['c.test', 'CNAME', 'b.test'],
        // rdata keeps its spelling; the owner of the next hop follows it
        ['b.test', 'CNAME', 'A.test'],
        ['A.test', 'A', '192.0.2.1'],
      ],
    },
    {
      what: 'CNAME asked for itself is not chased',
      name: 'c.test',
      type: 'CNAME' as const,
      rcode: 'NOERROR',
      answers: [['c.test', 'CNAME', 'b.test']],
    },
    {
      what: 'CNAME to a name outside the set',
      name: 'dangling.test',
      type: 'MX' as const,
      rcode: 'NOERROR',
      answers: [['dangling.test', 'CNAME', 'elsewhere.example']],
    },
    {
      what: 'NODATA: the name has other types',
      name: 'a.test',
      type: 'TXT' as const,
      rcode: 'NOERROR',
      answers: [],
    },
    {
      what: 'empty non-terminal',
      name: '_tls.a.test',
      type: 'SRV' as const,
      rcode: 'NOERROR',
      answers: [],
    },
    {
      what: 'NXDOMAIN',
      name: 'nope.test',
      type: 'A' as const,
      rcode: 'NXDOMAIN',
      answers: [],
    },
    {
      what: 'wildcard, one label down',
      name: 'x.w.test',
      type: 'MX' as const,
      rcode: 'NOERROR',
      answers: [['x.w.test', 'MX', { preference: 5, exchange: 'wild.w.test' }]],
    },
    {
      what: 'wildcard, two labels down',
      name: 'y.x.w.test',
      type: 'MX' as const,
      rcode: 'NOERROR',
      answers: [
        ['y.x.w.test', 'MX', { preference: 5, exchange: 'wild.w.test' }],
      ],
    },
    {
      what: 'wildcard does not cover a name with records of its own',
      name: 'real.w.test',
      type: 'MX' as const,
      rcode: 'NOERROR',
      answers: [],
    },
    {
      what: 'wildcard does not apply below an existing name',
      name: 'x.real.w.test',
      type: 'MX' as const,
      rcode: 'NXDOMAIN',
      answers: [],
    },
    {
      what: 'wildcard does not cover its parent',
      name: 'w.test',
      type: 'MX' as const,
      rcode: 'NOERROR',
      answers: [],
    },
  ])('$what', async ({ name, type, rcode, answers }) => {
    expect(summary(await askUdp(server.port, name, type))).toEqual({
      rcode,
      answers,
    });
  });

  it('matches names case-insensitively', async () => {
    const reply = await askUdp(server.port, 'A.TEST', 'A');
    expect(summary(reply).answers).toEqual([['A.TEST', 'A', '192.0.2.1']]);
  });

  it('truncates a large answer over UDP and sends it whole over TCP', async () => {
    const udp = await askUdp(server.port, 'big.test', 'TXT');
    expect(udp?.flag_tc).toBe(true);
    expect(udp?.answers).toEqual([]);
    const tcp = await askTcp(server.port, 'big.test', 'TXT');
    expect(tcp.answers).toHaveLength(1);
  });

  it('misbehaves as told, per protocol, and logs every query', async () => {
    const misbehaving = await startFakeDnsServer({ records: RECORDS });
    try {
      misbehaving.setBehaviour((name, _type, proto) => {
        if (name === 'drop.test') return 'drop';
        if (name === 'servfail.test') return 'servfail';
        if (name === 'wrong-id.test') return 'wrong-id';
        return proto === 'udp' ? 'truncate' : 'answer';
      });
      expect(await askUdp(misbehaving.port, 'drop.test', 'A')).toBeUndefined();
      const servfail = await askUdp(misbehaving.port, 'servfail.test', 'A');
      expect(summary(servfail).rcode).toBe('SERVFAIL');
      const wrongId = await askUdp(misbehaving.port, 'wrong-id.test', 'A');
      expect(wrongId?.id).not.toBe(QUERY_ID);
      const truncated = await askUdp(misbehaving.port, 'a.test', 'A');
      expect(truncated?.flag_tc).toBe(true);
      const viaTcp = await askTcp(misbehaving.port, 'a.test', 'A');
      expect(summary(viaTcp).answers).toEqual([['a.test', 'A', '192.0.2.1']]);
      expect(misbehaving.queries.map(({ port: _, ...q }) => q)).toEqual([
        { name: 'drop.test', type: 'A', proto: 'udp' },
        { name: 'servfail.test', type: 'A', proto: 'udp' },
        { name: 'wrong-id.test', type: 'A', proto: 'udp' },
        { name: 'a.test', type: 'A', proto: 'udp' },
        { name: 'a.test', type: 'A', proto: 'tcp' },
      ]);
    } finally {
      await misbehaving.close();
    }
  });

  it('refuses TCP connections when started with tcp: false', async () => {
    const udpOnly = await startFakeDnsServer({ records: RECORDS, tcp: false });
    try {
      expect(summary(await askUdp(udpOnly.port, 'a.test', 'A')).rcode).toBe(
        'NOERROR',
      );
      await expect(askTcp(udpOnly.port, 'a.test', 'A')).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    } finally {
      await udpOnly.close();
    }
  });
});
