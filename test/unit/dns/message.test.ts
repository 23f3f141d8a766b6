import dnsPacket from 'dns-packet';
import type { Answer, Packet, Question } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { prepareQuery, readReply } from '../../../src/adapters/dns/message.js';
import type { Reading, SentQuery } from '../../../src/adapters/dns/message.js';
import type { QueryType } from '../../../src/core/dns.js';

const SENT: SentQuery = { id: 0x1234, name: 'a.test', type: 'A', edns: true };

/** A reply to `sent` echoing its question, from fields of a packet. */
function reply(
  sent: SentQuery,
  answers: Answer[],
  extra: Partial<Packet> = {},
): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: sent.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ name: sent.name, type: sent.type, class: 'IN' }],
    answers,
    ...extra,
  });
}

function rr(name: string, type: string, data: unknown): Answer {
  return { name, type, ttl: 60, data } as Answer;
}

const ok = (records: unknown[], cnames?: string[]): Reading =>
  (cnames
    ? { status: 'ok', records, cnames }
    : { status: 'ok', records }) as Reading;
const NODATA: Reading = { status: 'nodata', records: [] };
const nodata = (cnames?: string[]): Reading =>
  cnames ? { status: 'nodata', records: [], cnames } : NODATA;
const failure = (error: string): Reading => ({
  status: 'error',
  records: [],
  error,
});

/** The message of a query, or why there is none. */
function encoded(
  name: unknown,
  type: QueryType,
  id: number,
  edns: boolean,
): Buffer | string {
  const q = prepareQuery(name, type, id, edns);
  return typeof q === 'string' ? q : q.message;
}

describe('prepareQuery', () => {
  it.each<[string, string, QueryType, boolean]>([
    ['a.test', 'a.test', 'MX', true],
    ['a.test.', 'a.test', 'A', true],
    ['A.Test', 'A.Test', 'AAAA', false],
    ['müller.test', 'xn--mller-kva.test', 'TXT', true],
    ['_sip._tls.a.test', '_sip._tls.a.test', 'SRV', true],
    ['*.wild/x.test', '*.wild/x.test', 'CNAME', true],
    ['', '.', 'A', true],
    ['.', '.', 'A', true],
  ])('sends %j as %j (%s, EDNS %s)', (name, wire, type, edns) => {
    const packet = encoded(name, type, 0xbeef, edns);
    expect(Buffer.isBuffer(packet)).toBe(true);
    const q = dnsPacket.decode(packet as Buffer);
    expect(q).toMatchObject({
      type: 'query',
      id: 0xbeef,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: wire, type, class: 'IN' }],
    });
    expect(q.answers).toEqual([]);
    expect(q.authorities).toEqual([]);
    expect(q.additionals).toEqual(
      edns
        ? [
            expect.objectContaining({
              type: 'OPT',
              name: '.',
              udpPayloadSize: 1232,
              ednsVersion: 0,
              flag_do: false,
              options: [],
            }),
          ]
        : [],
    );
  });

  it.each<[unknown, string, string]>([
    ['.a.test', 'A', 'EBADNAME'],
    ['a..test', 'A', 'EBADNAME'],
    ['a.test..', 'A', 'EBADNAME'],
    ['a b.test', 'A', 'EBADNAME'],
    ['a\\.b.test', 'A', 'EBADNAME'],
    ['a!.test', 'A', 'EBADNAME'],
    ['..', 'A', 'EBADNAME'],
    [`${'x'.repeat(64)}.test`, 'A', 'EBADNAME'],
    [`${`${'x'.repeat(60)}.`.repeat(4)}abcdefghij`, 'A', 'EBADNAME'],
    ['a b.müller.test', 'A', 'EBADNAME'],
    [undefined, 'A', 'EBADNAME'],
    [42, 'A', 'EBADNAME'],
    ['a.test', 'NS', 'EBADQUERY'],
  ])('refuses %j %s (%s)', (name, type, code) => {
    expect(encoded(name, type as QueryType, 1, true)).toBe(code);
  });

  it.each(
    (['A', 'AAAA', 'CNAME', 'MX', 'SRV', 'TXT'] as const).flatMap((type) =>
      [true, false].map((edns) => [type, edns] as const),
    ),
  )('builds the same bytes as dns-packet (%s, EDNS %s)', (type, edns) => {
    const names: [string, string][] = [
      ['a.test', 'a.test'],
      ['localhost', 'localhost'],
      ['_sip._tls.a.test', '_sip._tls.a.test'],
      ['*.wild/x.test', '*.wild/x.test'],
      [`${'y'.repeat(63)}.b.c`, `${'y'.repeat(63)}.b.c`],
      [
        'Selector1._DomainKey.Example.co.test.',
        'Selector1._DomainKey.Example.co.test',
      ],
      ['müller.test', 'xn--mller-kva.test'],
      ['', '.'],
      [`${`${'x'.repeat(60)}.`.repeat(4)}abcdefghi`, ''],
    ];
    for (const [name, given] of names) {
      const wire = given || name;
      const q = prepareQuery(name, type, 0xbeef, edns);
      if (typeof q === 'string') throw new Error(q);
      const expected = dnsPacket.encode({
        type: 'query',
        id: 0xbeef,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type, name: wire, class: 'IN' }],
        additionals: edns
          ? [
              {
                type: 'OPT',
                name: '.',
                udpPayloadSize: 1232,
                extendedRcode: 0,
                ednsVersion: 0,
                flags: 0,
                flag_do: false,
                options: [],
              },
            ]
          : [],
      });
      expect(q.message.equals(expected)).toBe(true);
      expect(q.framed.readUInt16BE(0)).toBe(expected.length);
      expect(q.framed.subarray(2).equals(expected)).toBe(true);
      expect(q.asked).toBe(wire === '.' ? '' : wire.toLowerCase());
      // A new id stamped in the message is in the framed bytes too.
      q.message.writeUInt16BE(0x0102, 0);
      expect(q.framed.readUInt16BE(2)).toBe(0x0102);
    }
  });

  it('accepts the longest name', () => {
    const name = `${`${'x'.repeat(60)}.`.repeat(4)}abcdefghi`;
    expect(name).toHaveLength(253);
    expect(Buffer.isBuffer(encoded(`${name}.`, 'A', 1, true))).toBe(true);
  });
});

