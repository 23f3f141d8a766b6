import { describe, it, expect } from 'vitest';
import {
  AsnTableBuilder,
  MAX_ORG_LENGTH,
  buildAsnTable,
  decodeAsnTable,
  encodeAsnTable,
  ipToNumber,
  matchMicrosoftRange,
  microsoftRanges,
  numberToIp,
  sanitizeOrg,
} from '../../src/core/ip-owner.js';

describe('matchMicrosoftRange', () => {
  const cases: [string, string | null, 'eop' | 'exchange-service' | null][] = [
    // EOP, IPv4: inside and at both edges
    ['40.107.0.0', 'eop-v4-40.107', 'eop'],
    ['40.107.22.33', 'eop-v4-40.107', 'eop'],
    ['40.107.255.255', 'eop-v4-40.107', 'eop'],
    ['40.108.0.0', null, null],
    ['40.106.255.255', null, null],
    ['40.92.0.0', 'eop-v4-40.92', 'eop'],
    ['40.93.255.255', 'eop-v4-40.92', 'eop'],
    ['40.94.0.0', null, null],
    ['52.100.0.1', 'eop-v4-52.100', 'eop'],
    ['52.103.255.255', 'eop-v4-52.100', 'eop'],
    ['52.104.0.0', null, null],
    ['52.238.78.88', 'eop-v4-52.238.78.88', 'eop'],
    ['52.238.78.89', null, null],
    ['104.47.127.255', 'eop-v4-104.47', 'eop'],
    ['104.47.128.0', null, null],
    // EOP, IPv6
    ['2a01:111:f400::1', 'eop-v6-2a01:111:f400', 'eop'],
    ['2a01:111:f400:ffff:ffff:ffff:ffff:ffff', 'eop-v6-2a01:111:f400', 'eop'],
    ['2a01:111:f403:c00::5', 'eop-v6-2a01:111:f403', 'eop'],
    ['2a01:111:f401::1', null, null],
    // Exchange Online service endpoints
    ['52.96.0.0', 'exo-v4-52.96', 'exchange-service'],
    ['52.99.255.255', 'exo-v4-52.96', 'exchange-service'],
    ['40.96.1.1', 'exo-v4-40.96', 'exchange-service'],
    ['40.103.255.255', 'exo-v4-40.96', 'exchange-service'],
    ['40.104.0.1', 'exo-v4-40.104', 'exchange-service'],
    ['40.105.255.255', 'exo-v4-40.104', 'exchange-service'],
    ['40.106.0.0', null, null],
    ['13.107.6.152', 'exo-v4-13.107.6.152', 'exchange-service'],
    ['13.107.6.153', 'exo-v4-13.107.6.152', 'exchange-service'],
    ['13.107.6.154', null, null],
    ['204.79.197.215', 'exo-v4-204.79.197.215', 'exchange-service'],
    ['204.79.197.216', null, null],
    ['2603:1026:200::1', 'exo-v6-2603:1026', 'exchange-service'],
    ['2603:1006:ff:ffff::1', 'exo-v6-2603:1006', 'exchange-service'],
    ['2603:1006:100::1', null, null],
    ['2620:1ec:c::11', 'exo-v6-2620:1ec:c::11', 'exchange-service'],
    ['2620:1ec:c::12', null, null],
    ['2620:1ec:8f3:ffff::1', 'exo-v6-2620:1ec:8f0', 'exchange-service'],
    ['2620:1ec:8f4::', null, null],
    // IPv4-mapped IPv6 is matched as IPv4
    ['::ffff:40.107.1.2', 'eop-v4-40.107', 'eop'],
    // not Microsoft
    ['142.250.1.1', null, null],
    ['198.18.0.1', null, null],
    ['2001:db8::1', null, null],
    // invalid strings
    ['', null, null],
    ['40.107.1', null, null],
    ['040.107.1.1', null, null],
    ['40.107.1.1 ', null, null],
    ['40.107.1.256', null, null],
    ['0x28.107.1.1', null, null],
    ['mail.protection.outlook.com', null, null],
    ['2a01:111:f400::g', null, null],
    ['40.107.0.0/16', null, null],
  ];
  it.each(cases)('%s → %s', (ip, id, kind) => {
    const hit = matchMicrosoftRange(ip);
    expect(hit).toEqual(id === null ? null : { id, kind });
  });

  it('answers an address again the same, from what it found the first time', () => {
    for (const [ip] of cases) {
      const first = matchMicrosoftRange(ip);
      expect(matchMicrosoftRange(ip)).toBe(first);
      if (first) expect(Object.isFrozen(first)).toBe(true);
    }
  });

  it('never throws on non-strings', () => {
    expect(matchMicrosoftRange(undefined as unknown as string)).toBeNull();
    expect(matchMicrosoftRange(42 as unknown as string)).toBeNull();
  });

  it('has unique ids and the published CIDRs', () => {
    const all = [
      ...microsoftRanges.mailInbound,
      ...microsoftRanges.exchangeService,
    ];
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    expect(microsoftRanges.mailInbound.map((r) => r.cidr)).toEqual([
      '40.92.0.0/15',
      '40.107.0.0/16',
      '52.100.0.0/14',
      '52.238.78.88/32',
      '104.47.0.0/17',
      '2a01:111:f400::/48',
      '2a01:111:f403::/48',
    ]);
    expect(microsoftRanges.exchangeService).toHaveLength(27);
    for (const r of all) expect(r.description).not.toBe('');
  });
});

