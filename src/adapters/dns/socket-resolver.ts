/**
 * The {@link DnsPort} on raw sockets: UDP (TCP when a reply is truncated),
 * pipelined TCP connections, or TCP that falls back to UDP for a server that
 * will not take it (`auto`). Our own ids, deadlines and rotation across
 * servers, with the same outcomes and record shapes as the c-ares adapter
 * for less CPU, and the CNAME chain of the answer, which c-ares hides.
 *
 * Here: the options, query ids, rotation across servers, retries, the
 * letter case of names (DNS 0x20), and `auto`'s move of a server to UDP.
 * The channels are udp-channel.ts's and tcp-channel.ts's, a query through
 * its tries lookup.ts's, the messages message.ts's.
 */
import { randomFillSync } from 'node:crypto';
import type { DnsPort, QueryResult, QueryType } from '../../core/dns.js';
import type { Channel, ChannelOwner } from './channel.js';
import { FallbackPolicy } from './fallback-policy.js';
import { Lookup } from './lookup.js';
import type { Settle } from './lookup.js';
import { prepareQuery } from './message.js';
import {
  CANCELLED,
  errorOutcome,
  isRetryable,
  toQueryResult,
} from './outcome.js';
import type { TryOutcome } from './outcome.js';
import {
  choiceOption,
  integerOption,
  serversOption,
} from './resolver-options.js';
import { serverAddress } from './server-address.js';
import type { ServerAddress } from './server-address.js';
import { TcpChannel } from './tcp-channel.js';
import { UdpChannel } from './udp-channel.js';
import {
  MAX_IN_FLIGHT_PER_SOCKET,
  UDP_SOCKET_IN_FLIGHT,
} from './socket-limits.js';

/**
 * How queries travel: `udp`, a datagram each (TCP for a truncated reply);
 * `tcp`, many at once on long-lived connections (RFC 7766), which costs less
 * CPU a query but needs a server that answers pipelined queries; `auto`,
 * `tcp` for each server until it shows it will not do (it refuses or drops
 * TCP connections, or answers a connection's queries one at a time so that
 * they time out in line behind a slow one), then `udp` for that server for
 * the rest of the resolver's life.
 */
export type DnsTransport = 'udp' | 'tcp' | 'auto';

/**
 * Queries a UDP socket sends before it is replaced by a fresh one, on a new
 * random source port (RFC 5452 4.5: the port is the other secret of a
 * query beside its 16-bit id); the old socket lives on, for the replies to
 * the queries it sent, until they are answered or time out. A new socket
 * costs about 100 µs of CPU (open, connect, close; measured on a busy
 * machine): 0.1 µs a query at this count, against some 12 µs a query.
 */
export const UDP_SOCKET_QUERIES = 1024;
/** The most time a UDP socket sends for, in ms, before it is replaced likewise. */
export const UDP_SOCKET_MS = 5000;

/**
 * Queries asked again over TCP after a UDP reply in another letter case
 * whose TCP try failed to connect, before a server of unknown habit is
 * taken for one that does not echo the case (and has no TCP to show it).
 */
const CASE_MISMATCHES = 3;

