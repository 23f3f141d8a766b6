/**
 * Microsoft's published Exchange Online ranges, as rules with ids, and the
 * match of an address against them. Pure and cache-free: the match reads the
 * address text itself, without allocating, so it costs about what a cache
 * hit would (it runs for every A and AAAA answer).
 */
import ipaddr from 'ipaddr.js';
import { parseIp } from './ip-address.js';

/** Where {@link microsoftRanges} comes from and when it was checked. */
export const MICROSOFT_RANGES_SOURCE = {
  url: 'https://learn.microsoft.com/en-us/microsoft-365/enterprise/urls-and-ip-address-ranges',
  section: 'Exchange Online, IDs 1, 2 (service) and 9, 10 (EOP)',
  /** The page's generated "worldwide endpoints version" the list was checked against. */
  endpointsVersion: '2022072800',
  /** Later revisions (ID 1 adding outlook.cloud.microsoft) list the same addresses. */
  checked: '2026-11-28',
} as const;

/** One published Microsoft range: a rule id, its CIDR, and what it is. */
export interface MicrosoftRange {
  id: string;
  cidr: string;
  description: string;
}

const EOP_IN = 'EOP (*.mail.protection.outlook.com), IDs 9/10';
const EXO =
  'Exchange Online service (outlook.office365.com, smtp.office365.com), IDs 1/2';

const EXO_CIDRS: readonly [cidr: string, tag: string][] = [
  ['13.107.6.152/31', '13.107.6.152'],
  ['13.107.18.10/31', '13.107.18.10'],
  ['13.107.128.0/22', '13.107.128'],
  ['23.103.160.0/20', '23.103.160'],
  ['40.96.0.0/13', '40.96'],
  ['40.104.0.0/15', '40.104'],
  ['52.96.0.0/14', '52.96'],
  ['131.253.33.215/32', '131.253.33.215'],
  ['132.245.0.0/16', '132.245'],
  ['150.171.32.0/22', '150.171.32'],
  ['204.79.197.215/32', '204.79.197.215'],
  ['2603:1006::/40', '2603:1006'],
  ['2603:1016::/36', '2603:1016'],
  ['2603:1026::/36', '2603:1026'],
  ['2603:1036::/36', '2603:1036'],
  ['2603:1046::/36', '2603:1046'],
  ['2603:1056::/36', '2603:1056'],
  ['2620:1ec:4::152/128', '2620:1ec:4::152'],
  ['2620:1ec:4::153/128', '2620:1ec:4::153'],
  ['2620:1ec:c::10/128', '2620:1ec:c::10'],
  ['2620:1ec:c::11/128', '2620:1ec:c::11'],
  ['2620:1ec:d::10/128', '2620:1ec:d::10'],
  ['2620:1ec:d::11/128', '2620:1ec:d::11'],
  ['2620:1ec:8f0::/46', '2620:1ec:8f0'],
  ['2620:1ec:900::/46', '2620:1ec:900'],
  ['2620:1ec:a92::152/128', '2620:1ec:a92::152'],
  ['2620:1ec:a92::153/128', '2620:1ec:a92::153'],
];

/**
 * Microsoft's published Exchange Online ranges, as rules.
 * - `mailInbound`: Exchange Online Protection, where MX mail for a tenant
 *   enters (and leaves) Microsoft.
 * - `exchangeService`: client endpoints (OWA, EWS, Autodiscover, SMTP AUTH),
 *   never an MX target of a healthy tenant.
 */
