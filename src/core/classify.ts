import { isFailure } from './dns.js';
import type { Evidence } from './evidence.js';
import {
  AUTODISCOVER_PUBLISHERS,
  AUTODISCOVER_SIGNATURES,
  CONVENTIONAL_EXCHANGE_NAMES,
  DKIM_PATTERNS,
  MX_SIGNATURES,
  PROVIDER_DKIM,
  SERVICE_SIGNATURES,
  SPF_SIGNATURES,
  hasSuffix,
  matchHost,
  registrableOf,
} from './signatures.js';
import type { MicrosoftCloud } from './signatures.js';
import { parseSpf } from './spf.js';
import { matchMicrosoftRange } from './microsoft-ranges.js';
import { onpremExchange } from './onprem-exchange.js';
import type { OnpremExchange, OnpremHost } from './onprem-exchange.js';
import { applyProbe } from './probe-verdict.js';

/** The verdict vocabulary: the contract users read. */
export const CLASSIFICATIONS = [
  'exchange-online',
  'exchange-onprem',
  'hybrid',
  'google-workspace',
  'other-hosted',
  'self-hosted',
  'unknown',
  'no-mail',
  'unresolved',
  'invalid',
] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export type Confidence = 'high' | 'medium' | 'low';

/** What an MX host is, as far as the signatures and its owner tell. */
export type MxKind =
  | 'microsoft'
  | 'google'
  | 'gateway'
  | 'provider'
  /** A server under the domain's own registrable domain. */
  | 'own'
  /** A server elsewhere, owner unknown to the signature table. */
  | 'foreign';

/**
 * Where autodiscover sends Outlook: the mailbox side of the story. `provider`:
 * a hoster's or a non-Exchange system's discovery service (a known publisher,
 * or under the registrable domain or in the network of the MX provider).
 */
export type AutodiscoverKind =
  'exo' | 'onprem' | 'provider' | 'none' | 'failed';

/** One MX host as the rules see it. */
export interface MxHostKind {
  host: string;
  priority: number;
  kind: MxKind;
  /** A foreign server ranked below EOP: a backup MX service, not hybrid. */
  backup: boolean;
}

/** The facts the rules look at, derived once from the evidence. */
export interface Signals {
  /**
   * Kinds of the MX hosts that resolved, in priority order; a backup MX (a
   * foreign server ranked below EOP) is left out.
   */
  mxKinds: MxKind[];
  /** Every MX host that resolved, backup MX included. */
  mxHosts: MxHostKind[];
  primaryMx: MxKind | null;
  /** Provider name of the primary MX (microsoft, google, zoho, ...). */
  mxProvider: string;
  gateway: string;
  autodiscover: AutodiscoverKind;
  /** Outbound / tenant evidence. */
  spfExo: boolean;
  dkimTenant: string;
  /** Provider named by a provider DKIM CNAME (fastmail, migadu, ...). */
  dkimProvider: string;
  /**
   * Hybrid federation records (`exchangedelegation` TXT, `autodiscover.service`
   * at Exchange Online): Exchange-specific, and Exchange Online evidence too.
   */
  federation: boolean;
  /**
   * Exchange-specific evidence of an own server: federation records, or an
   * own host named `owa` / `exchange` that resolves.
   */
  exchangeSpecific: boolean;
  /**
   * Evidence against Exchange beside an own autodiscover: `autoconfig`
   * (Thunderbird autoconfiguration), which other mail systems publish.
   */
  notExchange: boolean;
  /** The domain's own hosts that may be an Exchange server. */
  hosts: OnpremHost[];
  /** One of `hosts` came from a conventional Exchange name. */
  ownHosts: boolean;
  msVerification: boolean;
  cloud: MicrosoftCloud | null;
  /** Ids of every signal that fired, for the reasons column. */
  ids: string[];
}

