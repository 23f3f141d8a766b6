import { isFailure } from './dns.js';
import type {
  DnsPort,
  MxRecord,
  QueryResult,
  QueryStatus,
  QueryType,
  RdataOf,
} from './dns.js';
import { emptyEvidence } from './evidence.js';
import type {
  AddressEvidence,
  AutodiscoverEvidence,
  DomainStatus,
  Evidence,
  HostLookupEvidence,
  MxHostEvidence,
  ProbeEvidence,
} from './evidence.js';
import type {
  ExchangeProbePort,
  ProbeSource,
  ProbedHost,
} from './exchange-probe.js';
import { matchMicrosoftRange } from './microsoft-ranges.js';
import type { AsnPort } from './ip-owner.js';
import {
  AUTODISCOVER_SIGNATURES,
  CONVENTIONAL_EXCHANGE_NAMES,
  MX_SIGNATURES,
  PROVIDER_DKIM,
  SERVICE_SIGNATURES,
  hasSuffix,
  isProviderHost,
  matchHost,
} from './signatures.js';
import { signals } from './classify.js';
import type { Signals } from './classify.js';
import { MAX_RECORD_CHARS, MAX_RECORDS, cap } from './untrusted-text.js';

/** The ports a scan needs, passed in as one object. */
export interface ScanDeps {
  /** Asked for names under the scanned domain: each is asked once anyway. */
  dns: DnsPort;
  /**
   * Asked for names outside the scanned domain (provider MX hosts, gateway
   * names), which many domains share: usually a cache in front of `dns`.
   * Default: `dns`.
   */
  sharedDns?: DnsPort;
  asn: AsnPort;
  /**
   * The HTTPS probe of candidate Exchange hosts (`--probe`); absent, no
   * server is contacted.
   */
  probe?: ExchangeProbePort;
  /** Milliseconds since the epoch, for the per-domain deadline. Default Date.now. */
  now?: () => number;
}

/** Bounds of one domain's scan. */
export interface ScanLimits {
  /** MX hosts whose addresses are looked up, in priority order. Default 10. */
  maxMxHosts: number;
  /**
   * Aliases in one chain the scan follows before it gives up on it as cut
   * (status `cname-loop`, the error saying the chain is too long). Default
   * {@link MAX_CNAME_CHAIN}.
   */
  maxCnameChain: number;
  /**
   * Time one domain may take, all queries and retries included, in ms: a
   * query not yet asked when it is spent ends as `timeout` without being
   * sent. Default 60 000 (each query has its own deadline too).
   */
  domainDeadlineMs: number;
  /** Hosts of one domain the probe contacts, MX hosts first. Default 4. */
  maxProbeHosts: number;
}

/**
 * The longest CNAME chain the scan follows: 16 aliases. RFC 1034 (3.6.2,
 * 5.2.2) has resolvers follow chains and report loops as errors but sets no
 * length; recursors bound the restarts a chain costs them. BIND followed at
 * most 16 (hard-coded until 9.18.29 and 9.20.1, now `max-query-restarts`,
 * default 11); Unbound 8, 11 since 1.13.2 (MAX_RESTART_COUNT,
 * NLnetLabs/unbound#438), and answers SERVFAIL past it (1.17.1 tested). So
 * no major recursor resolves a longer chain by default, and a chain that
 * stops without records after this many aliases looks like one a recursor
 * cut (BIND hands back the partial chain): unresolved, never "no record".
 * A chain a recursor delivered whole, ending in the records, is taken at
 * any length, by both DNS clients (c-ares follows it too).
 */
export const MAX_CNAME_CHAIN = 16;

export const DEFAULT_SCAN_LIMITS: ScanLimits = {
  maxMxHosts: 10,
  maxCnameChain: MAX_CNAME_CHAIN,
  domainDeadlineMs: 60_000,
  maxProbeHosts: 4,
};

// Exchange Online has both selector1 and selector2 published before it signs
// (it refuses to enable DKIM otherwise): selector1 alone tells.
const DKIM_SELECTOR = 'selector1';

/** Statuses of an MX lookup that end the scan, mapped to the domain status. */
const FAILURE_STATUS: Record<QueryStatus, DomainStatus> = {
  ok: 'ok',
  nodata: 'no-mx',
  nxdomain: 'nxdomain',
  timeout: 'timeout',
  servfail: 'servfail',
  refused: 'refused',
  error: 'error',
};

