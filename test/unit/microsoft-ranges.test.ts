import { describe, it, expect } from 'vitest';
import ipaddr from 'ipaddr.js';
import { parseIp } from '../../src/core/ip-address.js';
import {
  matchMicrosoftRange,
  microsoftRanges,
} from '../../src/core/microsoft-ranges.js';

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

  it('answers an address again with the same shared, frozen object', () => {
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

describe('matchMicrosoftRange reads addresses as ipaddr.js does', () => {
  // The reference: parse with ipaddr.js, then walk the ranges in table order.
  const parsed = [
    ...microsoftRanges.mailInbound.map((r) => ({ r, kind: 'eop' as const })),
    ...microsoftRanges.exchangeService.map((r) => ({
      r,
      kind: 'exchange-service' as const,
    })),
  ].map(({ r, kind }) => ({ id: r.id, kind, cidr: ipaddr.parseCIDR(r.cidr) }));
  const reference = (ip: string): { id: string; kind: string } | null => {
    const addr = parseIp(ip);
    if (!addr) return null;
    for (const r of parsed) {
      if (addr.kind() === r.cidr[0].kind() && addr.match(r.cidr)) {
        return { id: r.id, kind: r.kind };
      }
    }
    return null;
  };

  it.each([
    // hex groups, `::` anywhere, upper case, leading zeros
    '2A01:111:F400::1',
    '2a01:0111:f400:0000:0000:0000:0000:0001',
    '2a01:111:f400:0:0:0:0:0',
    '2a01:111:f3ff:ffff:ffff:ffff:ffff:ffff',
    '2a01:111:f401::',
    '2603:1006:00ff:ffff:ffff:ffff:ffff:ffff',
    '2603:1006:0100::',
    '2620:1ec:4::152',
    '2620:1ec:4:0:0:0:0:152',
    '2620:01ec:0004:0000:0000:0000:0000:0153',
    '2620:1ec:4::154',
    '2620:1ec:8f0::',
    '2620:1ec:8ef:ffff:ffff:ffff:ffff:ffff',
    '2620:1ec:8f3:ffff:ffff:ffff:ffff:ffff',
    '2620:1ec:8f4::',
    '::',
    '::1',
    '1::',
    '1:2:3:4:5:6:7::',
    '::1:2:3:4:5:6:7',
    '2a01:111:f400:1:2:3:4::',
    // IPv4-mapped, in hex and in dotted form, and embedded IPv4 otherwise
    '::ffff:286b:102',
    '::FFFF:286B:0102',
    '0:0:0:0:0:ffff:286b:102',
    '::ffff:40.107.1.2',
    '0:0:0:0:0:ffff:40.107.1.2',
    '::ffff:0:286b:102',
    '::40.107.1.2',
    '2a01:111:f400::40.107.1.2',
    // zone ids
    '2a01:111:f400::1%eth0',
    'fe80::1%1',
    // not accepted by ipaddr.js, or not an address at all
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '1:2:3:4:5:6:7::8',
    '1:2:3:4:5:6:7:8:9',
    '2a01:111:f400::1::',
    '2a01::111::1',
    ':::',
    ':1::',
    '1:',
    ':1',
    '::1:',
    '00001::',
    '2a01:111:f400::g',
    '2a01:111:f400::1 ',
    ' 2a01:111:f400::1',
    '2a01:111:f400::/48',
    '２a01:111:f400::1',
    // IPv4 forms
    '40.107.1.1',
    '0.0.0.0',
    '255.255.255.255',
    '256.0.0.0',
    '40.107.01.1',
    '40.107.0.1.',
    '.40.107.0.1',
    '40..107.1',
    '40.107.1',
    '40.107.1.1.1',
    '4294967295',
    '0x28.107.1.1',
    '40.107.1.1\n',
    '４0.107.1.1',
  ])('%j', (ip) => {
    expect(matchMicrosoftRange(ip)).toEqual(reference(ip));
  });

  it('agrees on generated addresses and near-addresses', () => {
    // A fixed-seed generator: the same cases on every run.
    let seed = 0x2a01;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const hex = (): string => next(0x10000).toString(16);
    const near = [
      '2a01',
      '111',
      'f400',
      'f403',
      '2603',
      '1006',
      '1026',
      '2620',
      '1ec',
      '8f0',
      'ffff',
      '0',
      '152',
    ];
    const group = (): string =>
      next(3) === 0 ? near[next(near.length)]! : hex();
    const cases: string[] = [];
    for (let k = 0; k < 5_000; k++) {
      const count = 1 + next(9);
      const groups = Array.from({ length: count }, group);
      let text = groups.join(':');
      if (next(2) === 0) {
        const at = next(count + 1);
        text = [...groups.slice(0, at), '', ...groups.slice(at)].join(':');
        if (at === 0) text = `:${text}`;
        if (at === count) text = `${text}:`;
      }
      if (next(10) === 0) text = text.toUpperCase();
      cases.push(text);
      const o = (): number =>
        next(4) === 0 ? [40, 52, 104, 13][next(4)]! : next(256);
      cases.push(`${o()}.${o()}.${o()}.${o()}`);
      // and text near dotted decimal: leading zeros, big parts, stray dots
      const chars = '0123456789.....';
      const length = 1 + next(16);
      cases.push(
        Array.from({ length }, () => chars[next(chars.length)]).join(''),
      );
    }
    for (const ip of cases) {
      expect(matchMicrosoftRange(ip), ip).toEqual(reference(ip));
    }
  });
});
