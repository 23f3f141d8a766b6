/**
 * IP addresses as text and as integers: one strict parser (ipaddr.js) and
 * the conversions the range tables work with.
 */
import ipaddr from 'ipaddr.js';

/** ipaddr.js's own test in IPv4.isValidFourPartDecimal. */
const FOUR_PART_DECIMAL = /^(0|[1-9]\d*)(\.(0|[1-9]\d*)){3}$/;

/**
 * Parses an address with ipaddr.js. IPv4 must be four-part decimal (no
 * `127.1` or hex forms); IPv4-mapped IPv6 is returned as IPv4; a zone id
 * (`fe80::1%eth0`) is kept by ipaddr.js. Anything else → `null`.
 */
export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (typeof ip !== 'string') return null;
  // One ipaddr.js parse per address (its isValid() parses too), and only in
  // the family the text can be: a failed parse throws, which is slow.
  try {
    if (!ip.includes(':')) {
      return FOUR_PART_DECIMAL.test(ip) ? ipaddr.IPv4.parse(ip) : null;
    }
    const v6 = ipaddr.IPv6.parse(ip);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  } catch {
    return null;
  }
}

/** An address as an integer: 32-bit for IPv4, 128-bit for IPv6. */
export type IpNumber = { v: 4; n: number } | { v: 6; n: bigint };

/** Parses an address as {@link parseIp} does, into an integer. */
export function ipToNumber(ip: string): IpNumber | null {
  const addr = parseIp(ip);
  if (!addr) return null;
  const bytes = addr.toByteArray();
  if (addr.kind() === 'ipv4') {
    let n = 0;
    for (const b of bytes) n = n * 256 + b;
    return { v: 4, n };
  }
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return { v: 6, n };
}

/** Formats an integer from {@link ipToNumber} back to text (RFC 5952 for IPv6). */
export function numberToIp(ip: IpNumber): string {
  const bytes: number[] = [];
  if (ip.v === 4) {
    for (let shift = 24; shift >= 0; shift -= 8) {
      bytes.push(Math.floor(ip.n / 2 ** shift) % 256);
    }
  } else {
    for (let shift = 120n; shift >= 0n; shift -= 8n) {
      bytes.push(Number((ip.n >> shift) & 0xffn));
    }
  }
  return ipaddr.fromByteArray(bytes).toString();
}