/**
 * Gathers the evidence for one (already normalised) domain. Never throws for
 * DNS outcomes: failures are recorded in the evidence's status and failures.
 */
export async function scanDomain(
  domain: string,
  deps: ScanDeps,
  limits: ScanLimits = DEFAULT_SCAN_LIMITS,
): Promise<Evidence> {
  const scan = new DomainScan(domain, deps, limits);
  const ev = await scan.run();
  if (deps.probe && ev.status === 'ok') {
    ev.exchangeProbe = await scan.probeExchange(deps.probe);
  }
  return ev;
}

class DomainScan {
  readonly ev: Evidence;
  readonly now: () => number;
  readonly deadline: number;

  constructor(
    readonly domain: string,
    readonly deps: ScanDeps,
    readonly limits: ScanLimits,
  ) {
    this.ev = emptyEvidence(domain);
    this.now = deps.now ?? Date.now;
    this.deadline = this.now() + limits.domainDeadlineMs;
  }

  async ask<T extends QueryType>(
    name: string,
    type: T,
  ): Promise<QueryResult<T>> {
    if (this.now() >= this.deadline) {
      const spent: QueryResult<T> = {
        name,
        type,
        status: 'timeout',
        records: [],
        resolver: '',
        ms: 0,
        error: 'domain deadline spent',
      };
      this.ev.queries.push(spent);
      return spent;
    }
    const port =
      this.deps.sharedDns && !hasSuffix(name, this.domain)
        ? this.deps.sharedDns
        : this.deps.dns;
    const result = await port.query(name, type);
    this.ev.queries.push(capResult(result));
    return result;
  }

  /** Notes a failed query that did not decide the domain's status. */
  noteFailure(result: QueryResult): void {
    if (isFailure(result.status)) {
      this.ev.failures.push(
        `${result.name} ${result.type}: ${result.status}${result.error ? ` (${result.error})` : ''}`,
      );
    }
  }

  fail(status: DomainStatus, error: string): Evidence {
    this.ev.status = status;
    this.ev.error = error;
    return this.ev;
  }

  async run(): Promise<Evidence> {
    const d = this.domain;
    let mx = await this.ask(d, 'MX');
    if (mx.status === 'nodata' || mx.status === 'servfail') {
      // The apex may be an alias: an authoritative server answers MX with the
      // bare CNAME (NODATA to c-ares), a recursor SERVFAILs on a loop or a
      // chain longer than its restart limit, or hands back the chain so far.
      const known = mx.cnames ?? [];
      const chain = await this.followCname(d, known);
      if (chain.endless) {
        return this.fail('cname-loop', this.endless(d, chain.names));
      }
      if (chain.names.length > 0) {
        this.ev.apexCname = shownChain(chain.names);
        if (chain.failed) this.noteFailure(chain.failed);
        const target = chain.names[chain.names.length - 1] as string;
        // Asked again unless the MX answer already reached the chain's end.
        const grown = chain.names.length > known.length;
        if (mx.status === 'servfail' || grown)
          mx = await this.ask(target, 'MX');
      }
    }
    if (mx.cnames?.length) this.ev.apexCname = shownChain(mx.cnames);
    if (mx.status !== 'ok') {
      return this.fail(FAILURE_STATUS[mx.status], describe(mx));
    }

    const records = sortMx(mx.records);
    this.ev.nullMx = records.some((r) => r.exchange === '');
    this.ev.mx = records.filter((r) => r.exchange !== '');
    if (this.ev.mx.length === 0) return this.fail('null-mx', '');

    const hosts = this.ev.mx.slice(0, this.limits.maxMxHosts);
    // MX only at Google or at a known non-Exchange provider decides the
    // verdict whatever else DNS says: the Microsoft probes are not asked.
    const settled = hosts.every((h) => {
      const kind = matchHost(MX_SIGNATURES, h.exchange)?.kind;
      return kind === 'google' || kind === 'provider';
    });
    const [mxHosts] = await Promise.all([
      Promise.all(hosts.map((r) => this.mxHost(r))),
      settled ? this.settledProbes() : this.probes(),
    ]);
    this.ev.mxHosts = mxHosts;
    await this.afterMx(settled);
    await this.owners();

    if (!mxHosts.some((h) => h.status === 'ok')) {
      const loop = mxHosts.find((h) => h.loop);
      if (loop) {
        return this.fail(
          'cname-loop',
          `MX host ${loop.host}: ${this.endless(loop.host, loop.cnameChain)}`,
        );
      }
      const failed = mxHosts.find((h) => isFailure(h.status));
      if (failed) {
        return this.fail(
          FAILURE_STATUS[failed.status],
          `MX host ${failed.host}: ${failed.status}`,
        );
      }
      return this.fail(
        'mx-dangling',
        `no MX host resolves: ${mxHosts.map((h) => h.host).join(', ')}`,
      );
    }
    // Autodiscover tells Exchange Online from on-premises and hybrid: when
    // it failed (and its SRV fallback gave nothing), the verdict is unknown.
    // A timeout is not "no autodiscover".
    const ad = this.ev.autodiscover;
    const srv = this.ev.autodiscoverSrv;
    if (!settled && ad && isFailure(ad.status) && !(srv?.status === 'ok')) {
      return this.fail(
        FAILURE_STATUS[ad.status],
        `${ad.name}: ${ad.status}; autodiscover decides between Exchange Online, on-premises and hybrid`,
      );
    }
    return this.ev;
  }