export interface Verdict {
  classification: Classification;
  confidence: Confidence;
  provider: string;
  gateway: string;
  tenant: string;
  /** The rule that decided, then the signals that fired. */
  reasons: string[];
  /**
   * Does the domain still run an Exchange server of its own, whatever the
   * classification says about where mail enters (docs/onprem-exchange.md).
   */
  onpremExchange: OnpremExchange;
  /**
   * The domain's own hosts that may be an Exchange server, with addresses:
   * never a Microsoft, Google or known provider address, never a wildcard's.
   */
  onpremHosts: OnpremHost[];
}

/** A classification rule: first match wins. */
export interface Rule {
  id: string;
  description: string;
  when: (s: Signals) => boolean;
  classification: Classification;
  confidence: Confidence;
}

const isServer = (k: MxKind | null): boolean => k === 'own' || k === 'foreign';
const m365Outbound = (s: Signals): boolean => s.spfExo || s.dkimTenant !== '';
/** Exchange Online signs the domain's mail or holds its federation: strong. */
const exoStrong = (s: Signals): boolean => s.dkimTenant !== '' || s.federation;
const serverAd = (s: Signals): boolean =>
  isServer(s.primaryMx) && s.autodiscover === 'onprem';
const gatewayAd = (s: Signals): boolean =>
  s.primaryMx === 'gateway' && s.autodiscover === 'onprem';

/**
 * The rules for a domain whose MX resolved, in order. Evidence is ranked by
 * what it proves: an own MX and an own autodiscover fit any mail server, so
 * alone they give `exchange-onprem` at `medium` at most; `high` needs
 * Exchange-specific evidence (federation records, an own `owa` / `exchange`
 * host) or Exchange Online evidence beside them (hybrid). Exchange Online
 * evidence (EOP MX, EXO autodiscover, EXO DKIM, SPF for EXO, federation)
 * beside on-premises evidence is `hybrid`, at the confidence of the weaker
 * side.
 */