/** Options of {@link createSocketResolver}. */
export interface SocketResolverOptions {
  /** 'ip' or 'ip:port' or '[ipv6]:port'; at least one. */
  servers: string[];
  /** Default 'udp'. */
  transport?: DnsTransport;
  /**
   * Told when `auto` moves a server from TCP to UDP: its spec and why (one
   * line, e.g. "made no TCP connection (ECONNREFUSED)"). Once per server.
   */
  onFallback?: (server: string, reason: string) => void;
  /**
   * Told when a server turns out not to echo the letter case of the query
   * name (DNS 0x20), so that it gets plain queries from then on: its spec.
   * Once per server.
   */
  onCaseBlind?: (server: string) => void;
  /**
   * Queries one UDP socket sends before a fresh socket, on a new random
   * port, takes its place. Default {@link UDP_SOCKET_QUERIES}.
   */
  udpSocketQueries?: number;
  /** Time in ms one UDP socket sends for, likewise. Default {@link UDP_SOCKET_MS}. */
  udpSocketMs?: number;
  /**
   * Deadline of one try, in ms: a try with no answer by then ends as a
   * timeout (checked every `min(50, timeoutMs / 10)` ms, so it may run over
   * by that much). A truncated reply's try over TCP gets a new deadline.
   * Default 2000.
   */
  timeoutMs?: number;
  /** Extra tries after the first, each on the NEXT server in rotation. Default 2. */
  retries?: number;
  /** Sockets (UDP) or connections (TCP) per server, each with its own in-flight cap. Default 2. */
  socketsPerServer?: number;
  /**
   * Most queries in flight on one socket; more wait in line, first come first
   * served (the wait counts in `ms`, not against `timeoutMs`). A reply burst
   * larger than the server's or our socket's receive buffer (about 250
   * datagrams at Linux defaults) is dropped and shows up as timeouts.
   * From 1 to 4096; default 100.
   */
  maxInFlightPerSocket?: number;
}

/** The resolver built by {@link createSocketResolver}. */
export type SocketResolver = DnsPort & {
  /** Cancels in-flight and waiting queries (they end as `error` ECANCELLED), closes the sockets and refuses new queries. */
  close(): void;
  /** The normalised server specs, in rotation order. */
  servers: readonly string[];
};

const DEFAULTS = {
  timeoutMs: 2000,
  retries: 2,
  socketsPerServer: 2,
  maxInFlightPerSocket: UDP_SOCKET_IN_FLIGHT,
  udpSocketQueries: UDP_SOCKET_QUERIES,
  udpSocketMs: UDP_SOCKET_MS,
};

/** The resolver's state: channels, rotation, ids, deadlines. */
class Resolver implements ChannelOwner {
  private readonly channels: Channel[] = [];
  /**
   * Per server, the connection that carries the queries whose UDP reply was
   * truncated (opened on the first one): one long-lived pipelined connection
   * rather than a new one a query, which would leave a socket in TIME_WAIT
   * for each and, at thousands of domains a second, run out of local ports.
   */
  private readonly truncatedTcp: (TcpChannel | undefined)[] = [];
  /** The servers `auto` has moved to UDP. */
  private readonly overUdp = new Set<ServerAddress>();
  /** Queries a UDP socket sends before a fresh one takes over. */
  readonly socketQueries: number;
  /** Time in ms a UDP socket sends for, likewise. */
  readonly socketMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly ids = new Uint16Array(4096);
  private idAt = this.ids.length;
  private cursor = 0;
  private pending = 0;
  private closed = false;

  private readonly servers: readonly ServerAddress[];
  private readonly perServer: number;
  private readonly maxInFlight: number;
  readonly timeoutMs: number;
  private readonly retries: number;
  private readonly onFallback: (server: string, reason: string) => void;
  private readonly onCaseBlind: (server: string) => void;

  constructor(options: ResolvedSocketOptions) {
    const { servers, transport, timeoutMs } = options;
    const perServer = options.socketsPerServer;
    const maxInFlight = options.maxInFlightPerSocket;
    this.servers = servers;
    this.perServer = perServer;
    this.maxInFlight = maxInFlight;
    this.timeoutMs = timeoutMs;
    this.retries = options.retries;
    this.onFallback = options.onFallback;
    this.onCaseBlind = options.onCaseBlind;
    this.socketQueries = options.udpSocketQueries;
    this.socketMs = options.udpSocketMs;
    // channels[s * perServer + i] is socket i of server s.
    for (const server of servers) {
      for (let i = 0; i < perServer; i++) {
        this.channels.push(
          transport === 'udp'
            ? new UdpChannel(this, server, maxInFlight)
            : new TcpChannel(
                this,
                server,
                maxInFlight,
                transport === 'auto'
                  ? new FallbackPolicy(timeoutMs)
                  : undefined,
              ),
        );
      }
    }
    const tick = Math.max(1, Math.min(50, Math.floor(timeoutMs / 10)));
    this.timer = setInterval(() => this.sweep(), tick);
    this.timer.unref();
  }