  /**
   * The candidate Exchange hosts, each probed once: the domain's own hosts
   * (`onprem_hosts`: own MX hosts, autodiscover's own target, conventional
   * Exchange names), then MX servers of other organisations that match no
   * provider signature (an MSP's shared Exchange: `other-hosted` by DNS).
   */
  async probeExchange(probe: ExchangeProbePort): Promise<ProbedHost[]> {
    const targets = new Map<
      string,
      { addresses: readonly string[]; sources: ProbeSource[] }
    >();
    const add = (
      host: string,
      addresses: readonly string[],
      sources: readonly ProbeSource[],
    ) => {
      const t = targets.get(host);
      if (t) {
        for (const s of sources) if (!t.sources.includes(s)) t.sources.push(s);
      } else if (targets.size < this.limits.maxProbeHosts) {
        targets.set(host, {
          addresses: addresses.slice(0, MAX_RECORDS),
          sources: [...sources],
        });
      }
    };
    for (const h of signals(this.ev).hosts) add(h.name, h.addresses, h.sources);
    for (const h of this.ev.mxHosts) {
      if (h.status !== 'ok' || matchHost(MX_SIGNATURES, h.host) !== null) {
        continue;
      }
      const addresses = h.addresses
        .filter((a) => a.microsoftRange === null)
        .map((a) => a.ip);
      if (addresses.length > 0) add(h.host, addresses, ['mx']);
    }
    return Promise.all(
      [...targets].map(async ([host, t]) => ({
        ...(await probe.probe({ host, addresses: t.addresses })),
        sources: t.sources,
      })),
    );
  }

  /**
   * Follows the CNAME chain from `name` with CNAME queries, from the end of
   * `known`, the aliases an answer already showed, to where it ends. It is
   * `endless` when a name repeats (a loop) or it goes on past
   * `limits.maxCnameChain` aliases: the rest is never asked.
   */
  async followCname(
    name: string,
    known: readonly string[] = [],
  ): Promise<{
    names: string[];
    endless: boolean;
    failed: QueryResult | null;
  }> {
    const names: string[] = [];
    const seen = new Set([name]);
    const add = (target: string): boolean => {
      names.push(target);
      if (seen.has(target)) return false;
      seen.add(target);
      // One alias past the limit shows the chain goes on.
      return names.length <= this.limits.maxCnameChain;
    };
    for (const target of known) {
      if (!add(target)) return { names, endless: true, failed: null };
    }
    let current = names[names.length - 1] ?? name;
    for (;;) {
      const r = await this.ask(current, 'CNAME');
      if (r.status !== 'ok') {
        return {
          names,
          endless: false,
          failed: isFailure(r.status) ? r : null,
        };
      }
      const target = r.records[0] as string;
      if (!add(target)) return { names, endless: true, failed: null };
      current = target;
    }
  }