describe('readReply: answers', () => {
  const mx = (exchange: string, preference = 10) =>
    rr('a.test', 'MX', { preference, exchange });

  it.each<{
    what: string;
    sent?: Partial<SentQuery>;
    answers: Answer[];
    expected: Reading;
  }>([
    {
      what: 'A records',
      answers: [rr('a.test', 'A', '192.0.2.1'), rr('a.test', 'A', '192.0.2.2')],
      expected: ok(['192.0.2.1', '192.0.2.2']),
    },
    { what: 'no records', answers: [], expected: NODATA },
    {
      what: 'a CNAME chain, owners in any case, as a recursor lays it out',
      answers: [
        rr('a.test', 'CNAME', 'Edge.CDN.test'),
        rr('EDGE.cdn.test', 'CNAME', 'host.cdn.test'),
        rr('host.cdn.test', 'A', '192.0.2.7'),
      ],
      expected: ok(['192.0.2.7'], ['edge.cdn.test', 'host.cdn.test']),
    },
    {
      what: 'a CNAME chain in any order',
      sent: { type: 'MX' },
      answers: [
        rr('host.cdn.test', 'MX', { preference: 1, exchange: 'mx.cdn.test' }),
        rr('edge.cdn.test', 'CNAME', 'host.cdn.test'),
        rr('a.test', 'CNAME', 'edge.cdn.test'),
      ],
      expected: ok(
        [{ exchange: 'mx.cdn.test', priority: 1 }],
        ['edge.cdn.test', 'host.cdn.test'],
      ),
    },
    {
      what: 'a CNAME question: the first alias alone',
      sent: { type: 'CNAME' },
      answers: [
        rr('a.test', 'CNAME', 'B.test'),
        rr('b.test', 'CNAME', 'c.test'),
      ],
      expected: ok(['b.test']),
    },
    {
      what: 'a lone CNAME',
      sent: { type: 'MX' },
      answers: [rr('a.test', 'CNAME', 'elsewhere.example')],
      expected: nodata(['elsewhere.example']),
    },
    {
      what: 'a CNAME loop, shown by the repeat',
      answers: [
        rr('a.test', 'CNAME', 'b.test'),
        rr('b.test', 'CNAME', 'a.test'),
      ],
      expected: nodata(['b.test', 'a.test']),
    },
    {
      what: 'a loop further down the chain',
      answers: [
        rr('a.test', 'CNAME', 'b.test'),
        rr('b.test', 'CNAME', 'c.test'),
        rr('c.test', 'CNAME', 'b.test'),
      ],
      expected: nodata(['b.test', 'c.test', 'b.test']),
    },
    {
      // c-ares follows such a chain too: the recursor's limit has been applied
      what: 'a chain longer than 16 aliases that ends in the records',
      answers: [
        ...Array.from({ length: 20 }, (_, i) =>
          rr(i === 0 ? 'a.test' : `n${i}.test`, 'CNAME', `n${i + 1}.test`),
        ),
        rr('n20.test', 'A', '192.0.2.20'),
      ],
      expected: ok(
        ['192.0.2.20'],
        Array.from({ length: 20 }, (_, i) => `n${i + 1}.test`),
      ),
    },
    {
      what: 'a long chain that ends without the records, all of it shown',
      answers: Array.from({ length: 20 }, (_, i) =>
        rr(i === 0 ? 'a.test' : `n${i}.test`, 'CNAME', `n${i + 1}.test`),
      ),
      expected: nodata(Array.from({ length: 20 }, (_, i) => `n${i + 1}.test`)),
    },
    {
      what: 'records off the chain, or of another class',
      answers: [
        rr('other.test', 'A', '192.0.2.66'),
        { ...rr('a.test', 'A', '192.0.2.67'), class: 'CH' } as Answer,
        rr('a.test', 'AAAA', '2001:db8::1'),
        rr('a.test', 'A', '192.0.2.1'),
      ],
      expected: ok(['192.0.2.1']),
    },
    {
      what: 'MX exchanges lower-case without trailing dot',
      sent: { type: 'MX' },
      answers: [mx('MX1.Example.COM.'), mx('mx2.example.com', 20)],
      expected: ok([
        { exchange: 'mx1.example.com', priority: 10 },
        { exchange: 'mx2.example.com', priority: 20 },
      ]),
    },
    {
      what: 'a null MX (RFC 7505)',
      sent: { type: 'MX' },
      answers: [mx('.', 0)],
      expected: ok([{ exchange: '', priority: 0 }]),
    },
    {
      what: 'names escaped as c-ares does',
      sent: { type: 'MX' },
      answers: [
        mx('We(ird).x$y;z@"q\\.test'),
        mx('a b.café.test'),
        mx('tab\there.del\x7f.test'),
      ],
      expected: ok([
        { exchange: 'we\\(ird\\).x\\$y\\;z\\@\\"q\\\\.test', priority: 10 },
        { exchange: 'a b.caf\\195\\169.test', priority: 10 },
        { exchange: 'tab\\009here.del\\127.test', priority: 10 },
      ]),
    },
    {
      what: 'SRV records',
      sent: { name: '_sip._tls.a.test', type: 'SRV' },
      answers: [
        rr('_sip._tls.a.test', 'SRV', {
          priority: 100,
          weight: 1,
          port: 443,
          target: 'SIPDIR.Online.Lync.com.',
        }),
      ],
      expected: ok([
        { name: 'sipdir.online.lync.com', port: 443, priority: 100, weight: 1 },
      ]),
    },
    {
      what: 'TXT chunks joined, UTF-8 when it is, else Latin-1',
      sent: { type: 'TXT' },
      answers: [
        rr('a.test', 'TXT', [
          'v=spf1 include:spf.protection.',
          'outlook.com -all',
        ]),
        rr('a.test', 'TXT', [Buffer.from('café ✓')]),
        rr('a.test', 'TXT', [Buffer.from('caf'), Buffer.from([0xe9])]),
        rr('a.test', 'TXT', [Buffer.alloc(0)]),
      ],
      expected: ok([
        'v=spf1 include:spf.protection.outlook.com -all',
        'café ✓',
        'caf\u00e9',
        '',
      ]),
    },
    {
      what: 'a TXT record without strings, refused as c-ares does',
      sent: { type: 'TXT' },
      answers: [rr('a.test', 'TXT', [])],
      expected: failure('EBADRESP'),
    },
    {
      what: 'a TXT record without strings off the chain',
      sent: { type: 'TXT' },
      answers: [rr('b.test', 'TXT', []), rr('a.test', 'TXT', 'x')],
      expected: ok(['x']),
    },
    ...(
      [
        ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
        ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
        ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
        ['::192.0.2.1', '::192.0.2.1'],
        ['::', '::'],
        ['::1', '::1'],
        ['1::', '1::'],
        ['FE80:0:0:0:ABCD:0:0:1', 'fe80::abcd:0:0:1'],
      ] as const
    ).map(([address, text]) => ({
      what: `AAAA ${address} as node:dns prints it`,
      sent: { type: 'AAAA' as const },
      answers: [rr('a.test', 'AAAA', address)],
      expected: ok([text]),
    })),
  ])('$what', ({ sent, answers, expected }) => {
    const query = { ...SENT, ...sent };
    expect(readReply(reply(query, answers), query)).toEqual(expected);
  });

  // Where dns-packet shows through: it joins labels with dots and reads them
  // as UTF-8, so c-ares' `a\\.b` and `\\233` cannot be had.
  it.each([
    [0x2e, 'a.b.test'],
    [0xe9, 'a\\239\\191\\189b.test'],
  ])('writes byte %i inside a label of an exchange as %j', (byte, text) => {
    const query = { ...SENT, type: 'MX' as const };
    const m = reply(query, [mx('aXb.test')]);
    m[m.lastIndexOf('Xb')] = byte;
    expect(readReply(m, query)).toEqual(ok([{ exchange: text, priority: 10 }]));
  });

  it('matches the asked name however it was given', () => {
    for (const name of ['A.Test.', 'a.test']) {
      const query = { ...SENT, name };
      expect(
        readReply(
          reply(SENT, [rr('a.TEST', 'A', '192.0.2.1')], {
            questions: [{ name: 'A.TEST', type: 'A', class: 'IN' }],
          }),
          query,
        ),
      ).toEqual(ok(['192.0.2.1']));
    }
    const idn = { ...SENT, name: 'Müller.test' };
    const wire = { ...SENT, name: 'xn--mller-kva.test' };
    expect(
      readReply(reply(wire, [rr(wire.name, 'A', '192.0.2.1')]), idn),
    ).toEqual(ok(['192.0.2.1']));
  });
});

