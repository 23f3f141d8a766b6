import { getServers } from 'node:dns';
import { createDnsCache } from '../core/dns-cache.js';
import type { DnsPort } from '../core/dns.js';
import type { ExchangeProbePort } from '../core/exchange-probe.js';
import { isFailure } from '../core/dns.js';
import type { AsnPort } from '../core/ip-owner.js';
import { createRateLimitedDns } from '../core/rate-limit.js';
import type { ScanDeps } from '../core/scan-domain.js';
import { createCymruAsnSource } from '../adapters/asn/cymru-asn-source.js';
import { createFileAsnSource } from '../adapters/asn/file-asn-source.js';
import { createPackagedAsnSource } from '../adapters/asn/packaged-asn-source.js';
import { createCaresResolver } from '../adapters/dns/cares-resolver.js';
import { parseServer } from '../adapters/dns/resolver-options.js';
import { createSocketResolver } from '../adapters/dns/socket-resolver.js';
import { DEFAULT_IN_FLIGHT, channelLayout } from './dns-layout.js';
import type { DnsClient } from './dns-layout.js';
import type { Clock, Scheduler } from '../core/clock.js';

/**
 * Where the resolver addresses came from: `--resolver`, EXOSCOPE_RESOLVERS,
 * or the system's configuration (`/etc/resolv.conf`).
 */
export type ResolverOrigin = 'flag' | 'env' | 'system';

/** What building the deps needs to know (a subset of the CLI's DNS options). */
export interface DepsOptions {
  resolvers: string[];
  /** Where `resolvers` came from (empty `resolvers`: the system's). */
  resolverOrigin?: ResolverOrigin;
  rate: number;
  timeoutMs: number;
  retries: number;
  asnSource: 'packaged' | 'cymru' | 'none';
  asnDb: string | null;
  /** Default `auto`. */
  dnsClient?: DnsClient;
  /**
   * Most DNS queries in flight to each resolver at once (in this process or
   * thread). Default {@link DEFAULT_IN_FLIGHT}.
   */
  inFlight?: number;
  /** Gets a line for the user when the run changes course (a resolver moved to UDP). */
  onNotice?: (line: string) => void;
  /** The HTTPS probe of candidate Exchange hosts; null or absent = off. */
  probe?: ProbeSettings | null;
}

/** The probe's settings, as the CLI resolved them (plain data: threads get a copy). */
export interface ProbeSettings {
  /** Special-purpose ranges the user allows (`--probe-allow`, CIDR or address). */
  allow: string[];
  /** HTTPS port (`--probe-port`). Default 443. */
  port: number;
  /** Deadline of each request in ms (`--probe-timeout`). Default 5000. */
  timeoutMs: number;
  /** Hosts probed at once per process or thread (`--probe-concurrency`). Default 16. */
  concurrency: number;
}

/** An error setting up the scan (no resolver, bad ASN file): exit code 1. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
  constructor(
    readonly code: 'EXO_NO_RESOLVER' | 'EXO_RESOLVER_UNREACHABLE',
    message: string,
  ) {
    super(message);
  }
}

const NO_OWNER: AsnPort = {
  lookup: () =>
    Promise.resolve({ asn: null, org: '', prefix: '', source: 'none' }),
};

export interface BuiltDeps {
  deps: ScanDeps;
  /** The clock and timers the deps were built with: the run's. */
  clock: Clock & Scheduler;
  resolvers: readonly string[];
  /** Where the resolvers came from (what the pre-flight check names). */
  resolverOrigin: ResolverOrigin;
  /** How the queries travel (what the pre-flight check names when no resolver answers). */
  dnsClient: DnsClient;
  close(): void;
}

/**
 * Builds the scan's ports: node:dns resolvers (rotation, deadlines), a
 * global rate limit, a cache for shared names, and the IP owner source.
 * `clock` times them (the rate limit, the cache's ages) and the run.
 */