  /** The error of a chain from `name` that `followCname` found endless. */
  endless(name: string, names: readonly string[]): string {
    const last = names[names.length - 1];
    const repeat =
      last === name || names.indexOf(last as string) < names.length - 1;
    const shown = [name, ...shownChain(names)].join(' -> ');
    return repeat
      ? `CNAME loop: ${shown}`
      : `CNAME chain longer than ${this.limits.maxCnameChain} aliases, not followed further: ${shown} -> ...`;
  }

  async mxHost(r: MxRecord): Promise<MxHostEvidence> {
    const ev: MxHostEvidence = {
      host: r.exchange,
      priority: r.priority,
      ipLiteral: false,
      cnameChain: [],
      loop: false,
      status: 'ok',
      addresses: [],
    };
    const literal = ipLiteral(r.exchange);
    if (literal) {
      ev.ipLiteral = true;
      ev.addresses.push(address(literal));
      return ev;
    }
    let name = r.exchange;
    // A known provider's host: its owner is known by name, AAAA only matters
    // when it has no A. An unknown server: both, for its owners.
    const both = matchHost(MX_SIGNATURES, name) === null;
    let [a, aaaa] = await this.addresses(name, both);
    if (a.status === 'nodata' && aaaa.status === 'nodata') {
      // An alias as MX target: a recursor chases it inside the A answer; an
      // authoritative server hands back the bare CNAME.
      const chain = await this.followCname(name, a.cnames ?? aaaa.cnames);
      ev.cnameChain = shownChain(chain.names);
      if (chain.endless) {
        ev.status = 'error';
        ev.loop = true;
        return ev;
      }
      if (chain.names.length > 0) {
        name = chain.names[chain.names.length - 1] as string;
        [a, aaaa] = await this.addresses(name, both);
      }
    }
    // A recursor chases the alias inside the answer: the chain comes with it.
    if (ev.cnameChain.length === 0)
      ev.cnameChain = shownChain(a.cnames ?? aaaa.cnames ?? []);
    // Resolvers rotate the order of a record set: sorted, a run's output
    // does not depend on it.
    const ips = [...sorted(a.records), ...sorted(aaaa.records)];
    for (const ip of ips.slice(0, MAX_RECORDS)) {
      ev.addresses.push(address(ip));
    }
    ev.status = combine(a.status, aaaa.status);
    if (ev.status !== 'ok') {
      this.noteFailure(a);
      this.noteFailure(aaaa);
    }
    return ev;
  }

  /** A and AAAA of `name`: together, or AAAA only when A has none. */
  async addresses(
    name: string,
    both: boolean,
  ): Promise<[QueryResult<'A'>, QueryResult<'AAAA'>]> {
    if (both) {
      return Promise.all([this.ask(name, 'A'), this.ask(name, 'AAAA')]);
    }
    const a = await this.ask(name, 'A');
    if (a.status === 'ok' || a.status === 'nxdomain') {
      return [a, { ...a, type: 'AAAA', records: [] }];
    }
    return [a, await this.ask(name, 'AAAA')];
  }

  async owners(): Promise<void> {
    const lookups: Promise<void>[] = [];
    for (const host of this.ev.mxHosts) {
      for (const addr of host.addresses) {
        lookups.push(
          this.deps.asn.lookup(addr.ip).then((owner) => {
            addr.owner = owner;
          }),
        );
      }
    }
    const ad = this.ev.autodiscover;
    if (ad && ad.cname === null && ad.addresses.length > 0) {
      lookups.push(
        Promise.all(ad.addresses.map((ip) => this.deps.asn.lookup(ip))).then(
          (owners) => {
            this.ev.autodiscoverAsns = owners.map((o) => o.asn);
          },
        ),
      );
    }
    await Promise.all(lookups);
  }

  /** The apex TXT records (SPF, verification). */
  async txt(): Promise<void> {
    const txt = await this.ask(this.domain, 'TXT');
    this.ev.txtStatus = txt.status;
    this.ev.txt = capRecords(sorted(txt.records));
    this.noteFailure(txt);
  }