export const RULES: readonly Rule[] = [
  {
    id: 'autodiscover-failed',
    description:
      'Autodiscover (and its SRV) failed to answer and the MX does not settle the verdict alone: unknown, not "no autodiscover"',
    when: (s) =>
      s.autodiscover === 'failed' &&
      s.primaryMx !== 'google' &&
      s.primaryMx !== 'provider',
    classification: 'unresolved',
    confidence: 'high',
  },
  {
    id: 'exo-mx-and-server-mx',
    description:
      'MX at EOP and at a mail server of its own (not a backup MX ranked below EOP): mail is split between both',
    when: (s) => s.mxKinds.includes('microsoft') && s.mxKinds.some(isServer),
    classification: 'hybrid',
    confidence: 'medium',
  },
  {
    id: 'exo-mx-autodiscover-onprem',
    description:
      'MX at EOP but autodiscover on an own server: the classic hybrid (mailboxes on both sides)',
    when: (s) => s.primaryMx === 'microsoft' && s.autodiscover === 'onprem',
    classification: 'hybrid',
    confidence: 'high',
  },
  {
    id: 'exo-hybrid-leftover',
    description:
      'MX and autodiscover at Exchange Online, but federation records and an own Exchange host remain: the hybrid server left running',
    when: (s) =>
      s.primaryMx === 'microsoft' &&
      s.autodiscover === 'exo' &&
      s.federation &&
      s.ownHosts,
    classification: 'hybrid',
    confidence: 'low',
  },
  {
    id: 'exo-mx-autodiscover-exo-federation',
    description:
      'MX and autodiscover at Exchange Online, federation records still published, no own host found: mail in Exchange Online, a hybrid server may remain',
    when: (s) =>
      s.primaryMx === 'microsoft' && s.autodiscover === 'exo' && s.federation,
    classification: 'exchange-online',
    confidence: 'medium',
  },
  {
    id: 'exo-mx-autodiscover-exo',
    description: 'MX at EOP and autodiscover at Exchange Online',
    when: (s) => s.primaryMx === 'microsoft' && s.autodiscover === 'exo',
    classification: 'exchange-online',
    confidence: 'high',
  },
  {
    id: 'exo-mx',
    description:
      'MX at EOP, autodiscover silent: EOP delivers to Exchange Online unless a connector says otherwise',
    when: (s) => s.primaryMx === 'microsoft',
    classification: 'exchange-online',
    confidence: 'medium',
  },
  {
    id: 'google-mx',
    description:
      'MX at Google: mail lives in Google Workspace (an own autodiscover left behind shows in onprem_exchange)',
    when: (s) => s.primaryMx === 'google',
    classification: 'google-workspace',
    confidence: 'high',
  },
  {
    id: 'gateway-autodiscover-exo',
    description:
      'MX at a filtering gateway, autodiscover at Exchange Online: mailboxes in EXO behind the gateway',
    when: (s) => s.primaryMx === 'gateway' && s.autodiscover === 'exo',
    classification: 'exchange-online',
    confidence: 'medium',
  },
  {
    id: 'gateway-autodiscover-onprem-m365',
    description:
      'MX at a filtering gateway, autodiscover on an own server, and EXO signs the mail (DKIM) or federation records: hybrid behind the gateway',
    when: (s) => gatewayAd(s) && exoStrong(s),
    classification: 'hybrid',
    confidence: 'medium',
  },
  {
    id: 'gateway-autodiscover-onprem-spf-exo',
    description:
      'MX at a filtering gateway, autodiscover on an own server, SPF authorises EXO: hybrid behind the gateway, on outbound evidence only',
    when: (s) => gatewayAd(s) && s.spfExo,
    classification: 'hybrid',
    confidence: 'low',
  },
  {
    id: 'gateway-autodiscover-not-exchange',
    description:
      'MX at a filtering gateway, autodiscover on an own server that also publishes autoconfig, nothing Exchange-specific: a mail server that is not Exchange',
    when: (s) => gatewayAd(s) && s.notExchange && !s.exchangeSpecific,
    classification: 'self-hosted',
    confidence: 'low',
  },
  {
    id: 'gateway-autodiscover-onprem',
    description:
      'MX at a filtering gateway, autodiscover on an own server: on-premises Exchange behind the gateway',
    when: gatewayAd,
    classification: 'exchange-onprem',
    confidence: 'medium',
  },
  {
    id: 'gateway-m365-outbound',
    description:
      'MX at a filtering gateway, no autodiscover, but EXO signs or sends for the domain (DKIM / SPF)',
    when: (s) => s.primaryMx === 'gateway' && m365Outbound(s),
    classification: 'exchange-online',
    confidence: 'low',
  },
  {
    id: 'gateway-provider-dkim',
    description:
      'MX at a filtering gateway, a hosted provider signs the mail (provider DKIM CNAME): mailboxes at that provider',
    when: (s) => s.primaryMx === 'gateway' && s.dkimProvider !== '',
    classification: 'other-hosted',
    confidence: 'low',
  },
  {
    id: 'gateway-opaque',
    description:
      'MX at a filtering gateway and nothing tells what stands behind it',
    when: (s) => s.primaryMx === 'gateway',
    classification: 'unknown',
    confidence: 'low',
  },
  {
    id: 'server-mx-autodiscover-exo',
    description:
      'MX at an own server but autodiscover at Exchange Online: hybrid with mail still routed on-premises',
    when: (s) => isServer(s.primaryMx) && s.autodiscover === 'exo',
    classification: 'hybrid',
    confidence: 'high',
  },
  {
    id: 'server-mx-autodiscover-onprem-m365',
    description:
      'MX and autodiscover on own servers, and EXO signs the mail (DKIM) or federation records: hybrid',
    when: (s) => serverAd(s) && exoStrong(s),
    classification: 'hybrid',
    confidence: 'medium',
  },
  {
    id: 'server-mx-autodiscover-onprem-spf-exo',
    description:
      'MX and autodiscover on own servers, SPF authorises EXO: hybrid, on outbound evidence only',
    when: (s) => serverAd(s) && s.spfExo,
    classification: 'hybrid',
    confidence: 'low',
  },
  {
    id: 'server-mx-autodiscover-onprem-exchange',
    description:
      'MX and autodiscover on own servers, and Exchange-specific evidence (an own owa / exchange host): on-premises Exchange',
    when: (s) => serverAd(s) && s.exchangeSpecific,
    classification: 'exchange-onprem',
    confidence: 'high',
  },
  {
    id: 'own-server-autodiscover-not-exchange',
    description:
      'MX and autodiscover on own servers that also publish autoconfig, which Exchange shops rarely do: a mail server that is not Exchange',
    when: (s) => serverAd(s) && s.notExchange && s.primaryMx === 'own',
    classification: 'self-hosted',
    confidence: 'medium',
  },
  {
    id: 'foreign-server-autodiscover-not-exchange',
    description:
      'MX at a server elsewhere, autodiscover beside autoconfig: a hosted mail system that is not Exchange',
    when: (s) => serverAd(s) && s.notExchange,
    classification: 'other-hosted',
    confidence: 'low',
  },
  {
    id: 'server-mx-autodiscover-onprem',
    description:
      'MX and autodiscover on own servers, nothing Exchange-specific: on-premises Exchange is the likeliest, but any mail server can publish autodiscover',
    when: serverAd,
    classification: 'exchange-onprem',
    confidence: 'medium',
  },
  {
    id: 'server-mx-m365-dkim',
    description:
      "MX at an own server, no autodiscover, but EXO signs the domain's mail (DKIM): mail flows through both",
    when: (s) => isServer(s.primaryMx) && s.dkimTenant !== '',
    classification: 'hybrid',
    confidence: 'low',
  },
  {
    id: 'provider-mx',
    description: 'MX at a hosted mail provider that is not Exchange',
    when: (s) => s.primaryMx === 'provider',
    classification: 'other-hosted',
    confidence: 'high',
  },
  {
    id: 'own-server-mx',
    description:
      'MX at a server under the domain itself and nothing that says Exchange',
    when: (s) => s.primaryMx === 'own',
    classification: 'self-hosted',
    confidence: 'medium',
  },
  {
    id: 'foreign-server-provider-dkim',
    description:
      'MX at a server elsewhere, a hosted provider signs the mail (provider DKIM CNAME)',
    when: (s) => s.primaryMx === 'foreign' && s.dkimProvider !== '',
    classification: 'other-hosted',
    confidence: 'medium',
  },
  {
    id: 'foreign-server-mx',
    description:
      'MX at a server of another organisation, not in the signature table, nothing that says Exchange',
    when: (s) => s.primaryMx === 'foreign',
    classification: 'other-hosted',
    confidence: 'low',
  },
];