  query<T extends QueryType>(name: string, type: T): Promise<QueryResult<T>> {
    const started = performance.now();
    const n = this.servers.length;
    const ticket = this.cursor;
    this.cursor = (this.cursor + 1) % (n * this.perServer);
    const first = ticket % n;
    const spec = (this.servers[first] as ServerAddress).spec;
    if (this.closed) {
      return Promise.resolve(
        toQueryResult(name, type, CANCELLED, spec, started),
      );
    }
    // Id 0 for now: each try stamps its own. The name in random case (DNS
    // 0x20) over TCP too: a server's habit shows the same there, and the
    // query is ready for UDP (a retry, `auto`'s fall-back).
    const prepared = prepareQuery(name, type, 0, true, true);
    if (typeof prepared === 'string') {
      return Promise.resolve(
        toQueryResult(name, type, errorOutcome(prepared), spec, started),
      );
    }
    return new Promise<QueryResult<T>>((resolve) => {
      const query = new Lookup(
        name,
        type,
        prepared,
        first,
        Math.floor(ticket / n),
        started,
        resolve as Settle,
      );
      if (this.pending++ === 0) this.timer.ref();
      this.channelOf(query).submit(query);
    });
  }

  /** A try is over: the next server, or the query's result. */
  endTry(query: Lookup, outcome: TryOutcome): void {
    if (query.caseRetry) {
      query.caseRetry = false;
      const server = this.servers[query.server] as ServerAddress;
      if (
        outcome.status === 'error' &&
        server.caseHabit === 'unknown' &&
        ++server.caseMismatches >= CASE_MISMATCHES
      ) {
        this.caseBlind(server);
      }
    }
    if (!this.closed && query.retried < this.retries && isRetryable(outcome)) {
      query.retried++;
      query.server = (query.first + query.retried) % this.servers.length;
      this.channelOf(query).submit(query);
      return;
    }
    if (--this.pending === 0) this.timer.unref();
    query.settle(
      toQueryResult(
        query.name,
        query.type,
        outcome,
        (this.servers[query.server] as ServerAddress).spec,
        query.started,
      ),
    );
  }

  /** The same try again over TCP, on the server that sent the truncated reply. */
  overTcp(query: Lookup): void {
    let channel = this.truncatedTcp[query.server];
    if (!channel) {
      const server = this.servers[query.server] as ServerAddress;
      channel = new TcpChannel(this, server, this.maxInFlight, undefined);
      this.truncatedTcp[query.server] = channel;
    }
    channel.submit(query);
  }

  /**
   * `auto`: `server` will not do TCP. Its connections close and UDP sockets
   * take their place; the queries on them or waiting for them go on over
   * UDP, free of a try (a try that timed out still counts).
   */
  toUdp(server: ServerAddress, reason: string): void {
    if (this.closed || this.overUdp.has(server)) return;
    this.overUdp.add(server);
    const at = this.servers.indexOf(server) * this.perServer;
    const moved: Lookup[] = [];
    for (let i = at; i < at + this.perServer; i++) {
      moved.push(...(this.channels[i] as Channel).evacuate());
      this.channels[i] = new UdpChannel(
        this,
        server,
        Math.min(this.maxInFlight, UDP_SOCKET_IN_FLIGHT),
      );
    }
    this.onFallback(server.spec, reason);
    for (const query of moved) this.channelOf(query).submit(query);
  }

  /** `server` does not echo the case of query names: plain queries from now on. */
  caseBlind(server: ServerAddress): void {
    if (server.caseHabit === 'blind') return;
    server.caseHabit = 'blind';
    this.onCaseBlind(server.spec);
  }