describe('readReply: RCODEs, truncation, EDNS', () => {
  const OPT = { type: 'OPT', name: '.', udpPayloadSize: 1232 } as Answer;
  const TC = dnsPacket.TRUNCATED_RESPONSE;

  it.each<{
    what: string;
    flags: number;
    answers?: Answer[];
    additionals?: Answer[];
    edns?: boolean;
    tcp?: boolean;
    expected: Reading;
  }>([
    {
      what: 'SERVFAIL',
      flags: 2,
      expected: { status: 'servfail', records: [] },
    },
    {
      what: 'NXDOMAIN',
      flags: 3,
      expected: { status: 'nxdomain', records: [] },
    },
    {
      what: 'NXDOMAIN after aliases',
      flags: 3,
      answers: [rr('a.test', 'CNAME', 'Gone.test')],
      expected: { status: 'nxdomain', records: [], cnames: ['gone.test'] },
    },
    { what: 'NOTIMP', flags: 4, expected: failure('ENOTIMP') },
    { what: 'REFUSED', flags: 5, expected: { status: 'refused', records: [] } },
    { what: 'another RCODE', flags: 9, expected: failure('ERCODE9') },
    { what: 'FORMERR without OPT', flags: 1, expected: 'without-edns' },
    {
      what: 'FORMERR with OPT',
      flags: 1,
      additionals: [OPT],
      expected: failure('EFORMERR'),
    },
    {
      what: 'FORMERR to a query without EDNS',
      flags: 1,
      edns: false,
      expected: failure('EFORMERR'),
    },
    {
      what: 'FORMERR without OPT and TC',
      flags: 1 | TC,
      expected: 'without-edns',
    },
    { what: 'TC over UDP', flags: TC, expected: 'truncated' },
    {
      what: 'TC over UDP, with answers',
      flags: TC,
      answers: [rr('a.test', 'A', '192.0.2.1')],
      expected: 'truncated',
    },
    {
      what: 'TC over TCP',
      flags: TC,
      tcp: true,
      answers: [rr('a.test', 'A', '192.0.2.1')],
      expected: ok(['192.0.2.1']),
    },
    { what: 'SERVFAIL and TC', flags: 2 | TC, expected: 'truncated' },
  ])(
    '$what',
    ({ flags, answers = [], additionals = [], edns = true, tcp, expected }) => {
      const query = { ...SENT, edns };
      const m = reply(query, answers, { flags, additionals });
      expect(readReply(m, query, tcp)).toEqual(expected);
    },
  );
});

