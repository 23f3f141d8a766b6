import { isFailure } from './dns.js';
import type { Evidence } from './evidence.js';
import {
  AUTODISCOVER_SIGNATURES,
  DKIM_PATTERNS,
  MX_SIGNATURES,
  SERVICE_SIGNATURES,
  SPF_SIGNATURES,
  hasSuffix,
  matchHost,
} from './signatures.js';
import type { MicrosoftCloud } from './signatures.js';
import { parseSpf } from './spf.js';
import { matchMicrosoftRange } from './ip-owner.js';
import { getDomain } from 'tldts';

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

/** Where autodiscover sends Outlook: the mailbox side of the story. */
export type AutodiscoverKind = 'exo' | 'onprem' | 'none' | 'failed';

/** The facts the rules look at, derived once from the evidence. */
export interface Signals {
  /** Kinds of the MX hosts that resolved, primary (lowest preference) first. */
  mxKinds: MxKind[];
  primaryMx: MxKind | null;
  /** Provider name of the primary MX (microsoft, google, zoho, ...). */
  mxProvider: string;
  gateway: string;
  autodiscover: AutodiscoverKind;
  /** Outbound / tenant evidence. */
  spfExo: boolean;
  dkimTenant: string;
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

/** The rules for a domain whose MX resolved, in order. */
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
      'MX at EOP and at a mail server of its own: mail is split between both',
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
    description: 'MX at Google: mail lives in Google Workspace',
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
    id: 'gateway-autodiscover-onprem',
    description:
      'MX at a filtering gateway, autodiscover on an own server: on-premises Exchange behind the gateway',
    when: (s) => s.primaryMx === 'gateway' && s.autodiscover === 'onprem',
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
    id: 'server-mx-autodiscover-onprem',
    description:
      'MX and autodiscover on own servers: on-premises Exchange (autodiscover is what Exchange publishes)',
    when: (s) => isServer(s.primaryMx) && s.autodiscover === 'onprem',
    classification: 'exchange-onprem',
    confidence: 'high',
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
    };
  }
  const s = signals(ev);
  const rule = RULES.find((r) => r.when(s));
  // Every resolved MX host has a kind, so a rule always matches; the fallback
  // keeps the function total.
  const classification = rule?.classification ?? 'unknown';
  let confidence = rule?.confidence ?? 'low';
  if (ev.failures.length > 0 && confidence !== 'low') confidence = 'low';
  return {
    classification,
    confidence,
    provider: providerOf(classification, s),
    gateway: s.gateway,
    tenant: s.dkimTenant,
    reasons: [rule?.id ?? 'no-rule', ...s.ids],
  };
}

function providerOf(c: Classification, s: Signals): string {
  switch (c) {
    case 'exchange-online':
    case 'hybrid':
      return 'microsoft';
    case 'google-workspace':
      return 'google';
    case 'other-hosted':
      return s.primaryMx === 'provider' ? s.mxProvider : '';
    default:
      return '';
  }
}

/** Derives the signals from the evidence. Exported for the tests. */
export function signals(ev: Evidence): Signals {
  const ids = new Set<string>();
  const registrable = registrableOf(ev.domain);
  const mxKinds: MxKind[] = [];
  let mxProvider = '';
  let gateway = '';
  let cloud: MicrosoftCloud | null = null;
  let primary: MxKind | null = null;
  let primaryPriority = Infinity;

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
      kind = sig.kind === 'microsoft' ? 'microsoft' : sig.kind;
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
    mxKinds.push(kind);
    if (host.priority < primaryPriority) {
      primaryPriority = host.priority;
      primary = kind;
      mxProvider = sig?.name ?? '';
    }
  }

  const autodiscover = autodiscoverKind(ev, ids, (c) => (cloud ??= c));

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
  for (const probe of ev.dkim) {
    if (!probe.target) continue;
    for (const p of DKIM_PATTERNS) {
      const m = p.pattern.exec(probe.target);
      if (m?.groups?.tenant) {
        ids.add(p.id);
        dkimTenant ||= m.groups.tenant;
        cloud ??= p.cloud;
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
  const delegation = ev.exchangeDelegation;
  if (delegation?.records.length && !delegation.wildcard) {
    ids.add('exchange-delegation');
  }
  const adService = ev.autodiscoverService?.target;
  // Only a Microsoft target counts: anything else is what a wildcard or a
  // catch-all CNAME gives every name.
  if (adService && matchHost(AUTODISCOVER_SIGNATURES, adService)) {
    ids.add('autodiscover-service');
  }
  if (ev.wildcard?.present) ids.add('wildcard');
  if (ev.failures.length > 0) ids.add('partial-evidence');
  if (ev.nullMx) ids.add('null-mx-mixed');
  if (ev.apexCname.length > 0) ids.add('apex-cname');

  return {
    mxKinds,
    primaryMx: primary,
    mxProvider,
    gateway,
    autodiscover,
    spfExo,
    dkimTenant,
    msVerification,
    cloud,
    ids: [...ids],
  };
}

function autodiscoverKind(
  ev: Evidence,
  ids: Set<string>,
  setCloud: (c: MicrosoftCloud) => void,
): AutodiscoverKind {
  const ad = ev.autodiscover;
  const fromTarget = (target: string, via: string): AutodiscoverKind => {
    const sig = matchHost(AUTODISCOVER_SIGNATURES, target);
    if (sig) {
      ids.add(via === 'srv' ? `${sig.id}-srv` : sig.id);
      if (sig.cloud) setCloud(sig.cloud);
      return 'exo';
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

function isMicrosoftServiceIp(ip: string): boolean {
  return matchMicrosoftRange(ip) !== null;
}

function registrableOf(domain: string): string {
  // Under the registrable domain (x.co.uk for mail.x.co.uk) counts as "own";
  // for a suffix the public list does not know (.test), the domain itself.
  return getDomain(domain, { allowPrivateDomains: false }) ?? domain;
}

/** Signals worth reporting even when the status decided the verdict. */
function extraSignals(ev: Evidence): string[] {
  const out: string[] = [];
  if (ev.nullMx && ev.status === 'null-mx') out.push('null-mx');
  if (ev.apexCname.length > 0) out.push('apex-cname');
  return out;
}