export const microsoftRanges: {
  readonly mailInbound: readonly MicrosoftRange[];
  readonly exchangeService: readonly MicrosoftRange[];
} = {
  mailInbound: [
    { id: 'eop-v4-40.92', cidr: '40.92.0.0/15', description: EOP_IN },
    { id: 'eop-v4-40.107', cidr: '40.107.0.0/16', description: EOP_IN },
    { id: 'eop-v4-52.100', cidr: '52.100.0.0/14', description: EOP_IN },
    {
      id: 'eop-v4-52.238.78.88',
      cidr: '52.238.78.88/32',
      description: 'EOP (*.protection.outlook.com, TCP 443), ID 9 only',
    },
    { id: 'eop-v4-104.47', cidr: '104.47.0.0/17', description: EOP_IN },
    {
      id: 'eop-v6-2a01:111:f400',
      cidr: '2a01:111:f400::/48',
      description:
        'EOP (*.mail.protection.outlook.com), ID 10; also listed in ID 1',
    },
    {
      id: 'eop-v6-2a01:111:f403',
      cidr: '2a01:111:f403::/48',
      description: EOP_IN,
    },
  ],
  exchangeService: EXO_CIDRS.map(([cidr, tag]) => ({
    id: `exo-${cidr.includes(':') ? 'v6' : 'v4'}-${tag}`,
    cidr,
    description: EXO,
  })),
};

/** A Microsoft-published range an address falls in: see {@link matchMicrosoftRange}. */
export interface MicrosoftMatch {
  readonly id: string;
  readonly kind: 'eop' | 'exchange-service';
}

/** The leading `bits` of a 32-bit word set, as an int32. */
function wordMask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? -1 : (-1 << (32 - bits)) | 0;
}

/** Four bytes from `at` as one int32 word, big-endian. */
function word(bytes: readonly number[], at: number): number {
  return (
    (bytes[at]! << 24) |
    (bytes[at + 1]! << 16) |
    (bytes[at + 2]! << 8) |
    bytes[at + 3]!
  );
}

/**
 * The ranges as masks over 32-bit words, in table order (the first range
 * that holds an address answers): an address is inside when it agrees with
 * the base on every bit of the mask. IPv4 rows are base, mask; IPv6 rows
 * four base words, then four mask words.
 */
const rules = (() => {
  const v4: number[] = [];
  const v4Matches: MicrosoftMatch[] = [];
  const v6: number[] = [];
  const v6Matches: MicrosoftMatch[] = [];
  const add = (
    ranges: readonly MicrosoftRange[],
    kind: MicrosoftMatch['kind'],
  ): void => {
    for (const r of ranges) {
      const match: MicrosoftMatch = Object.freeze({ id: r.id, kind });
      const [addr, bits] = ipaddr.parseCIDR(r.cidr);
      const bytes = addr.toByteArray();
      if (addr.kind() === 'ipv4') {
        const mask = wordMask(bits);
        v4.push(word(bytes, 0) & mask, mask);
        v4Matches.push(match);
      } else {
        const masks = [0, 1, 2, 3].map((w) => wordMask(bits - 32 * w));
        v6.push(...masks.map((m, w) => word(bytes, 4 * w) & m), ...masks);
        v6Matches.push(match);
      }
    }
  };
  add(microsoftRanges.mailInbound, 'eop');
  add(microsoftRanges.exchangeService, 'exchange-service');
  return {
    v4: Int32Array.from(v4),
    v4Matches,
    v6: Int32Array.from(v6),
    v6Matches,
  };
})();

/**
 * The Microsoft-published range an address falls in, if any: `eop` for
 * Exchange Online Protection (mail entry), `exchange-service` for the client
 * endpoints. Addresses are read as {@link parseIp} reads them (IPv4-mapped
 * IPv6 as IPv4); invalid strings → `null`. The answer is shared: do not
 * change it.
 */
export function matchMicrosoftRange(ip: string): MicrosoftMatch | null {
  if (typeof ip !== 'string') return null;
  if (!ip.includes(':')) {
    const n = readIpv4(ip);
    return n < 0 ? null : matchV4(n);
  }
  const found = readIpv6(ip);
  if (found !== UNSURE) return found;
  // The forms the quick reader leaves to ipaddr.js (embedded IPv4, a zone id,
  // anything it does not accept): rare, so their cost does not matter.
  const addr = parseIp(ip);
  if (!addr) return null;
  const bytes = addr.toByteArray();
  if (addr.kind() === 'ipv4') return matchV4(word(bytes, 0));
  return matchV6(
    word(bytes, 0),
    word(bytes, 4),
    word(bytes, 8),
    word(bytes, 12),
  );
}