/** SENT as the client sends it: with its wire name and question bytes. */
function prepared(sent: SentQuery): SentQuery {
  const q = prepareQuery(sent.name, sent.type, sent.id, sent.edns);
  if (typeof q === 'string') throw new Error(q);
  return { ...sent, asked: q.asked, question: q.question };
}

describe.each([
  ['as named', SENT],
  ['with the question as sent', prepared(SENT)],
])('readReply: replies that are not ours (query %s)', (_how, SENT) => {
  const answer = rr('a.test', 'A', '192.0.2.1');
  const question: Question = { name: 'a.test', type: 'A', class: 'IN' };

  it.each<[string, Buffer]>([
    ['another id', reply({ ...SENT, id: SENT.id + 1 }, [answer])],
    [
      'another name',
      reply(SENT, [answer], { questions: [{ ...question, name: 'b.test' }] }),
    ],
    [
      'a longer name',
      reply(SENT, [answer], { questions: [{ ...question, name: 'x.a.test' }] }),
    ],
    [
      'another type',
      reply(SENT, [answer], { questions: [{ ...question, type: 'AAAA' }] }),
    ],
    [
      'another class',
      reply(SENT, [answer], { questions: [{ ...question, class: 'CH' }] }),
    ],
    ['no question', reply(SENT, [answer], { questions: [] })],
    [
      'two questions',
      reply(SENT, [answer], { questions: [question, question] }),
    ],
    ['a query', reply(SENT, [answer], { type: 'query' })],
    ['another opcode', reply(SENT, [answer], { flags: 0x0800 })],
    ['a single byte', Buffer.from([0x12])],
    ['nothing', Buffer.alloc(0)],
  ])('%s', (_what, m) => {
    expect(readReply(m, SENT)).toBe('not-ours');
  });
});

