/**
 * The advisory's second question, answered for every row whatever the
 * classification says about where mail enters: does the domain still run an
 * Exchange server of its own? Pure: derived from the evidence and the
 * classifier's signals.
 */
import { isFailure } from './dns.js';
import type { Signals } from './classify.js';
import type { Evidence } from './evidence.js';

/**
 * - `likely`: Exchange-specific evidence of an own server (federation records
 *   with an own host, an own `owa` / `exchange` host), or an own autodiscover
 *   beside Exchange Online evidence (hybrid)
 * - `possible`: only evidence that fits any mail server (an own MX or
 *   autodiscover), or federation records with no own host found
 * - `none-seen`: no own mail server seen, or one that shows it is not Exchange
 * - `unknown`: the evidence failed, or a gateway hides what stands behind it
 *
 * `confirmed` is reserved for a server probe that contacts the hosts.
 */
export type OnpremExchange = 'likely' | 'possible' | 'none-seen' | 'unknown';

export const ONPREM_EXCHANGE_VALUES: readonly OnpremExchange[] = [
  'likely',
  'possible',
  'none-seen',
  'unknown',
];

/** Where an on-premises host candidate was found. */
export type OnpremHostSource =
  'mx' | 'autodiscover' | 'autodiscover-srv' | 'conventional';

/**
 * One of the domain's own hosts that may be an Exchange server: what a server
 * probe contacts. Addresses are the ones DNS gave (never a Microsoft range);
 * a probe connects to them directly, without a second lookup.
 */
export interface OnpremHost {
  /** Lower-case host name, no trailing dot. */
  name: string;
  addresses: string[];
  sources: OnpremHostSource[];
}

/** The `onprem_exchange` answer for one domain; `s` null when the status decided. */
export function onpremExchange(
  ev: Evidence,
  s: Signals | null,
): OnpremExchange {
  if (s === null) {
    switch (ev.status) {
      case 'nxdomain':
      case 'no-mx':
      case 'null-mx':
      case 'mx-dangling':
        return 'none-seen';
      default:
        return 'unknown';
    }
  }
  const exoEvidence =
    s.mxKinds.includes('microsoft') ||
    s.autodiscover === 'exo' ||
    s.dkimTenant !== '' ||
    s.spfExo ||
    s.federation;
  const hasHosts = s.hosts.length > 0;
  const ownAutodiscover = s.autodiscover === 'onprem';
  const ownServerMx = s.mxKinds.some((k) => k === 'own' || k === 'foreign');

  if (
    ownAutodiscover &&
    !s.notExchange &&
    (s.exchangeSpecific || exoEvidence)
  ) {
    return 'likely';
  }
  if (s.exchangeSpecific && hasHosts) return 'likely';
  // Mail routed through an own server while Exchange Online holds the
  // mailboxes or signs the mail: the hybrid's on-premises side.
  if (
    s.primaryMx === 'own' &&
    (s.autodiscover === 'exo' || s.dkimTenant !== '')
  ) {
    return 'likely';
  }
  if (ownAutodiscover && s.notExchange && !s.exchangeSpecific) {
    // A mail system that publishes autoconfig beside its autodiscover: not
    // Exchange, unless Exchange Online evidence says a hybrid is behind it.
    return exoEvidence ? 'possible' : 'none-seen';
  }
  if (ownAutodiscover || s.federation) return 'possible';
  if (s.autodiscover === 'failed') return 'unknown';
  // The hoster's autodiscover: the own-named MX is the hoster's mail system.
  if (s.autodiscover === 'provider') return 'none-seen';
  if (ownServerMx && !s.notExchange) return 'possible';
  if (s.primaryMx === 'gateway' && s.autodiscover === 'none' && !exoEvidence) {
    // Whatever receives the mail behind the gateway cannot be seen.
    return s.dkimProvider === '' ? 'unknown' : 'none-seen';
  }
  // Nothing of its own seen: only as good as the queries that answered.
  return relevantFailure(ev) ? 'unknown' : 'none-seen';
}

/** A query that could have shown an own server failed. */
function relevantFailure(ev: Evidence): boolean {
  const failed = (status: Evidence['txtStatus']): boolean =>
    status !== null && isFailure(status);
  return (
    (ev.autodiscover !== null && failed(ev.autodiscover.status)) ||
    failed(ev.autodiscoverSrv?.status ?? null) ||
    failed(ev.exchangeDelegation?.status ?? null) ||
    ev.hostLookups.some((h) => failed(h.status))
  );
}

/** The `onprem_hosts` cell: `name=address` pairs, `;`-separated. */
export function onpremHostsCell(hosts: readonly OnpremHost[]): string {
  return hosts
    .flatMap((h) => h.addresses.map((ip) => `${h.name}=${ip}`))
    .join(';');
}
