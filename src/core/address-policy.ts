import ipaddr from 'ipaddr.js';
import { parseIp } from './ip-address.js';

/**
 * Which addresses an outbound probe may connect to. DNS answers are
 * attacker-controlled: a name can point at loopback, a private network or a
 * cloud metadata service (169.254.169.254). Only global unicast addresses
 * are contacted, unless the user allowed a range (`--probe-allow CIDR`).
 */
export type AddressDecision =
  | { allowed: true }
  /** `range` is ipaddr.js's name for the special-purpose range (loopback, private, …). */
  | { allowed: false; range: string };

export type AddressPolicy = (ip: string) => AddressDecision;

/** A range the user allowed, parsed. */
export type AllowedRange = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses a `--probe-allow` value: a CIDR or a single address. Null when it
 * is neither (the caller names the option in the error).
 */
export function parseAllowedRange(text: string): AllowedRange | null {
  const trimmed = text.trim();
  try {
    if (trimmed.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(trimmed);
      return addr.kind() === 'ipv6' &&
        (addr as ipaddr.IPv6).isIPv4MappedAddress() &&
        bits >= 96
        ? [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96]
        : [addr, bits];
    }
  } catch {
    return null;
  }
  const addr = parseIp(trimmed);
  if (!addr) return null;
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

/**
 * The policy: an address (IPv4-mapped IPv6 taken as its IPv4) is allowed when
 * it is global unicast, or inside one of `allowed`. Anything that does not
 * parse as an address is refused.
 */
export function addressPolicy(allowed: readonly AllowedRange[]): AddressPolicy {
  return (ip) => {
    const addr = parseIp(ip);
    if (!addr) return { allowed: false, range: 'invalid' };
    for (const [net, bits] of allowed) {
      if (net.kind() === addr.kind() && addr.match(net, bits)) {
        return { allowed: true };
      }
    }
    // Everything ipaddr.js does not call plain unicast is special-purpose:
    // loopback, private, linkLocal (169.254/16, fe80::/10), carrierGradeNat,
    // uniqueLocal (fc00::/7), multicast, reserved, unspecified (0.0.0.0/8),
    // broadcast, and the IPv6 forms that embed an IPv4 address (6to4,
    // Teredo, NAT64 rfc6052, rfc6145).
    const range = addr.range();
    return range === 'unicast' ? { allowed: true } : { allowed: false, range };
  };
}