function matchV4(n: number): MicrosoftMatch | null {
  const { v4 } = rules;
  for (let i = 0; i < v4.length; i += 2) {
    if (((n ^ v4[i]!) & v4[i + 1]!) === 0) return rules.v4Matches[i >> 1]!;
  }
  return null;
}

function matchV6(
  w0: number,
  w1: number,
  w2: number,
  w3: number,
): MicrosoftMatch | null {
  const { v6 } = rules;
  for (let i = 0; i < v6.length; i += 8) {
    if (
      ((w0 ^ v6[i]!) & v6[i + 4]!) === 0 &&
      ((w1 ^ v6[i + 1]!) & v6[i + 5]!) === 0 &&
      ((w2 ^ v6[i + 2]!) & v6[i + 6]!) === 0 &&
      ((w3 ^ v6[i + 3]!) & v6[i + 7]!) === 0
    ) {
      return rules.v6Matches[i >> 3]!;
    }
  }
  return null;
}

/**
 * Four-part decimal IPv4 as an unsigned 32-bit number, or -1: exactly what
 * {@link parseIp} accepts without a `:` (no leading zeros, octets ≤ 255).
 */
function readIpv4(ip: string): number {
  let n = 0;
  let part = -1;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      if (part < 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = -1;
    } else if (c >= 0x30 && c <= 0x39) {
      if (part === 0) return -1;
      part = part < 0 ? c - 0x30 : part * 10 + (c - 0x30);
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  return part < 0 || dots !== 3 ? -1 : n * 256 + part;
}

/** {@link readIpv6} could not decide: ask ipaddr.js. */
const UNSURE = 'unsure';

/** The value of a hex digit, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Matches IPv6 written as hex groups with at most one `::`, which ipaddr.js
 * accepts as well, without allocating; {@link UNSURE} for any other text
 * (which ipaddr.js may accept or not).
 */
function readIpv6(ip: string): MicrosoftMatch | null | typeof UNSURE {
  const len = ip.length;
  // First pass: check the form, count the groups before and after `::`.
  let before = 0;
  let after = 0;
  let gap = false;
  let digits = 0;
  for (let i = 0; i < len; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x3a) {
      if (i + 1 < len && ip.charCodeAt(i + 1) === 0x3a) {
        if (gap || (digits === 0 && i > 0)) return UNSURE;
        gap = true;
        i++;
      } else if (digits === 0 || i + 1 === len) {
        return UNSURE;
      }
      digits = 0;
    } else if (hexDigit(c) >= 0) {
      if (++digits > 4) return UNSURE;
      if (digits === 1) {
        if (gap) after++;
        else before++;
      }
    } else {
      return UNSURE;
    }
  }
  if (gap ? before + after > 7 : before !== 8) return UNSURE;
  // Second pass: the groups into four 32-bit words.
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  let group = 0;
  let value = 0;
  let inGroup = false;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? ip.charCodeAt(i) : 0x3a;
    if (c === 0x3a) {
      if (inGroup) {
        const shifted = group % 2 === 0 ? value << 16 : value;
        if (group < 2) w0 |= shifted;
        else if (group < 4) w1 |= shifted;
        else if (group < 6) w2 |= shifted;
        else w3 |= shifted;
        group++;
        value = 0;
        inGroup = false;
      }
      if (i + 1 < len && ip.charCodeAt(i + 1) === 0x3a) {
        group = 8 - after;
        i++;
      }
    } else {
      value = value * 16 + hexDigit(c);
      inGroup = true;
    }
  }
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return matchV4(w3);
  return matchV6(w0, w1, w2, w3);
}
