import { describe, it, expect } from 'vitest';
import { AsnTableBuilder, buildAsnTable } from '../../src/core/asn-table.js';

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