/** Verdicts decided by the scan status alone, before any rule. */
export const STATUS_RULES: Readonly<
  Record<
    Exclude<Evidence['status'], 'ok'>,
    { id: string; classification: Classification; description: string }
  >
> = {
  nxdomain: {
    id: 'status-nxdomain',
    classification: 'no-mail',
    description: 'The domain does not exist (NXDOMAIN)',
  },
  'no-mx': {
    id: 'status-no-mx',
    classification: 'no-mail',
    description: 'The domain exists but publishes no MX',
  },
  'null-mx': {
    id: 'status-null-mx',
    classification: 'no-mail',
    description: 'Null MX (RFC 7505): the domain accepts no mail',
  },
  'mx-dangling': {
    id: 'status-mx-dangling',
    classification: 'no-mail',
    description: 'No MX host has an address',
  },
  'cname-loop': {
    id: 'status-cname-loop',
    classification: 'unresolved',
    description:
      'The name is a CNAME loop, or a chain longer than 16 aliases (the error says which)',
  },
  timeout: {
    id: 'status-timeout',
    classification: 'unresolved',
    description: 'No resolver answered in time',
  },
  servfail: {
    id: 'status-servfail',
    classification: 'unresolved',
    description: 'Every resolver answered SERVFAIL',
  },
  refused: {
    id: 'status-refused',
    classification: 'unresolved',
    description: 'Every resolver REFUSED the query',
  },
  error: {
    id: 'status-error',
    classification: 'unresolved',
    description: 'Malformed answer or transport error',
  },
  invalid: {
    id: 'status-invalid',
    classification: 'invalid',
    description: 'The input is not a domain name',
  },
};

