import { emptyEvidence } from '../../src/core/evidence.js';
import type { Evidence, MxHostEvidence } from '../../src/core/evidence.js';

/** An MX host that resolved to `ips` (owners unknown unless `asn` is given). */
export function host(
  name: string,
  ips: string[],
  options: { priority?: number; asn?: number; msRange?: string } = {},
): MxHostEvidence {
  return {
    host: name,
    priority: options.priority ?? 10,
    ipLiteral: false,
    cnameChain: [],
    loop: false,
    status: ips.length > 0 ? 'ok' : 'nxdomain',
    addresses: ips.map((ip) => ({
      ip,
      owner: {
        asn: options.asn ?? null,
        org: options.asn ? `AS${options.asn} org` : '',
        prefix: '',
        source: options.asn ? 'table' : 'none',
      },
      microsoftRange: options.msRange ?? null,
    })),
  };
}

/** Evidence of a domain whose scan succeeded, with the given parts. */
export function evidence(
  domain: string,
  parts: Partial<Evidence> = {},
): Evidence {
  const mxHosts = parts.mxHosts ?? [];
  return {
    ...emptyEvidence(domain),
    mx: mxHosts.map((h) => ({ exchange: h.host, priority: h.priority })),
    txtStatus: 'nodata',
    ...parts,
  };
}

export function autodiscoverCname(
  domain: string,
  target: string,
): Evidence['autodiscover'] {
  return {
    name: `autodiscover.${domain}`,
    status: 'ok',
    cname: target,
    addresses: [],
    wildcard: false,
  };
}

export function autodiscoverA(
  domain: string,
  ips: string[],
  wildcard = false,
): Evidence['autodiscover'] {
  return {
    name: `autodiscover.${domain}`,
    status: 'ok',
    cname: null,
    addresses: ips,
    wildcard,
  };
}
