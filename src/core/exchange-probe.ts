import { normaliseBuild } from './exchange-builds.js';
import type { OnpremHost } from './onprem-exchange.js';

/**
 * How probing one host ended.
 * - `ok`: the host answered as Exchange (a build, or Exchange's own headers)
 * - `not-exchange`: it answered HTTPS, but nothing in it is Exchange
 * - `redirected`: it only sent us to another host (not followed)
 * - `timeout`, `refused`, `unreachable`, `tls-error`, `http-error`, `error`:
 *   no usable answer; says nothing about what runs there
 * - `blocked-address`: every address is special-purpose and not allowed
 *   (`--probe-allow`): nothing was sent
 * - `no-address`: the host has no address to connect to
 */
export type ProbeStatus =
  | 'ok'
  | 'not-exchange'
  | 'redirected'
  | 'timeout'
  | 'refused'
  | 'unreachable'
  | 'tls-error'
  | 'http-error'
  | 'error'
  | 'blocked-address'
  | 'no-address';

/** Statuses where the host answered: what it said counts. */
export const ANSWERED: ReadonlySet<ProbeStatus> = new Set([
  'ok',
  'not-exchange',
  'redirected',
]);

/** The server's TLS certificate, as evidence (never validated: a fingerprint). */
export interface CertificateSummary {
  subject: string;
  /** subjectAltName entries, e.g. `DNS:mail.example.com`. */
  sans: string[];
  issuer: string;
  /** ISO date-time the certificate expires. */
  validTo: string;
  selfSigned: boolean;
}

/** One HTTPS request of a probe. */
export interface ProbeRequest {
  method: 'GET';
  path: string;
  /** The HTTP status, or null when no response came. */
  httpStatus: number | null;
  /** How the request ended when it failed (`timeout`, `tls-error`, …), else ''. */
  outcome: '' | ProbeStatus;
  error: string;
  /** The response headers the probe reads (Exchange's, server, location), capped. */
  headers: Record<string, string>;
  /** Body bytes read (at most the cap). */
  bytes: number;
  /** The body went beyond the cap: the rest was not read. */
  truncated: boolean;
  ms: number;
}

/** Where a build came from. */
export type BuildSource = 'exporttool' | 'x-owa-version' | 'owa-path';

/** What probing one host found. */
export interface HostProbe {
  host: string;
  /** The address connected to (or, when blocked, the first one refused). */
  address: string;
  port: number;
  status: ProbeStatus;
  error: string;
  /** The best build seen (4 parts preferred), '' when none. */
  build: string;
  /** Every build seen, by where it came from. */
  builds: { source: BuildSource; build: string }[];
  certificate: CertificateSummary | null;
  requests: ProbeRequest[];
}

/** A host the scan asks the probe about: its name and resolved addresses. */
export interface ProbeTarget {
  host: string;
  addresses: readonly string[];
}

/**
 * The probe as the core sees it. Never rejects: every failure is a status.
 * The adapter connects only to `addresses` (no second lookup) and only to
 * those its address policy allows.
 */
export interface ExchangeProbePort {
  probe(target: ProbeTarget): Promise<HostProbe>;
}

/** Why the scan probed a host (`onprem_hosts`' sources). */
export type ProbeSource = OnpremHost['sources'][number];

/** A probed host in a domain's evidence. */
export type ProbedHost = HostProbe & { sources: ProbeSource[] };

// ---------------------------------------------------------------------------
// Reading builds out of what a server returned (hostile text: only digits
// and dots are ever kept).

/** `X-OWA-Version: 15.1.2106.13`. */
export function buildFromOwaHeader(value: string | undefined): string | null {
  if (value === undefined) return null;
  const build = normaliseBuild(value.slice(0, 64));
  return build !== null && build.split('.').length === 4 ? build : null;
}

const OWA_PATH =
  /\/owa\/(?:auth\/)?(\d{1,2}\.\d{1,2}\.\d{1,5}(?:\.\d{1,5})?)\//g;

/**
 * The build in the OWA logon page's resource paths
 * (`/owa/auth/15.1.2106/themes/…`; Exchange 2010: `/owa/14.3.123.4/…`):
 * the most frequent one, as a page may mention others.
 */
export function buildFromLogonPage(body: string): string | null {
  const counts = new Map<string, number>();
  for (const m of body.matchAll(OWA_PATH)) {
    const build = normaliseBuild(m[1] as string);
    if (build) counts.set(build, (counts.get(build) ?? 0) + 1);
  }
  let best: string | null = null;
  let most = 0;
  for (const [build, n] of counts) {
    if (n > most) [best, most] = [build, n];
  }
  return best;
}

const ASSEMBLY_VERSION =
  /<assemblyIdentity\b[^>]*?\bversion\s*=\s*["'](\d{1,2}\.\d{1,2}\.\d{1,5}\.\d{1,5})["']/i;

/** The ClickOnce manifest's `<assemblyIdentity … version="15.2.1118.7">`. */
export function buildFromExportTool(body: string): string | null {
  const m = ASSEMBLY_VERSION.exec(body);
  return m ? normaliseBuild(m[1] as string) : null;
}

/** Headers only Exchange's front end sets. */
export const EXCHANGE_HEADERS = [
  'x-owa-version',
  'x-feserver',
  'x-beserver',
  'x-calculatedbetarget',
  'x-owa-diagnosticsinfo',
] as const;

/** The best of the builds seen: exporttool, then the header, then a path. */
export function bestBuild(builds: HostProbe['builds']): string {
  const order: BuildSource[] = ['exporttool', 'x-owa-version', 'owa-path'];
  for (const source of order) {
    const found = builds.find((b) => b.source === source);
    if (found) return found.build;
  }
  return '';
}