/** Classifies one domain's evidence. Pure. */
export function classify(ev: Evidence): Verdict {
  if (ev.status !== 'ok') {
    const rule = STATUS_RULES[ev.status];
    const signals = ev.status === 'invalid' ? [] : extraSignals(ev);
    return {
      classification: rule.classification,
      confidence: 'high',
      provider: '',
      gateway: '',
      tenant: '',
      reasons: [rule.id, ...signals],
      onpremExchange: onpremExchange(ev, null),
      onpremHosts: [],
    };
  }
  const s = signals(ev);
  const rule = RULES.find((r) => r.when(s));
  // Every resolved MX host has a kind, so a rule always matches; the fallback
  // keeps the function total.
  const classification = rule?.classification ?? 'unknown';
  let confidence = rule?.confidence ?? 'low';
  if (ev.failures.length > 0 && confidence !== 'low') confidence = 'low';
  const dns: Verdict = {
    classification,
    confidence,
    provider: providerOf(classification, s),
    gateway: s.gateway,
    tenant: s.dkimTenant,
    reasons: [rule?.id ?? 'no-rule', ...s.ids],
    onpremExchange: onpremExchange(ev, s),
    onpremHosts: s.hosts,
  };
  return applyProbe(dns, ev.exchangeProbe, s);
}

function providerOf(c: Classification, s: Signals): string {
  switch (c) {
    case 'exchange-online':
    case 'hybrid':
      return 'microsoft';
    case 'google-workspace':
      return 'google';
    case 'other-hosted':
      return s.primaryMx === 'provider' ? s.mxProvider : s.dkimProvider;
    default:
      return '';
  }
}