  /** A random message id (RFC 5452: ids are the main defence against spoofed answers). */
  nextId(): number {
    if (this.idAt === this.ids.length) {
      randomFillSync(this.ids);
      this.idAt = 0;
    }
    return this.ids[this.idAt++] as number;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const channel of this.allChannels()) channel.close(CANCELLED);
  }

  private channelOf(query: Lookup): Channel {
    return this.channels[query.server * this.perServer + query.slot] as Channel;
  }

  private sweep(): void {
    const now = performance.now();
    for (const channel of this.allChannels()) channel.sweep(now);
  }

  private *allChannels(): Generator<Channel> {
    yield* this.channels;
    for (const channel of this.truncatedTcp) if (channel) yield channel;
  }
}

const TRANSPORTS: readonly DnsTransport[] = ['udp', 'tcp', 'auto'];

/** {@link SocketResolverOptions} checked once, every default filled in. */
interface ResolvedSocketOptions {
  servers: readonly ServerAddress[];
  socketsPerServer: number;
  maxInFlightPerSocket: number;
  timeoutMs: number;
  retries: number;
  transport: DnsTransport;
  onFallback: (server: string, reason: string) => void;
  onCaseBlind: (server: string) => void;
  udpSocketQueries: number;
  udpSocketMs: number;
}

/** Validates `options` (naming the option in the error) and fills in the defaults. */
function resolveOptions(
  options: SocketResolverOptions,
  servers: readonly string[],
): ResolvedSocketOptions {
  return {
    servers: servers.map(serverAddress),
    socketsPerServer: integerOption(
      'socketsPerServer',
      options.socketsPerServer,
      DEFAULTS.socketsPerServer,
      1,
    ),
    maxInFlightPerSocket: integerOption(
      'maxInFlightPerSocket',
      options.maxInFlightPerSocket,
      DEFAULTS.maxInFlightPerSocket,
      1,
      MAX_IN_FLIGHT_PER_SOCKET,
    ),
    timeoutMs: integerOption(
      'timeoutMs',
      options.timeoutMs,
      DEFAULTS.timeoutMs,
      1,
    ),
    retries: integerOption('retries', options.retries, DEFAULTS.retries, 0),
    transport: choiceOption('transport', options.transport, TRANSPORTS, 'udp'),
    onFallback: options.onFallback ?? (() => {}),
    onCaseBlind: options.onCaseBlind ?? (() => {}),
    udpSocketQueries: integerOption(
      'udpSocketQueries',
      options.udpSocketQueries,
      DEFAULTS.udpSocketQueries,
      1,
    ),
    udpSocketMs: integerOption(
      'udpSocketMs',
      options.udpSocketMs,
      DEFAULTS.udpSocketMs,
      1,
    ),
  };
}

/**
 * Creates a {@link DnsPort} on raw UDP, or pipelined TCP with `transport:
 * 'tcp'`, or TCP with a fall-back to UDP per server with `'auto'`. Each query starts on the next server round-robin; a timeout,
 * SERVFAIL, REFUSED or transport failure (ICMP port unreachable, a refused
 * or reset connection, a malformed reply) moves it to the following server,
 * up to `retries` more tries. NXDOMAIN, NODATA and answers are final.
 * Replies count only when their id and question match the query; truncated
 * UDP ones are asked again over TCP on the same server, on one pipelined
 * connection per server that stays open for the next.
 *
 * @throws ResolverConfigError (`EXO_BAD_RESOLVER`) on a bad server or option.
 */
export function createSocketResolver(
  options: SocketResolverOptions,
): SocketResolver {
  const servers = serversOption(options.servers);
  const resolver = new Resolver(resolveOptions(options, servers));
  return {
    servers,
    query: (name, type) => resolver.query(name, type),
    close: () => resolver.close(),
  };
}