  /**
   * The Microsoft 365 traces beside the MX, in parallel. A second name that
   * could only repeat what the first answered (sip after lyncdiscover) is
   * asked only when the first is silent.
   */
  async probes(): Promise<void> {
    const d = this.domain;
    // The Teams/Intune probes wait only for autodiscover's CNAME, not for
    // the rest of its lookups (addresses, wildcard probe, SRV).
    let cnameAtMicrosoft: (yes: boolean) => void = () => undefined;
    const firstLook = new Promise<boolean>((r) => (cnameAtMicrosoft = r));
    const early = this.ev.mx.some(
      (m) => matchHost(MX_SIGNATURES, m.exchange)?.kind === 'microsoft',
    )
      ? this.askDelegation()
      : null;
    const [, , dkim, services] = await Promise.all([
      this.txt(),
      this.autodiscover(cnameAtMicrosoft).then((found) => {
        this.ev.autodiscover = found;
        return Promise.all([
          this.federation(found, early),
          this.ownAutodiscover(),
        ]);
      }),
      this.probe(`${DKIM_SELECTOR}._domainkey.${d}`).then((p) => [p]),
      firstLook.then((yes) => this.services(yes)),
    ]);
    this.ev.dkim = dkim;
    this.ev.services = services;
  }

  /**
   * The Teams (lyncdiscover, sip) and Intune (enterpriseregistration,
   * enterpriseenrollment) CNAMEs: they prove a Microsoft 365 tenant exists
   * and never decide a verdict. When every MX host is at Microsoft and
   * autodiscover's CNAME too (`adCnameAtMicrosoft`), the tenant is already
   * proven: they are not asked.
   */
  async services(adCnameAtMicrosoft: boolean): Promise<ProbeEvidence[]> {
    if (adCnameAtMicrosoft && this.mxAllAtMicrosoft()) return [];
    const d = this.domain;
    const [teams, devices] = await Promise.all([
      this.firstAnswer([`lyncdiscover.${d}`, `sip.${d}`]),
      this.firstAnswer([
        `enterpriseregistration.${d}`,
        `enterpriseenrollment.${d}`,
      ]),
    ]);
    return [...teams, ...devices];
  }

  /** Every MX host and autodiscover at Microsoft: Exchange Online, proven. */
  allAtMicrosoft(ad: AutodiscoverEvidence): boolean {
    return (
      ad.status === 'ok' && pointsAtMicrosoft(ad) && this.mxAllAtMicrosoft()
    );
  }

  mxAllAtMicrosoft(): boolean {
    return this.ev.mx.every(
      (m) => matchHost(MX_SIGNATURES, m.exchange)?.kind === 'microsoft',
    );
  }

  /**
   * The hybrid federation records, asked for every domain with Microsoft
   * evidence: `exchangedelegation` (the Hybrid Configuration Wizard's TXT)
   * at once when an MX host is at Microsoft (`early`), else when
   * autodiscover is; SPF, DKIM, `MS=` and tenant records are checked in
   * {@link afterMx}. `autodiscover.service` is asked where MX and
   * autodiscover disagree, or once `exchangedelegation` answered.
   */
  async federation(
    ad: AutodiscoverEvidence,
    early: Promise<void> | null,
  ): Promise<void> {
    const adAtMicrosoft = ad.status === 'ok' && pointsAtMicrosoft(ad);
    if (!early && !adAtMicrosoft) return;
    const delegation = early ?? this.askDelegation();
    if (!this.allAtMicrosoft(ad)) {
      await Promise.all([delegation, this.askAutodiscoverService()]);
      return;
    }
    await delegation;
    if (this.ev.exchangeDelegation?.records.length) {
      await this.askAutodiscoverService();
    }
  }

  async askDelegation(): Promise<void> {
    const d = this.domain;
    const fed: NonNullable<Evidence['exchangeDelegation']> = {
      status: 'nodata',
      records: [],
      wildcard: false,
    };
    this.ev.exchangeDelegation = fed;
    const delegation = await this.ask(`exchangedelegation.${d}`, 'TXT');
    fed.status = delegation.status;
    fed.records = capRecords(delegation.records);
    this.noteFailure(delegation);
    if (delegation.records.length > 0) {
      // A wildcard TXT (often "v=spf1 -all") answers any name: compare.
      const wc = await this.ask(`${wildcardLabel(d)}.${d}`, 'TXT');
      fed.wildcard = sameSet(delegation.records, wc.records);
    }
  }

  async askAutodiscoverService(): Promise<void> {
    if (this.ev.autodiscoverService) return;
    this.ev.autodiscoverService = await this.probe(
      `autodiscover.service.${this.domain}`,
    );
  }