/** Derives the signals from the evidence. Exported for the tests. */
export function signals(ev: Evidence): Signals {
  const ids = new Set<string>();
  const registrable = registrableOf(ev.domain);
  const mxHosts: MxHostKind[] = [];
  let mxProvider = '';
  let gateway = '';
  let cloud: MicrosoftCloud | null = null;
  let primary: MxHostKind | null = null;

  for (const host of ev.mxHosts) {
    if (host.status !== 'ok') {
      ids.add('mx-host-unresolvable');
      continue;
    }
    if (host.ipLiteral) ids.add('mx-ip-literal');
    if (host.cnameChain.length > 0) ids.add('mx-cname');
    const sig = matchHost(MX_SIGNATURES, host.host);
    let kind: MxKind;
    if (sig) {
      kind = sig.kind;
      ids.add(sig.id);
      if (sig.cloud) cloud ??= sig.cloud;
      if (sig.kind === 'gateway') gateway ||= sig.name;
    } else if (
      host.addresses.some((a) => a.microsoftRange?.startsWith('eop'))
    ) {
      // A custom name in front of EOP: the address says where mail enters.
      kind = 'microsoft';
      ids.add('mx-ip-eop');
    } else {
      kind = hasSuffix(host.host, registrable) ? 'own' : 'foreign';
      ids.add(kind === 'own' ? 'mx-own-host' : 'mx-foreign-host');
      if (host.addresses.some((a) => a.owner.asn === 8075)) {
        // Exchange on an Azure VM is on-premises Exchange for patching.
        ids.add('mx-microsoft-asn-not-eop');
      }
    }
    const entry: MxHostKind = {
      host: host.host,
      priority: host.priority,
      kind,
      backup: false,
    };
    mxHosts.push(entry);
    if (primary === null || host.priority < primary.priority) {
      primary = entry;
      mxProvider = sig?.name ?? '';
    }
  }
  // A foreign server matching no signature, ranked below EOP: a backup MX
  // service holding mail while EOP is unreachable, not a second mail system.
  const eop = mxHosts.find((h) => h.kind === 'microsoft');
  for (const h of mxHosts) {
    if (eop && h.kind === 'foreign' && h.priority > eop.priority) {
      h.backup = true;
      ids.add('backup-mx');
    }
  }
  const mxKinds = mxHosts.filter((h) => !h.backup).map((h) => h.kind);

  const autodiscover = autodiscoverKind(ev, mxHosts, ids, (c) => (cloud ??= c));

  const spfRecords = ev.txt.filter((t) => /^v=spf1(\s|$)/i.test(t));
  if (spfRecords.length > 1) ids.add('spf-multiple');
  let spfExo = false;
  const spf = spfRecords[0] ? parseSpf(spfRecords[0]) : null;
  if (spf) {
    for (const target of [
      ...spf.includes,
      ...(spf.redirect ? [spf.redirect] : []),
    ]) {
      for (const sig of SPF_SIGNATURES) {
        if (sig.domains.some((d) => hasSuffix(target, d))) {
          ids.add(sig.id);
          if (sig.kind === 'microsoft') spfExo = true;
        }
      }
    }
  }

  let dkimTenant = '';
  let dkimProvider = '';
  for (const probe of [...ev.dkim, ...ev.providerDkim]) {
    if (!probe.target) continue;
    for (const p of DKIM_PATTERNS) {
      const m = p.pattern.exec(probe.target);
      if (m?.groups?.tenant) {
        ids.add(p.id);
        dkimTenant ||= m.groups.tenant;
        cloud ??= p.cloud;
      }
    }
    for (const p of PROVIDER_DKIM) {
      if (p.pattern.test(probe.target)) {
        ids.add(p.id);
        dkimProvider ||= p.name;
      }
    }
  }

  const msVerification = ev.txt.some((t) => /^MS=ms\d+$/i.test(t.trim()));
  if (msVerification) ids.add('ms-verification');
  for (const probe of ev.services) {
    if (!probe.target) continue;
    const sig = SERVICE_SIGNATURES.find((s) =>
      probe.name.startsWith(`${s.label}.`),
    );
    if (sig && sig.suffixes.some((x) => hasSuffix(probe.target as string, x))) {
      ids.add(sig.id);
    }
  }
  let federation = false;
  const delegation = ev.exchangeDelegation;
  if (delegation?.records.length && !delegation.wildcard) {
    ids.add('exchange-delegation');
    federation = true;
  }
  const adService = ev.autodiscoverService?.target;
  // Only a Microsoft target counts: anything else is what a wildcard or a
  // catch-all CNAME gives every name.
  if (adService && matchHost(AUTODISCOVER_SIGNATURES, adService)) {
    ids.add('autodiscover-service');
    federation = true;
  }
  const notExchange = autoconfigPresent(ev);
  if (notExchange) ids.add('autoconfig');
  if (ev.wildcard?.present) ids.add('wildcard');
  if (ev.failures.length > 0) ids.add('partial-evidence');
  if (ev.nullMx) ids.add('null-mx-mixed');
  if (ev.apexCname.length > 0) ids.add('apex-cname');

  const hosts = collectHosts(ev, mxHosts, autodiscover, ids);
  const exchangeName = hosts.some((h) =>
    CONVENTIONAL_EXCHANGE_NAMES.some(
      (c) => c.exchangeSpecific && h.name.startsWith(`${c.label}.`),
    ),
  );
  if (exchangeName) ids.add('exchange-host-name');

  return {
    mxKinds,
    mxHosts,
    primaryMx: primary?.kind ?? null,
    mxProvider,
    gateway,
    autodiscover,
    spfExo,
    dkimTenant,
    dkimProvider,
    federation,
    exchangeSpecific: federation || exchangeName,
    notExchange,
    hosts,
    ownHosts: hosts.some((h) => h.sources.includes('conventional')),
    msVerification,
    cloud,
    ids: [...ids],
  };
}

