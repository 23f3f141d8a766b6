import { describe, it, expect } from 'vitest';
import { buildAsnTable } from '../../src/core/asn-table.js';
import {
  decodeAsnTable,
  encodeAsnTable,
} from '../../src/core/asn-table-codec.js';

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