export async function buildScanDeps(
  options: DepsOptions,
  clock: Clock & Scheduler,
): Promise<BuiltDeps> {
  const specs = options.resolvers.length > 0 ? options.resolvers : getServers();
  if (specs.length === 0) {
    throw new SetupError(
      'EXO_NO_RESOLVER',
      `no DNS resolver: the system has none configured (${SYSTEM_RESOLVERS}); use --resolver ADDR[:PORT] or set EXOSCOPE_RESOLVERS`,
    );
  }
  const servers = specs.map(parseServer);
  const client = {
    servers,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
  };
  const dnsClient = options.dnsClient ?? 'auto';
  const layout = channelLayout(
    dnsClient,
    options.inFlight ?? DEFAULT_IN_FLIGHT,
  );
  const resolver =
    dnsClient === 'cares'
      ? createCaresResolver({
          ...client,
          instancesPerServer: layout.channels,
          maxInFlightPerInstance: layout.perChannel,
        })
      : createSocketResolver({
          ...client,
          socketsPerServer: layout.channels,
          maxInFlightPerSocket: layout.perChannel,
          transport: dnsClient,
          onFallback: (server, reason) =>
            options.onNotice?.(
              `DNS resolver ${server} ${reason}: asking it over UDP from now on`,
            ),
          onCaseBlind: (server) =>
            options.onNotice?.(
              `DNS resolver ${server} does not echo the letter case of query names (DNS 0x20): sending it plain names from now on`,
            ),
        });
  let network: DnsPort = resolver;
  if (options.rate > 0)
    network = createRateLimitedDns(network, options.rate, clock);
  const sharedDns = createDnsCache(network, { now: () => clock.now() });

  let asn: AsnPort;
  if (options.asnDb) {
    const source = createFileAsnSource(options.asnDb);
    await source.load();
    asn = source;
  } else if (options.asnSource === 'cymru') {
    asn = createCymruAsnSource(sharedDns);
  } else if (options.asnSource === 'packaged') {
    asn = createPackagedAsnSource();
  } else {
    asn = NO_OWNER;
  }
  return {
    clock,
    deps: {
      dns: network,
      sharedDns,
      asn,
      ...(options.probe ? { probe: await buildProber(options.probe) } : {}),
    },
    resolvers: servers,
    resolverOrigin:
      options.resolvers.length > 0
        ? (options.resolverOrigin ?? 'flag')
        : 'system',
    dnsClient,
    close: () => resolver.close(),
  };
}

/** Where the system's resolvers are configured (what node:dns reads). */
const SYSTEM_RESOLVERS =
  process.platform === 'win32'
    ? "Windows' network settings"
    : '/etc/resolv.conf';

const ORIGIN_NAMES: Record<ResolverOrigin, string> = {
  flag: '--resolver',
  env: 'EXOSCOPE_RESOLVERS',
  system: SYSTEM_RESOLVERS,
};

/** What to do when the resolvers of each origin do not answer. */
const RESOLVER_ADVICE: Record<ResolverOrigin, string> = {
  flag: 'check the address and port, or pass a resolver that answers with --resolver ADDR[:PORT]',
  env: 'fix or unset EXOSCOPE_RESOLVERS, or pass a resolver that answers with --resolver ADDR[:PORT]',
  system: `this machine's resolver does not answer: pass one that does with --resolver ADDR[:PORT] (or set EXOSCOPE_RESOLVERS)`,
};

/**
 * The HTTPS prober, loaded only for `--probe`: a scan without it never loads
 * node:https (nor starts a thread any slower).
 */
async function buildProber(
  settings: ProbeSettings,
): Promise<ExchangeProbePort> {
  const [
    { createHttpsProber },
    { addressPolicy, parseAllowedRange },
    { packageVersion },
  ] = await Promise.all([
    import('../adapters/https-prober.js'),
    import('../core/address-policy.js'),
    import('../adapters/package-version.js'),
  ]);
  // The CLI has checked every range: a null here cannot happen.
  const allowed = settings.allow
    .map(parseAllowedRange)
    .filter((r) => r !== null);
  return createHttpsProber({
    policy: addressPolicy(allowed),
    port: settings.port,
    timeoutMs: settings.timeoutMs,
    concurrency: settings.concurrency,
    userAgent: `exoscope/${packageVersion()} (Exchange build probe; opt-in --probe)`,
  });
}

/**
 * Asks every resolver one question before the scan: when none answers at all
 * (any RCODE counts as an answer), the run stops with one message instead of
 * a million `unresolved` rows.
 */
export async function preflight({
  deps,
  resolvers,
  resolverOrigin,
  dnsClient,
}: Pick<
  BuiltDeps,
  'deps' | 'resolvers' | 'resolverOrigin' | 'dnsClient'
>): Promise<void> {
  // RFC 6761: .invalid never exists, so any working resolver answers at once.
  const tries = await Promise.all(
    [0, 1, 2].map((i) =>
      deps.dns.query(`exoscope-preflight-${i}.invalid`, 'A'),
    ),
  );
  if (
    tries.every(
      (r) =>
        isFailure(r.status) &&
        r.status !== 'servfail' &&
        r.status !== 'refused',
    )
  ) {
    const why = tries[0]?.error ?? tries[0]?.status ?? 'no answer';
    // A resolver may well answer datagrams and take no TCP connection.
    const tcp = dnsClient === 'tcp';
    const over = tcp ? ' over TCP' : '';
    const hint = tcp
      ? 'if it takes DNS over UDP only, use --dns-client udp'
      : RESOLVER_ADVICE[resolverOrigin];
    throw new SetupError(
      'EXO_RESOLVER_UNREACHABLE',
      `no DNS resolver answered${over} (${resolvers.join(', ')}, from ${ORIGIN_NAMES[resolverOrigin]}): ${why}; ${hint}`,
    );
  }
}