describe('ipToNumber / numberToIp', () => {
  it.each([
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['1.2.3.4', 0x01020304],
    ['::ffff:1.2.3.4', 0x01020304],
  ])('%s is IPv4 %d', (ip, n) => {
    expect(ipToNumber(ip)).toEqual({ v: 4, n });
    expect(numberToIp({ v: 4, n })).toBe(ip.replace('::ffff:', ''));
  });

  it('reads IPv6 as 128-bit', () => {
    expect(ipToNumber('::')).toEqual({ v: 6, n: 0n });
    expect(ipToNumber('2001:db8::1')).toEqual({
      v: 6,
      n: 0x20010db8000000000000000000000001n,
    });
    expect(numberToIp({ v: 6, n: 0x20010db8000000000000000000000001n })).toBe(
      '2001:db8::1',
    );
  });

  it.each(['', 'x', '1.2.3', '1.2.3.4.5', '300.1.1.1', ':::', '127.1'])(
    '%j is not an address',
    (ip) => {
      expect(ipToNumber(ip)).toBeNull();
    },
  );
});

describe('sanitizeOrg', () => {
  it('removes control and bidi characters and collapses space', () => {
    expect(sanitizeOrg(' Evil\u0000Corp\r\n\u001b[31m  Ltd\u202e ')).toBe(
      'Evil Corp [31m Ltd',
    );
  });

  it(`caps at ${MAX_ORG_LENGTH} characters without splitting a pair`, () => {
    expect(sanitizeOrg('a'.repeat(500))).toHaveLength(MAX_ORG_LENGTH);
    const emoji = 'a'.repeat(MAX_ORG_LENGTH - 1) + '😀';
    expect(sanitizeOrg(emoji)).toBe('a'.repeat(MAX_ORG_LENGTH - 1));
  });
});