  /**
   * Beside an own autodiscover: `autoconfig` (evidence against Exchange) and
   * the addresses of autodiscover's CNAME or SRV target when no MX host gave
   * them (the host a probe would contact).
   */
  async ownAutodiscover(): Promise<void> {
    const ad = this.ev.autodiscover;
    const own =
      ad !== null &&
      ad.status === 'ok' &&
      !ad.wildcard &&
      !pointsAtMicrosoft(ad) &&
      !(ad.cname !== null && isProviderHost(ad.cname));
    const srvTarget = this.ev.autodiscoverSrv?.records[0]?.name ?? '';
    const ownSrv =
      srvTarget !== '' &&
      !isProviderHost(srvTarget) &&
      matchHost(AUTODISCOVER_SIGNATURES, srvTarget) === null;
    if (!own && !ownSrv) return;
    const work: Promise<void>[] = [
      this.probe(`autoconfig.${this.domain}`).then((p) => {
        this.ev.autoconfig = p;
      }),
    ];
    for (const t of [own ? ad.cname : null, ownSrv ? srvTarget : null]) {
      if (t && !this.ev.mx.some((m) => m.exchange === t)) {
        work.push(this.lookupHost(t, false));
      }
    }
    await Promise.all(work);
  }

  /**
   * What the first round left open: federation records when only SPF, DKIM,
   * `MS=` or a tenant record showed Microsoft; provider DKIM behind an
   * opaque MX; the conventional Exchange names once federation records
   * showed a hybrid configuration.
   */
  async afterMx(settled: boolean): Promise<void> {
    // Google or a known provider holds the MX: nothing Microsoft is asked.
    if (settled) return;
    const s = signals(this.ev);
    const work: Promise<unknown>[] = [];
    if (!this.ev.exchangeDelegation && this.microsoftTraces(s)) {
      work.push(this.askDelegation(), this.askAutodiscoverService());
    }
    if (this.opaqueMx(s)) {
      work.push(
        Promise.all(
          PROVIDER_DKIM.flatMap((p) =>
            p.selector
              ? [this.probe(`${p.selector}._domainkey.${this.domain}`)]
              : [],
          ),
        ).then((probes) => {
          this.ev.providerDkim = probes;
        }),
      );
    }
    await Promise.all(work);
    const fed = this.ev.exchangeDelegation;
    const service = this.ev.autodiscoverService?.target;
    if (
      (fed && fed.records.length > 0 && !fed.wildcard) ||
      (service && matchHost(AUTODISCOVER_SIGNATURES, service))
    ) {
      const d = this.domain;
      await Promise.all(
        CONVENTIONAL_EXCHANGE_NAMES.map((c) =>
          this.lookupHost(`${c.label}.${d}`, true),
        ),
      );
    }
  }

  /**
   * SPF, DKIM, `MS=` or a tenant record at Microsoft, read by the classifier's
   * own signals from the evidence so far.
   */
  microsoftTraces(s: Signals): boolean {
    return (
      s.spfExo ||
      s.dkimTenant !== '' ||
      s.msVerification ||
      s.ids.some((id) => SERVICE_SIGNATURES.some((x) => x.id === id))
    );
  }

  /**
   * The MX does not say who holds the mailboxes: a gateway or an unknown
   * server elsewhere, and neither autodiscover nor Microsoft says more.
   */
  opaqueMx(s: Signals): boolean {
    return (
      (s.primaryMx === 'gateway' || s.primaryMx === 'foreign') &&
      (s.autodiscover === 'none' || s.autodiscover === 'failed') &&
      !this.microsoftTraces(s)
    );
  }

  /**
   * The addresses of one host name, and its CNAME. `checkWildcard`: compared
   * with what a name that cannot exist under the domain resolves to.
   */
  async lookupHost(name: string, checkWildcard: boolean): Promise<void> {
    const ev: HostLookupEvidence = {
      name,
      status: 'ok',
      cname: null,
      addresses: [],
      wildcard: false,
    };
    this.ev.hostLookups.push(ev);
    // The CNAME beside the A: an alias into a provider is not an own server,
    // and not every resolver shows the chain inside the A answer.
    const [c, first] = await Promise.all([
      this.ask(name, 'CNAME'),
      this.ask(name, 'A'),
    ]);
    let a = first;
    if (c.status === 'ok') {
      ev.cname = c.records[0] as string;
      if (a.status === 'nodata') a = await this.ask(ev.cname, 'A');
    }
    ev.status = a.status;
    ev.addresses = sorted(a.records).slice(0, MAX_RECORDS);
    this.noteFailure(a);
    if (checkWildcard && a.status === 'ok') {
      const wc = await this.wildcardAddresses();
      ev.wildcard = sameSet(ev.addresses, wc);
    }
  }

