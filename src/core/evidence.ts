import type { MxRecord, QueryResult, QueryStatus, SrvRecord } from './dns.js';
import type { IpOwner } from './ip-owner.js';

/**
 * How the scan of one domain ended, before classification.
 * - `ok`: MX found and at least one MX host resolved
 * - `nxdomain`, `no-mx`, `null-mx`, `mx-dangling`: the domain receives no mail
 * - `cname-loop`, `timeout`, `servfail`, `refused`, `error`: DNS failed; the
 *   answer is unknown, never "no record"
 * - `invalid`: the input is not a domain name; nothing was asked
 */
export type DomainStatus =
  | 'ok'
  | 'nxdomain'
  | 'no-mx'
  | 'null-mx'
  | 'mx-dangling'
  | 'cname-loop'
  | 'timeout'
  | 'servfail'
  | 'refused'
  | 'error'
  | 'invalid';

/** One address of an MX host with what we know of its owner. */
export interface AddressEvidence {
  ip: string;
  owner: IpOwner;
  /** Id of the Microsoft range the address falls in, or null. */
  microsoftRange: string | null;
}

export interface MxHostEvidence {
  /** Lower-case, no trailing dot. */
  host: string;
  priority: number;
  /** The MX names an IP address instead of a host (RFC 5321 forbids it). */
  ipLiteral: boolean;
  /** CNAMEs followed from the MX host (RFC 2181 10.3 forbids an alias as MX). */
  cnameChain: string[];
  /** The CNAME chain never ends (a loop, or longer than the limit). */
  loop: boolean;
  /** How the address lookups ended: ok, nodata / nxdomain (dangling) or a failure. */
  status: QueryStatus;
  addresses: AddressEvidence[];
}

/** A CNAME-type probe and its outcome. */
export interface ProbeEvidence {
  name: string;
  status: QueryStatus;
  target: string | null;
}

export interface AutodiscoverEvidence {
  name: string;
  /** Combined status of the CNAME and address lookups. */
  status: QueryStatus;
  cname: string | null;
  addresses: string[];
  /** The answer equals what a wildcard under the domain gives: not evidence. */
  wildcard: boolean;
}

/** A name under the domain asked for its addresses (an on-premises host candidate). */
export interface HostLookupEvidence {
  name: string;
  /** Combined status of the lookups (A, or CNAME then A). */
  status: QueryStatus;
  cname: string | null;
  addresses: string[];
  /** The answer equals what a wildcard under the domain gives: not evidence. */
  wildcard: boolean;
}

/** Everything the scan learnt about one domain: the input of `classify`. */
export interface Evidence {
  domain: string;
  status: DomainStatus;
  /** Human-readable detail for a failure status, e.g. the query that failed. */
  error: string;
  /** CNAMEs followed at the apex (empty when the apex is not an alias). */
  apexCname: string[];
  /** MX records in priority order, null MX removed (see `nullMx`). */
  mx: MxRecord[];
  /** The answer held a null MX (RFC 7505) — alone, or mixed with real MX. */
  nullMx: boolean;
  mxHosts: MxHostEvidence[];
  /** Apex TXT records (capped). */
  txt: string[];
  txtStatus: QueryStatus | null;
  autodiscover: AutodiscoverEvidence | null;
  autodiscoverSrv: { status: QueryStatus; records: SrvRecord[] } | null;
  dkim: ProbeEvidence[];
  services: ProbeEvidence[];
  exchangeDelegation: {
    status: QueryStatus;
    records: string[];
    /** The same TXT answers a name that cannot exist: a wildcard's. */
    wildcard: boolean;
  } | null;
  autodiscoverService: ProbeEvidence | null;
  /**
   * Owners (ASN, or null) of autodiscover's addresses, in their order: an
   * autodiscover A at the MX hoster's network is the hoster's.
   */
  autodiscoverAsns: (number | null)[];
  /**
   * Host names whose addresses were looked up to name the on-premises hosts:
   * autodiscover's CNAME or SRV target when no MX host gave its address, and
   * the conventional Exchange names when federation records were found.
   */
  hostLookups: HostLookupEvidence[];
  /**
   * `autoconfig.<domain>` (Thunderbird's autoconfiguration), asked beside an
   * own autodiscover: mail servers other than Exchange commonly publish it.
   * Status `nodata` to a CNAME query means the name exists with addresses.
   */
  autoconfig: ProbeEvidence | null;
  /** Provider DKIM selectors asked when the MX does not name the provider. */
  providerDkim: ProbeEvidence[];
  wildcard: {
    probe: string;
    present: boolean;
    cname: string | null;
    addresses: string[];
  } | null;
  /** Queries that failed without deciding the status: "name TYPE: status". */
  failures: string[];
  /** Every query made for this domain, in order (shared cached answers included). */
  queries: QueryResult[];
}

/** Evidence with nothing learnt yet: the start of a scan. */
export function emptyEvidence(
  domain: string,
  status: DomainStatus = 'ok',
  error = '',
): Evidence {
  return {
    domain,
    status,
    error,
    apexCname: [],
    mx: [],
    nullMx: false,
    mxHosts: [],
    txt: [],
    txtStatus: null,
    autodiscover: null,
    autodiscoverSrv: null,
    dkim: [],
    services: [],
    exchangeDelegation: null,
    autodiscoverService: null,
    autodiscoverAsns: [],
    hostLookups: [],
    autoconfig: null,
    providerDkim: [],
    wildcard: null,
    failures: [],
    queries: [],
  };
}