/** `autoconfig.<domain>` exists, and not only as a wildcard's answer. */
function autoconfigPresent(ev: Evidence): boolean {
  const p = ev.autoconfig;
  if (!p) return false;
  if (p.status === 'ok') return p.target !== (ev.wildcard?.cname ?? null);
  // NODATA to a CNAME query: the name exists with other records, unless a
  // wildcard of another type makes every name exist.
  return p.status === 'nodata' && !ev.wildcard?.present;
}

function autodiscoverKind(
  ev: Evidence,
  mxHosts: readonly MxHostKind[],
  ids: Set<string>,
  setCloud: (c: MicrosoftCloud) => void,
): AutodiscoverKind {
  const ad = ev.autodiscover;
  // The registrable domains of the MX hosts that are a provider's or another
  // organisation's: an autodiscover target under one of them is theirs.
  const hoster = new Set(
    mxHosts
      .filter((h) => h.kind !== 'own' && h.kind !== 'microsoft')
      .map((h) => registrableOf(h.host)),
  );
  const fromTarget = (target: string, via: string): AutodiscoverKind => {
    const suffix = via === 'srv' ? '-srv' : '';
    const sig = matchHost(AUTODISCOVER_SIGNATURES, target);
    if (sig) {
      ids.add(`${sig.id}${suffix}`);
      if (sig.cloud) setCloud(sig.cloud);
      return 'exo';
    }
    const publisher = matchHost(AUTODISCOVER_PUBLISHERS, target);
    if (publisher) {
      ids.add(publisher.id);
      return 'provider';
    }
    const provider = matchHost(MX_SIGNATURES, target);
    if (
      (provider && provider.kind !== 'microsoft') ||
      hoster.has(registrableOf(target))
    ) {
      ids.add(`autodiscover-provider${suffix}`);
      return 'provider';
    }
    ids.add(via === 'srv' ? 'autodiscover-srv-onprem' : 'autodiscover-onprem');
    return 'onprem';
  };

  if (ad && ad.status === 'ok' && !ad.wildcard) {
    if (ad.cname) return fromTarget(ad.cname, 'cname');
    if (ad.addresses.length > 0) {
      const ms = ad.addresses.every(isMicrosoftServiceIp);
      if (ms) {
        ids.add('autodiscover-exo-ip');
        return 'exo';
      }
      if (atMxHoster(ev, ad.addresses, mxHosts)) {
        ids.add('autodiscover-provider');
        return 'provider';
      }
      ids.add('autodiscover-onprem');
      return 'onprem';
    }
  }
  if (ad?.wildcard) ids.add('autodiscover-wildcard-ignored');
  const srv = ev.autodiscoverSrv;
  if (srv && srv.status === 'ok' && srv.records[0]) {
    return fromTarget(srv.records[0].name, 'srv');
  }
  if (ad && isFailure(ad.status)) return 'failed';
  return 'none';
}

/**
 * Autodiscover's addresses are those of a provider's or another
 * organisation's MX host, or in the same network (ASN): the hoster's.
 */
function atMxHoster(
  ev: Evidence,
  addresses: readonly string[],
  mxHosts: readonly MxHostKind[],
): boolean {
  const hosted = new Set(
    mxHosts
      .filter(
        (h) => h.kind === 'provider' || (h.kind === 'foreign' && !h.backup),
      )
      .map((h) => h.host),
  );
  const mxAddresses = ev.mxHosts
    .filter((h) => hosted.has(h.host))
    .flatMap((h) => h.addresses);
  if (mxAddresses.length === 0) return false;
  const ips = new Set(mxAddresses.map((a) => a.ip));
  if (addresses.some((ip) => ips.has(ip))) return true;
  const asns = new Set(
    mxAddresses.map((a) => a.owner.asn).filter((a) => a !== null),
  );
  return ev.autodiscoverAsns.some((a) => a !== null && asns.has(a));
}