describe.each([
  ['as named', SENT],
  ['with the question as sent', prepared(SENT)],
])('readReply: malformed replies carrying our id (query %s)', (_how, SENT) => {
  const good = reply(SENT, [rr('a.test', 'A', '192.0.2.1')]);
  const id = Buffer.from([0x12, 0x34]);

  /** A CNAME whose target is a compression pointer to itself. */
  function selfPointer(): Buffer {
    const m = reply(SENT, [rr('a.test', 'CNAME', 'b.test')]);
    const at = m.length - 'b.test'.length - 2;
    m.writeUInt16BE(0xc000 | at, at);
    return m;
  }

  /** A negative answer with its SOA and an OPT record, as a recursor sends it. */
  const SOA = rr('test', 'SOA', {
    mname: 'ns.test',
    rname: 'hostmaster.test',
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 300,
  });
  const OPT = { type: 'OPT', name: '.', udpPayloadSize: 1232 } as Answer;
  const negative = reply(SENT, [], {
    flags: 3,
    authorities: [SOA],
    additionals: [OPT],
  });

  it('reads a negative answer with its SOA and OPT records', () => {
    expect(readReply(negative, SENT)).toEqual({
      status: 'nxdomain',
      records: [],
    });
  });

  /** `m` with the 16-bit word at `at` (a count or a length) raised by `by`. */
  function raised(m: Buffer, at: number, by: number): Buffer {
    const out = Buffer.from(m);
    out.writeUInt16BE(out.readUInt16BE(at) + by, at);
    return out;
  }

  /** A TXT answer that ends inside its rdata (dns-packet reads on, past the end). */
  function txtCutShort(): Buffer {
    const query = { ...SENT, type: 'TXT' as const };
    const m = reply(query, [rr('a.test', 'TXT', 'abc')]);
    return m.subarray(0, m.length - 2);
  }

  it.each<[string, Buffer]>([
    ['a header alone, cut short', good.subarray(0, 11)],
    ['the last record cut short', good.subarray(0, good.length - 2)],
    ['the question cut short', good.subarray(0, 20)],
    ['a TXT record cut short', txtCutShort()],
    ['a pointer loop', selfPointer()],
    ['the authority section cut short', negative.subarray(0, 60)],
    ['the additional section cut short', negative.subarray(0, -2)],
    ['one more authority record than there is', raised(negative, 8, 1)],
    [
      'the OPT rdata longer than the message',
      raised(negative, negative.length - 2, 1),
    ],
    [
      'a reserved label type in the authority section',
      (() => {
        const m = Buffer.from(negative);
        // the SOA's owner name starts right after the question
        m[12 + 'a.test'.length + 2 + 4] = 0x40;
        return m;
      })(),
    ],
    [
      'garbage after our id',
      Buffer.concat([id, Buffer.from('8180ffff0001000000000000ff', 'hex')]),
    ],
    [
      'our id and 40 bytes of 0xff',
      Buffer.concat([id, Buffer.alloc(40, 0xff)]),
    ],
  ])('%s → EBADRESP', (_what, m) => {
    expect(readReply(m, SENT)).toEqual(failure('EBADRESP'));
  });
});