  wildcardA: Promise<string[]> | null = null;

  /** What a name that cannot exist under the domain resolves to (once). */
  wildcardAddresses(): Promise<string[]> {
    this.wildcardA ??= this.ask(
      `${wildcardLabel(this.domain)}.${this.domain}`,
      'A',
    ).then((r) => [...r.records]);
    return this.wildcardA;
  }

  /**
   * Google or a known provider holds the MX: only autodiscover is asked
   * beside the TXT, for an own Exchange server left behind. Its SRV is not:
   * hosters publish it for their own discovery service.
   */
  async settledProbes(): Promise<void> {
    await Promise.all([
      this.txt(),
      this.autodiscover(() => undefined, false).then((found) => {
        this.ev.autodiscover = found;
        return this.ownAutodiscover();
      }),
    ]);
  }

  /** CNAME probes of `names` in turn, until one has a target. */
  async firstAnswer(names: readonly string[]): Promise<ProbeEvidence[]> {
    const out: ProbeEvidence[] = [];
    for (const name of names) {
      const p = await this.probe(name);
      out.push(p);
      if (p.target !== null) break;
    }
    return out;
  }

  async probe(name: string): Promise<ProbeEvidence> {
    const r = await this.ask(name, 'CNAME');
    this.noteFailure(r);
    return {
      name,
      status: r.status,
      target: r.status === 'ok' ? (r.records[0] as string) : null,
    };
  }

  /**
   * `autodiscover.<domain>`: its CNAME, else its addresses, checked against a
   * wildcard, with the SRV record when silent. `onCname` hears, as soon as
   * the CNAME query is answered, whether it points at Microsoft.
   */
  async autodiscover(
    onCname: (atMicrosoft: boolean) => void,
    withSrv = true,
  ): Promise<AutodiscoverEvidence> {
    const name = `autodiscover.${this.domain}`;
    const ev: AutodiscoverEvidence = {
      name,
      status: 'ok',
      cname: null,
      addresses: [],
      wildcard: false,
    };
    const cname = await this.ask(name, 'CNAME');
    onCname(
      cname.status === 'ok' &&
        matchHost(AUTODISCOVER_SIGNATURES, cname.records[0] as string) !== null,
    );
    if (cname.status === 'ok') {
      ev.cname = cname.records[0] as string;
    } else if (cname.status === 'nodata') {
      const [a, aaaa] = await this.addresses(name, false);
      ev.addresses = [...sorted(a.records), ...sorted(aaaa.records)];
      ev.status = combine(a.status, aaaa.status);
      this.noteFailure(a);
      this.noteFailure(aaaa);
    } else {
      ev.status = cname.status;
      this.noteFailure(cname);
    }
    // A wildcard could only fake an own-server answer: one pointing at
    // Microsoft is taken as it is (a wildcard to Exchange Online is not a
    // configuration anyone runs).
    if (ev.status === 'ok' && !pointsAtMicrosoft(ev)) {
      ev.wildcard = await this.isWildcardAnswer(ev);
    }
    if (withSrv && (ev.status !== 'ok' || ev.wildcard)) {
      // Autodiscover silent: the SRV record is Outlook's next place to look.
      const srv = await this.ask(`_autodiscover._tcp.${this.domain}`, 'SRV');
      this.ev.autodiscoverSrv = {
        status: srv.status,
        records: srv.records.slice(0, MAX_RECORDS),
      };
      this.noteFailure(srv);
    }
    return ev;
  }