describe('buildAsnTable', () => {
  const table = buildAsnTable([
    { start: '10.0.0.0', end: '10.0.0.255', asn: 64500, org: 'Ten Zero' },
    // a gap: 10.0.1.0 - 10.0.1.255
    { start: '10.0.2.0', end: '10.0.3.255', asn: 64501, org: 'Ten Two' },
    { start: '10.0.4.0', end: '10.0.4.0', asn: 64502, org: 'Single' },
    // out of order, and a range that is not one CIDR block
    { start: '1.0.0.0', end: '1.0.2.255', asn: 13335, org: 'One' },
    { start: '255.255.255.0', end: '255.255.255.255', asn: 64503, org: 'Top' },
    {
      start: '2001:db8::',
      end: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
      asn: 64510,
      org: 'Doc',
    },
    { start: '2001:db9::', end: '2001:db9::ff', asn: 64511, org: 'Small' },
    { start: '::', end: '::ffff', asn: 64512, org: 'Low' },
  ]);

  const cases: [string, number | null, string][] = [
    ['10.0.0.0', 64500, '10.0.0.0/24'],
    ['10.0.0.255', 64500, '10.0.0.0/24'],
    ['10.0.1.0', null, ''],
    ['10.0.1.255', null, ''],
    ['10.0.2.0', 64501, '10.0.2.0/23'],
    ['10.0.3.255', 64501, '10.0.2.0/23'],
    ['10.0.4.0', 64502, '10.0.4.0/32'],
    ['10.0.4.1', null, ''],
    ['9.255.255.255', null, ''],
    ['0.0.0.0', null, ''],
    ['1.0.0.7', 13335, '1.0.0.0/23'],
    ['1.0.2.9', 13335, '1.0.2.0/24'],
    ['1.0.3.0', null, ''],
    ['255.255.255.255', 64503, '255.255.255.0/24'],
    ['2001:db8::1', 64510, '2001:db8::/32'],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 64510, '2001:db8::/32'],
    ['2001:db9::ff', 64511, '2001:db9::/120'],
    ['2001:db9::100', null, ''],
    ['2001:db7:ffff::', null, ''],
    ['::1', 64512, '::/112'],
    ['::ffff:1.0.0.7', 13335, '1.0.0.0/23'],
  ];
  it.each(cases)('%s → AS%s %s', (ip, asn, prefix) => {
    const owner = table.lookup(ip);
    if (asn === null) {
      expect(owner).toBeNull();
    } else {
      expect(owner).toMatchObject({ asn, prefix, source: 'table' });
    }
  });

  it('answers an address again from what it found the first time, in every case', () => {
    // The answers of all cases, twice over: the second round is served from
    // the table's recent answers and must say the same (the same frozen object).
    const first = cases.map(([ip]) => table.lookup(ip));
    const again = cases.map(([ip]) => table.lookup(ip));
    cases.forEach(([ip], i) => {
      expect(again[i], ip).toBe(first[i]);
      if (first[i]) expect(Object.isFrozen(first[i])).toBe(true);
    });
  });

  it('keeps organisation names and counts ranges', () => {
    expect(table.lookup('10.0.2.1')?.org).toBe('Ten Two');
    expect(table.lookup('2001:db9::1')?.org).toBe('Small');
    expect(table.size).toBe(8);
  });

  it.each(['', 'nope', '10.0.0', '10.0.0.0/24', '2001:db8::x'])(
    'answers null for invalid %j',
    (ip) => {
      expect(table.lookup(ip)).toBeNull();
    },
  );

  it('lets the more specific of overlapping ranges win', () => {
    const t = buildAsnTable([
      { start: '20.0.0.0', end: '20.255.255.255', asn: 1, org: 'Outer' },
      { start: '20.1.0.0', end: '20.1.255.255', asn: 2, org: 'Inner' },
      { start: '20.1.128.0', end: '20.1.128.255', asn: 3, org: 'Innermost' },
      // partial overlap: the later start wins where they overlap
      { start: '30.0.0.0', end: '30.0.1.255', asn: 4, org: 'A' },
      { start: '30.0.1.0', end: '30.0.2.255', asn: 5, org: 'B' },
      { start: '2001:db8::', end: '2001:db8::ffff', asn: 6, org: 'V6 outer' },
      { start: '2001:db8::100', end: '2001:db8::1ff', asn: 7, org: 'V6 inner' },
    ]);
    expect(t.lookup('20.0.0.1')?.asn).toBe(1);
    expect(t.lookup('20.1.0.1')?.asn).toBe(2);
    expect(t.lookup('20.1.128.1')).toMatchObject({
      asn: 3,
      prefix: '20.1.128.0/24',
    });
    expect(t.lookup('20.1.129.1')?.asn).toBe(2);
    expect(t.lookup('20.2.0.0')?.asn).toBe(1);
    expect(t.lookup('20.255.255.255')?.asn).toBe(1);
    expect(t.lookup('30.0.0.255')?.asn).toBe(4);
    expect(t.lookup('30.0.1.0')?.asn).toBe(5);
    expect(t.lookup('30.0.2.255')?.asn).toBe(5);
    expect(t.lookup('2001:db8::ff')?.asn).toBe(6);
    expect(t.lookup('2001:db8::100')?.asn).toBe(7);
    expect(t.lookup('2001:db8::200')?.asn).toBe(6);
    // the prefix never reaches past the resolved piece
    expect(t.lookup('20.0.0.1')?.prefix).toBe('20.0.0.0/16');
  });

  it('sanitises organisation names', () => {
    const t = buildAsnTable([
      { start: '1.1.1.0', end: '1.1.1.255', asn: 1, org: 'Bad\u0007Name\n' },
    ]);
    expect(t.lookup('1.1.1.1')?.org).toBe('Bad Name');
  });

  it.each([
    [{ start: 'x', end: '1.1.1.1', asn: 1, org: '' }],
    [{ start: '1.1.1.1', end: '1.1.1.0', asn: 1, org: '' }],
    [{ start: '1.1.1.1', end: '::1', asn: 1, org: '' }],
    [{ start: '1.1.1.1', end: '1.1.1.1', asn: -1, org: '' }],
    [{ start: '1.1.1.1', end: '1.1.1.1', asn: 2 ** 32, org: '' }],
    [{ start: '1.1.1.1', end: '1.1.1.1', asn: 1.5, org: '' }],
  ])('rejects a malformed row %j', (row) => {
    expect(() => buildAsnTable([row])).toThrow(RangeError);
  });

  it('builds an empty table', () => {
    const t = buildAsnTable([]);
    expect(t.size).toBe(0);
    expect(t.lookup('1.1.1.1')).toBeNull();
    expect(t.lookup('::1')).toBeNull();
  });

  it('takes integers through the builder', () => {
    const b = new AsnTableBuilder('user-db');
    b.addV4(0x08080800, 0x080808ff, 15169, b.orgId('Google LLC'));
    b.addV6(0n, 0xffn, 64512, b.orgId('Low'));
    expect(() => b.addV4(5, 4, 1, 0)).toThrow(RangeError);
    expect(() => b.addV4(1, 2, 1, 99)).toThrow(RangeError);
    expect(() => b.addV6(0n, 1n << 128n, 1, 0)).toThrow(RangeError);
    const t = b.build();
    expect(t.lookup('8.8.8.8')).toEqual({
      asn: 15169,
      org: 'Google LLC',
      prefix: '8.8.8.0/24',
      source: 'user-db',
    });
    expect(t.lookup('::80')?.prefix).toBe('::/120');
  });
});

