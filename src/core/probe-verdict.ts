import type {
  Classification,
  Confidence,
  Signals,
  Verdict,
} from './classify.js';
import {
  interpretBuild,
  worstStatus,
  VULN_FAMILIES,
} from './exchange-builds.js';
import type { BuildInfo, FamilyStatus, VulnFamily } from './exchange-builds.js';
import type { ProbeStatus, ProbedHost } from './exchange-probe.js';

/** What the server probe did to a verdict: a rule with an id for `reasons`. */
export interface ProbeRule {
  id: 'probe-exchange-confirmed' | 'probe-exchange-none-seen';
  description: string;
}

/** The rules the probe's answers apply after DNS's verdict, as data for the docs. */
export const PROBE_RULES: readonly ProbeRule[] = [
  {
    id: 'probe-exchange-confirmed',
    description:
      'A candidate host answered HTTPS as Exchange: `self-hosted` / `other-hosted` become `exchange-onprem` (`hybrid` with Exchange Online evidence), and the confidence rises one step',
  },
  {
    id: 'probe-exchange-none-seen',
    description:
      'Every candidate host answered HTTPS as something other than Exchange: an `exchange-onprem` guess from DNS becomes `self-hosted`',
  },
];

const RAISE: Readonly<Record<Confidence, Confidence>> = {
  low: 'medium',
  medium: 'high',
  high: 'high',
};

/** Whether on-premises Exchange was seen: `confirmed`, `none-seen`, or neither (null). */
export function probeFinding(
  hosts: readonly ProbedHost[] | null,
): 'confirmed' | 'none-seen' | null {
  if (!hosts || hosts.length === 0) return null;
  if (hosts.some((h) => h.status === 'ok')) return 'confirmed';
  // A host that did not answer (or only redirected) could still be Exchange.
  return hosts.every((h) => h.status === 'not-exchange') ? 'none-seen' : null;
}

/**
 * DNS's verdict adjusted by what the candidate hosts answered; a host that
 * did not answer changes nothing. Pure.
 */
export function applyProbe(
  v: Verdict,
  hosts: readonly ProbedHost[] | null,
  s: Signals,
): Verdict {
  const finding = probeFinding(hosts);
  if (finding === 'confirmed') {
    let classification: Classification = v.classification;
    if (classification === 'self-hosted' || classification === 'other-hosted') {
      classification = exoEvidence(s) ? 'hybrid' : 'exchange-onprem';
    } else if (
      classification !== 'exchange-onprem' &&
      classification !== 'hybrid'
    ) {
      return { ...v, onpremExchange: 'confirmed' };
    }
    return {
      ...v,
      classification,
      confidence: RAISE[v.confidence],
      provider: classification === 'hybrid' ? 'microsoft' : v.provider,
      reasons: ['probe-exchange-confirmed', ...v.reasons],
      onpremExchange: 'confirmed',
    };
  }
  if (finding === 'none-seen' && v.classification === 'exchange-onprem') {
    return {
      ...v,
      classification: 'self-hosted',
      confidence: 'medium',
      provider: '',
      reasons: ['probe-exchange-none-seen', ...v.reasons],
      onpremExchange: 'none-seen',
    };
  }
  if (finding === 'none-seen') return { ...v, onpremExchange: 'none-seen' };
  return v;
}

/** Exchange Online evidence beside the on-premises server: hybrid. */
function exoEvidence(s: Signals): boolean {
  return (
    s.mxKinds.includes('microsoft') ||
    s.autodiscover === 'exo' ||
    s.spfExo ||
    s.dkimTenant !== ''
  );
}

/** The probe's output columns of one row. */
export interface ProbeColumns {
  exchange_hosts: string;
  exchange_build: string;
  exchange_version: string;
  proxylogon: string;
  proxyshell: string;
  proxynotshell: string;
  exchange_support: string;
  exchange_current: string;
  probe_status: string;
}

/** Which host status the row's `probe_status` shows first. */
const STATUS_ORDER: readonly ProbeStatus[] = [
  'ok',
  'not-exchange',
  'redirected',
  'timeout',
  'refused',
  'unreachable',
  'tls-error',
  'http-error',
  'error',
  'blocked-address',
  'no-address',
];

/** One Exchange host with what its build means. */
export interface ExchangeHostInfo {
  host: string;
  address: string;
  build: string;
  info: BuildInfo | null;
}

/** The Exchange hosts of a row with their builds interpreted on `today` (ISO date). */
export function exchangeHosts(
  hosts: readonly ProbedHost[],
  today: string,
): ExchangeHostInfo[] {
  return hosts
    .filter((h) => h.status === 'ok')
    .map((h) => ({
      host: h.host,
      address: h.address,
      build: h.build,
      info: h.build ? interpretBuild(h.build, today) : null,
    }));
}

/**
 * The columns: empty when the row was not probed; `probe_status`
 * `no-candidate` when it was but had no host to probe. With several
 * Exchange servers, each family shows the worst.
 */
export function probeColumns(
  hosts: readonly ProbedHost[] | null,
  today: string,
): ProbeColumns {
  const empty: ProbeColumns = {
    exchange_hosts: '',
    exchange_build: '',
    exchange_version: '',
    proxylogon: '',
    proxyshell: '',
    proxynotshell: '',
    exchange_support: '',
    exchange_current: '',
    probe_status: '',
  };
  if (hosts === null) return empty;
  if (hosts.length === 0) return { ...empty, probe_status: 'no-candidate' };
  const status =
    STATUS_ORDER.find((s) => hosts.some((h) => h.status === s)) ?? 'error';
  const exchange = exchangeHosts(hosts, today);
  if (exchange.length === 0) return { ...empty, probe_status: status };
  const infos = exchange.map((e) => e.info);
  const family = (f: VulnFamily): FamilyStatus =>
    worstStatus(infos.map((i) => i?.families[f] ?? 'unknown'));
  const families = Object.fromEntries(
    VULN_FAMILIES.map((f) => [f, family(f)]),
  ) as Record<VulnFamily, FamilyStatus>;
  return {
    exchange_hosts: distinct(exchange.map((e) => `${e.host}=${e.address}`)),
    exchange_build: distinct(exchange.map((e) => e.build)),
    exchange_version: distinct(infos.map((i) => i?.update || i?.cu || '')),
    ...families,
    exchange_support: worstOf(
      infos.map((i) => i?.support ?? 'unknown'),
      ['unsupported', 'unknown', 'supported'],
    ),
    exchange_current: worstOf(
      infos.map((i) => i?.current ?? 'unknown'),
      ['no', 'unknown', 'yes'],
    ),
    probe_status: status,
  };
}

function distinct(items: readonly string[]): string {
  return [...new Set(items.filter(Boolean))].join(';');
}

function worstOf<T extends string>(
  items: readonly T[],
  order: readonly T[],
): T {
  return order.find((o) => items.includes(o)) ?? (order[order.length - 1] as T);
}