  /**
   * Asks a label that cannot exist under the domain: when a wildcard answers
   * it with what autodiscover answered, autodiscover's answer is no evidence.
   */
  async isWildcardAnswer(ad: AutodiscoverEvidence): Promise<boolean> {
    const probe = `${wildcardLabel(this.domain)}.${this.domain}`;
    const cname = await this.ask(probe, 'CNAME');
    const wc = {
      probe,
      present: false,
      cname: null as string | null,
      addresses: [] as string[],
    };
    this.ev.wildcard = wc;
    if (cname.status === 'ok') {
      wc.present = true;
      wc.cname = cname.records[0] as string;
      return ad.cname === wc.cname;
    }
    if (cname.status !== 'nodata') {
      this.noteFailure(cname);
      return false;
    }
    // NODATA for a name that cannot exist: a wildcard of another type.
    wc.present = true;
    if (ad.cname !== null) return false;
    const [a, aaaa] = await Promise.all([
      this.ask(probe, 'A'),
      this.ask(probe, 'AAAA'),
    ]);
    wc.addresses = [...a.records, ...aaaa.records];
    return sameSet(ad.addresses, wc.addresses);
  }
}

function pointsAtMicrosoft(ad: AutodiscoverEvidence): boolean {
  if (ad.cname !== null) {
    return matchHost(AUTODISCOVER_SIGNATURES, ad.cname) !== null;
  }
  return (
    ad.addresses.length > 0 &&
    ad.addresses.every((ip) => matchMicrosoftRange(ip) !== null)
  );
}

function address(ip: string): AddressEvidence {
  return {
    ip,
    owner: { asn: null, org: '', prefix: '', source: 'none' },
    microsoftRange: matchMicrosoftRange(ip)?.id ?? null,
  };
}

/** Sorted by priority, then name, so the output never depends on answer order. */
function sortMx(records: MxRecord[]): MxRecord[] {
  return [...records].sort(
    (x, y) =>
      x.priority - y.priority ||
      (x.exchange < y.exchange ? -1 : x.exchange > y.exchange ? 1 : 0),
  );
}

/** The combined status of an A and an AAAA lookup of one name. */
function combine(a: QueryStatus, b: QueryStatus): QueryStatus {
  if (a === 'ok' || b === 'ok') return 'ok';
  if (isFailure(a)) return a;
  if (isFailure(b)) return b;
  if (a === 'nxdomain' || b === 'nxdomain') return 'nxdomain';
  return 'nodata';
}

/**
 * A chain as evidence: at most {@link MAX_CNAME_CHAIN} aliases and the last
 * (an answer may hold thousands, each up to 253 characters).
 */
function shownChain(names: readonly string[]): string[] {
  if (names.length <= MAX_CNAME_CHAIN + 1) return [...names];
  return [
    ...names.slice(0, MAX_CNAME_CHAIN),
    names[names.length - 1] as string,
  ];
}

function describe(r: QueryResult): string {
  if (r.status === 'nxdomain' || r.status === 'nodata') return '';
  return `${r.name} ${r.type}: ${r.status}${r.error ? ` (${r.error})` : ''}`;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The address when an MX exchange is an IP literal (`1.2.3.4` or `[::1]`). */
function ipLiteral(host: string): string | null {
  if (IPV4.test(host)) return host;
  const m = /^\[?([0-9a-f:.]+)\]?$/.exec(host);
  return m && m[1]?.includes(':') ? m[1] : null;
}

function sorted(items: readonly string[]): string[] {
  return [...items].sort();
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length === 0 || a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((x) => s.has(x));
}

/** A label no zone holds, the same for the same domain (reproducible runs). */
export function wildcardLabel(domain: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < domain.length; i++) {
    h = Math.imul(h ^ domain.charCodeAt(i), 0x01000193);
  }
  return `exoscope-wc-${(h >>> 0).toString(16).padStart(8, '0')}`;
}

function capRecords(records: string[]): string[] {
  return records.slice(0, MAX_RECORDS).map((t) => cap(t, MAX_RECORD_CHARS));
}

/** The query as logged: hostile answers are capped before they are kept. */
function capResult<T extends QueryType>(r: QueryResult<T>): QueryResult {
  if (r.records.length <= MAX_RECORDS && r.type !== 'TXT') return r;
  const records = r.records.slice(0, MAX_RECORDS) as RdataOf[T][];
  return {
    ...r,
    records:
      r.type === 'TXT'
        ? (records as string[]).map((t) => cap(t, MAX_RECORD_CHARS))
        : records,
  } as QueryResult;
}