describe('encodeAsnTable / decodeAsnTable', () => {
  const table = buildAsnTable([
    { start: '1.0.0.0', end: '1.0.0.255', asn: 13335, org: 'Cloudflare' },
    { start: '40.104.0.0', end: '40.107.255.255', asn: 8075, org: 'Microsoft' },
    {
      start: '2a01:111::',
      end: '2a01:111:ffff:ffff:ffff:ffff:ffff:ffff',
      asn: 8075,
      org: 'Microsoft',
    },
    {
      start: '2a00:1450::',
      end: '2a00:1450:ffff::',
      asn: 15169,
      org: 'Google "LLC"',
    },
  ]);

  it.each([
    '1.0.0.7',
    '40.107.3.4',
    '40.108.0.1',
    '2a01:111:f400::1',
    '2a00:1450::1b',
    '::1',
    '9.9.9.9',
  ])('a decoded table answers %s as the built one does', (ip) => {
    const bytes = encodeAsnTable(table);
    expect(bytes).not.toBeNull();
    const back = decodeAsnTable(bytes as Uint8Array, 'table');
    expect(back?.lookup(ip)).toEqual(table.lookup(ip));
    expect(back?.size).toBe(table.size);
  });

  it('decodes from an unaligned buffer', () => {
    const bytes = encodeAsnTable(table) as Uint8Array;
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(
      decodeAsnTable(shifted.subarray(3), 'table')?.lookup('40.107.3.4'),
    ).toMatchObject({ asn: 8075 });
  });

  it('refuses bytes that are not a whole table', () => {
    const bytes = encodeAsnTable(table) as Uint8Array;
    expect(
      decodeAsnTable(bytes.subarray(0, bytes.length - 1), 'table'),
    ).toBeNull();
    expect(decodeAsnTable(new Uint8Array(10), 'table')).toBeNull();
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0x41;
    expect(decodeAsnTable(wrongMagic, 'table')).toBeNull();
    const badNames = bytes.slice();
    badNames[badNames.length - 1] = 0x7b; // the JSON list no longer parses
    expect(decodeAsnTable(badNames, 'table')).toBeNull();
  });
});