/**
 * The domain's own hosts that may be an Exchange server, with their
 * addresses: own MX hosts, autodiscover's own answer (CNAME target, A, SRV
 * target), the conventional names that resolved. Microsoft addresses,
 * provider names and wildcard answers are left out.
 */
function collectHosts(
  ev: Evidence,
  mxHosts: readonly MxHostKind[],
  autodiscover: AutodiscoverKind,
  ids: Set<string>,
): OnpremHost[] {
  const hosts = new Map<string, OnpremHost>();
  const add = (
    name: string,
    addresses: readonly string[],
    source: OnpremHost['sources'][number],
  ): void => {
    const own = addresses.filter((ip) => matchMicrosoftRange(ip) === null);
    if (own.length === 0) return;
    const h = hosts.get(name) ?? { name, addresses: [], sources: [] };
    for (const ip of own) if (!h.addresses.includes(ip)) h.addresses.push(ip);
    if (!h.sources.includes(source)) h.sources.push(source);
    hosts.set(name, h);
  };
  const addressesOf = (name: string): string[] => {
    const mx = ev.mxHosts.find((h) => h.host === name);
    if (mx) return mx.addresses.map((a) => a.ip);
    const looked = ev.hostLookups.find((h) => h.name === name);
    return looked && !isProviderTarget(looked.cname) ? looked.addresses : [];
  };
  for (const h of mxHosts) {
    if (h.kind !== 'own') continue;
    add(h.host, addressesOf(h.host), 'mx');
  }
  const ad = ev.autodiscover;
  if (ad && autodiscover === 'onprem' && ad.status === 'ok' && !ad.wildcard) {
    if (ad.cname) add(ad.cname, addressesOf(ad.cname), 'autodiscover');
    else add(ad.name, ad.addresses, 'autodiscover');
  }
  const srv = ev.autodiscoverSrv?.records[0]?.name;
  if (
    srv &&
    autodiscover === 'onprem' &&
    !(ad?.status === 'ok' && !ad.wildcard)
  ) {
    add(srv, addressesOf(srv), 'autodiscover-srv');
  }
  const registrable = registrableOf(ev.domain);
  for (const l of ev.hostLookups) {
    const conventional = CONVENTIONAL_EXCHANGE_NAMES.some(
      (c) => l.name === `${c.label}.${ev.domain}`,
    );
    if (!conventional || l.status !== 'ok' || l.wildcard) continue;
    if (isProviderTarget(l.cname) || !hasSuffix(l.name, registrable)) continue;
    add(l.name, l.addresses, 'conventional');
  }
  if ([...hosts.values()].some((h) => h.sources.includes('conventional'))) {
    ids.add('onprem-host-conventional');
  }
  return [...hosts.values()];
}

/** A CNAME into Microsoft, Google or a known provider: not an own server. */
function isProviderTarget(cname: string | null): boolean {
  if (cname === null) return false;
  return (
    matchHost(MX_SIGNATURES, cname) !== null ||
    matchHost(AUTODISCOVER_SIGNATURES, cname) !== null ||
    matchHost(AUTODISCOVER_PUBLISHERS, cname) !== null
  );
}

function isMicrosoftServiceIp(ip: string): boolean {
  return matchMicrosoftRange(ip) !== null;
}

/** Signals worth reporting even when the status decided the verdict. */
function extraSignals(ev: Evidence): string[] {
  const out: string[] = [];
  if (ev.nullMx && ev.status === 'null-mx') out.push('null-mx');
  if (ev.apexCname.length > 0) out.push('apex-cname');
  return out;
}
