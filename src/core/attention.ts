/**
 * Which rows of a scan need someone's attention, and why in one line of
 * words: the action list at the top of the report.
 */
import { reasonText } from './reason-text.js';
import type { ResultRecord } from './result-record.js';

/** Why a row is on the action list, most urgent first. */
export type AttentionKind =
  | 'vulnerable'
  | 'unsupported'
  | 'outdated'
  | 'onprem'
  | 'hybrid'
  | 'onprem-server'
  | 'gateway-unknown'
  | 'unresolved';

export const ATTENTION_KINDS: readonly AttentionKind[] = [
  'vulnerable',
  'unsupported',
  'outdated',
  'onprem',
  'hybrid',
  'onprem-server',
  'gateway-unknown',
  'unresolved',
];

export interface Attention {
  kind: AttentionKind;
  /** One line for a person, no rule ids. */
  reason: string;
}

const VULNERABILITIES = [
  ['proxylogon', 'ProxyLogon'],
  ['proxyshell', 'ProxyShell'],
  ['proxynotshell', 'ProxyNotShell'],
] as const;

/**
 * The probe's support state (`exchange_support`: supported | unsupported |
 * unknown, src/core/exchange-builds.ts) says the product is past its end of
 * support.
 */
function outOfSupport(value: string | undefined): boolean {
  return value === 'unsupported';
}

/**
 * The patch state of a probed Exchange server in one word, or '' when the
 * row was not probed (no `probe_status`): `vulnerable`, `out-of-support`,
 * `outdated`, `current` or `unknown`.
 */
export function patchStatus(r: ResultRecord): string {
  const x = r.extra;
  if (!x.probe_status && !x.exchange_build) return '';
  if (VULNERABILITIES.some(([c]) => x[c] === 'vulnerable')) return 'vulnerable';
  if (outOfSupport(x.exchange_support)) return 'out-of-support';
  if (x.exchange_current === 'no' || x.exchange_current === 'false')
    return 'outdated';
  if (x.exchange_current === 'yes' || x.exchange_current === 'true')
    return 'current';
  return x.exchange_build ? 'unknown' : '';
}

function hosts(r: ResultRecord): string {
  const h = r.extra.exchange_hosts || r.extra.onprem_hosts;
  return h ? ` (${h.split(';').join(', ')})` : '';
}

/**
 * Why `r` needs attention, or null when it does not. A row with several
 * causes gets the most urgent one (the order of {@link ATTENTION_KINDS}).
 */
export function attention(r: ResultRecord): Attention | null {
  const x = r.extra;
  const build = x.exchange_version || x.exchange_build;
  const vulnerable = VULNERABILITIES.filter(([c]) => x[c] === 'vulnerable');
  if (vulnerable.length > 0) {
    return {
      kind: 'vulnerable',
      reason: `Exchange server${hosts(r)} runs ${build || 'a build'} vulnerable to ${vulnerable.map(([, n]) => n).join(', ')}: patch, and check it for compromise`,
    };
  }
  if (outOfSupport(x.exchange_support)) {
    return {
      kind: 'unsupported',
      reason: `Exchange server${hosts(r)} runs ${build || 'a product'} past its end of support (${x.exchange_support}): no more security updates`,
    };
  }
  if (x.exchange_current === 'no' || x.exchange_current === 'false') {
    return {
      kind: 'outdated',
      reason: `Exchange server${hosts(r)} lacks the latest security update for its version (${build || 'build unknown'})`,
    };
  }
  const rule = r.reasons[0] ? reasonText(r.reasons[0]) : '';
  if (r.classification === 'exchange-onprem') {
    return {
      kind: 'onprem',
      reason: `Mail is on an on-premises Exchange server${hosts(r)}${rule ? `: ${rule}` : ''}`,
    };
  }
  if (r.classification === 'hybrid') {
    return {
      kind: 'hybrid',
      reason: `Hybrid Exchange: on-premises servers remain beside Exchange Online${hosts(r)}${rule ? `: ${rule}` : ''}`,
    };
  }
  const onprem = x.onprem_exchange;
  if (onprem === 'confirmed' || onprem === 'likely' || onprem === 'possible') {
    return {
      kind: 'onprem-server',
      reason: `An on-premises Exchange server is ${onprem === 'confirmed' ? 'confirmed' : onprem === 'likely' ? 'likely' : 'possibly'} still running${hosts(r)}, although mail is ${r.classification}`,
    };
  }
  if (r.classification === 'unknown' && r.gateway) {
    return {
      kind: 'gateway-unknown',
      reason: `Mail enters through the ${r.gateway} gateway and nothing shows what stands behind it: ask the client`,
    };
  }
  if (r.classification === 'unresolved') {
    return {
      kind: 'unresolved',
      reason: `DNS did not answer, so nothing is known: ${r.error || rule || r.status} (scan again)`,
    };
  }
  return null;
}