describe('readReply: a question echoed as sent', () => {
  const sent = prepared({ ...SENT, name: 'Mail.A-1.test', type: 'MX' });
  const mx = rr('mail.a-1.test', 'MX', { preference: 5, exchange: 'mx.test' });
  const answered = ok([{ exchange: 'mx.test', priority: 5 }]);

  it.each<[string, string, Reading]>([
    ['the same case', 'Mail.A-1.test', answered],
    ['another case', 'mAIL.a-1.TEST', answered],
    ['another name', 'Mail.A-2.test', 'not-ours'],
    ['a digit for a letter', 'Mail.A-1.tes1', 'not-ours'],
    ['another letter', 'Mail.A-1.tesZ', 'not-ours'],
    // 0x0d | 0x20 is '-': only letters are compared without case.
    ['a control byte where it has a hyphen', 'Mail.A\r1.test', 'not-ours'],
    ['a longer name', 'x.Mail.A-1.test', 'not-ours'],
    ['a shorter name', 'A-1.test', 'not-ours'],
  ])('%s', (_what, name, expected) => {
    const m = reply(sent, [mx], {
      questions: [{ name, type: 'MX', class: 'IN' }],
    });
    expect(readReply(m, sent)).toEqual(expected);
  });

  it('reads the answers after the question it skipped', () => {
    const m = reply(sent, [
      mx,
      rr('mail.a-1.test', 'MX', { preference: 1, exchange: 'b.test' }),
    ]);
    expect(readReply(m, sent)).toEqual(
      ok([
        { exchange: 'mx.test', priority: 5 },
        { exchange: 'b.test', priority: 1 },
      ]),
    );
  });
});
