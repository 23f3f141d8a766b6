/**
 * Team Cymru's IP-to-ASN DNS interface, asked through the core's DNS port,
 * with its answers cached per address block and per AS.
 */
import ipaddr from 'ipaddr.js';
import type { DnsPort } from '../../core/dns.js';
import { isFailure } from '../../core/dns.js';
import { parseIp } from '../../core/ip-address.js';
import { noOwner, sanitizeOrg } from '../../core/ip-owner.js';
import type { IpOwner } from '../../core/ip-owner.js';
import { GenerationalCache } from '../../core/lru.js';
import type { LoadableAsnPort } from './loaded-asn-source.js';

const MAX_U32 = 0xffffffff;

/** Options of {@link createCymruAsnSource}. */
export interface CymruAsnSourceOptions {
  /**
   * Most cached answers kept (prefix and ASN caches each; at least 2);
   * default 50 000. The least recently used are forgotten first.
   */
  maxCacheEntries?: number;
}

interface OriginAnswer {
  asn: number;
  prefix: string;
  prefixLength: number;
}

/** Cached for a /24 (IPv4) or /48 (IPv6) when the origin prefix is no longer. */
const BLOCK_BITS = { ipv4: 24, ipv6: 48 } as const;

function cymruOriginName(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (addr.kind() === 'ipv4') {
    return `${addr.toByteArray().reverse().join('.')}.origin.asn.cymru.com`;
  }
  const nibbles = addr
    .toByteArray()
    .flatMap((b) => [(b >> 4).toString(16), (b & 15).toString(16)]);
  return `${nibbles.reverse().join('.')}.origin6.asn.cymru.com`;
}

function blockKey(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  const bits = BLOCK_BITS[addr.kind()];
  const bytes = addr.toByteArray().slice(0, bits / 8);
  return `${addr.kind()}/${bits}:${bytes.join('.')}`;
}

/** `"8075 15169 | 52.96.0.0/12 | US | arin | 2015-..."` → first AS and prefix. */
function parseOrigin(
  text: string,
  addr: ipaddr.IPv4 | ipaddr.IPv6,
): OriginAnswer | null {
  const fields = text.split('|').map((f) => f.trim());
  const asnText = fields[0]?.split(/\s+/)[0] ?? '';
  const prefix = fields[1] ?? '';
  if (!/^\d{1,10}$/.test(asnText) || Number(asnText) > MAX_U32) return null;
  if (!ipaddr.isValidCIDR(prefix)) return null;
  const cidr = ipaddr.parseCIDR(prefix);
  if (cidr[0].kind() !== addr.kind() || !addr.match(cidr)) return null;
  return {
    asn: Number(asnText),
    prefix: `${cidr[0].toString()}/${cidr[1]}`,
    prefixLength: cidr[1],
  };
}

/** `"8075 | US | arin | 2000-.. | MICROSOFT-CORP-MSN-AS-BLOCK - Microsoft Corporation, US"` → org. */
function parseAsName(text: string, asn: number): string | null {
  const fields = text.split('|');
  if (fields.length < 5 || fields[0]?.trim() !== String(asn)) return null;
  return sanitizeOrg(fields.slice(4).join('|'));
}

/**
 * Team Cymru's IP-to-ASN DNS interface, through the given {@link DnsPort}:
 * TXT `<reversed-v4>.origin.asn.cymru.com` (IPv6: nibble-reversed under
 * `origin6.asn.cymru.com`) for the origin AS and prefix, then TXT
 * `AS<n>.asn.cymru.com` for the AS name. Answers are cached per /24 (IPv4) or
 * /48 (IPv6) and names per AS; failures are not cached. A failed query or an
 * unreadable answer gives the `none` owner; it never throws. Private and other
 * special-purpose addresses are answered `none` without a query.
 */
export function createCymruAsnSource(
  dns: DnsPort,
  options: CymruAsnSourceOptions = {},
): LoadableAsnPort {
  // A generational cache holds up to twice its capacity: half the bound each.
  const capacity = Math.max(
    1,
    Math.floor((options.maxCacheEntries ?? 50_000) / 2),
  );
  const origins = new GenerationalCache<
    string,
    Promise<OriginAnswer | null | 'failed'>
  >(capacity);
  const names = new GenerationalCache<string, Promise<string | null>>(capacity);

  const askOrigin = async (
    addr: ipaddr.IPv4 | ipaddr.IPv6,
  ): Promise<OriginAnswer | null | 'failed'> => {
    const result = await dns.query(cymruOriginName(addr), 'TXT');
    if (isFailure(result.status)) return 'failed';
    if (result.status !== 'ok') return null;
    for (const txt of result.records) {
      const answer = parseOrigin(txt, addr);
      if (answer) return answer;
    }
    return null;
  };

  const origin = async (
    addr: ipaddr.IPv4 | ipaddr.IPv6,
  ): Promise<OriginAnswer | null | 'failed'> => {
    const block = blockKey(addr);
    const exact = `${addr.kind()}:${addr.toString()}`;
    const cached = origins.get(block) ?? origins.get(exact);
    if (cached) return cached;
    const pending = askOrigin(addr).catch(() => 'failed' as const);
    origins.set(exact, pending);
    const answer = await pending;
    if (answer === 'failed') {
      origins.delete(exact);
    } else if (
      answer === null ||
      answer.prefixLength <= BLOCK_BITS[addr.kind()]
    ) {
      // The whole block shares the answer (no origin: an unrouted block).
      origins.set(block, pending);
      origins.delete(exact);
    }
    return answer;
  };

  const asName = (asn: number): Promise<string | null> => {
    const key = String(asn);
    const cached = names.get(key);
    if (cached) return cached;
    const pending = (async (): Promise<string | null> => {
      const result = await dns.query(`AS${asn}.asn.cymru.com`, 'TXT');
      if (result.status !== 'ok') {
        if (isFailure(result.status)) names.delete(key);
        return null;
      }
      for (const txt of result.records) {
        const org = parseAsName(txt, asn);
        if (org !== null) return org;
      }
      return null;
    })().catch(() => {
      names.delete(key);
      return null;
    });
    names.set(key, pending);
    return pending;
  };

  return {
    async lookup(ip: string): Promise<IpOwner> {
      try {
        const addr = parseIp(ip);
        if (!addr || addr.range() !== 'unicast') return noOwner();
        const answer = await origin(addr);
        if (answer === null || answer === 'failed') return noOwner();
        const org = (await asName(answer.asn)) ?? '';
        return {
          asn: answer.asn,
          org,
          prefix: answer.prefix,
          source: 'cymru',
        };
      } catch {
        return noOwner();
      }
    },
    load: () => Promise.resolve(),
    warnings: () => [],
    size: () => 0,
  };
}
