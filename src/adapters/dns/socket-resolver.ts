/**
 * The {@link DnsPort} on raw sockets: UDP (TCP when a reply is truncated),
 * pipelined TCP connections, or TCP that falls back to UDP for a server that
 * will not take it (`auto`). Our own ids, deadlines and rotation across
 * servers, with the same outcomes and record shapes as the c-ares adapter
 * for less CPU, and the CNAME chain of the answer, which c-ares hides. The
 * messages are message.ts's.
 */
import { randomFillSync } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { DnsPort, QueryResult, QueryType } from '../../core/dns.js';
import { prepareQuery, readReply } from './message.js';
import type { PreparedQuery, SentQuery } from './message.js';
import {
  CANCELLED,
  TIMED_OUT,
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
 * How many queries must wait unanswered behind a timed-out one on a TCP
 * channel that has only ever answered in order before `auto` takes the
 * server for one that answers in line. A small run's broken domain, whose
 * own few queries all hang, stays below it.
 */
const STALLED_BEHIND = 8;

/**
 * How many times a server may close a connection under unanswered queries
 * before `auto` moves it to UDP. A recursor closes idle connections, and
 * may restart; dnsmasq closes one each time its upstream fails a query,
 * and every query behind it on the connection must be sent again.
 */
const LOSSY_CLOSES = 3;

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

/** Options of {@link createUdpDnsResolver}. */
export interface UdpResolverOptions {
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

/** The resolver built by {@link createUdpDnsResolver}. */
export type UdpDnsResolver = DnsPort & {
  /** Cancels in-flight and waiting queries (they end as `error` ECANCELLED), closes the sockets and refuses new queries. */
  close(): void;
  /** The normalised server specs, in rotation order. */
  servers: readonly string[];
};

/**
 * Most queries in flight on one UDP socket by default, and always on the UDP
 * sockets `auto` moves a server to: a burst of replies larger than a
 * socket's receive buffer (about 250 datagrams at Linux defaults) is lost.
 */
export const UDP_SOCKET_IN_FLIGHT = 100;

const DEFAULTS = {
  timeoutMs: 2000,
  retries: 2,
  socketsPerServer: 2,
  maxInFlightPerSocket: UDP_SOCKET_IN_FLIGHT,
  udpSocketQueries: UDP_SOCKET_QUERIES,
  udpSocketMs: UDP_SOCKET_MS,
};
/** The most queries `maxInFlightPerSocket` allows on one socket or connection. */
export const MAX_IN_FLIGHT_PER_SOCKET = 4096;
/** In flight on a channel, overdue ones included: at most this many times its cap. */
const OVERDUE_ROOM = 4;

type Settle = (result: QueryResult) => void;

/** One query through its tries: where it is, what it sends, who waits for it. */
class Lookup implements SentQuery {
  /** The message id of the current try (also in `prepared`'s bytes). */
  id = 0;
  /** When the current UDP try expires (performance.now() time). */
  deadline = 0;
  /** Tries made after the first. */
  retried = 0;
  /** Index of the server of the current (or last) try. */
  server: number;
  /** Whether the message carries an OPT record. */
  edns = true;
  /** Sent again after its TCP connection closed unanswered (once, free of a try). */
  resent = false;
  /** Its place in its channel's sending order (see `Channel.sent`). */
  seq = 0;
  /** In flight, overtaken and past the overdue time (see `Channel.overdue`). */
  overdue = false;
  /** Its name goes out in random case (DNS 0x20), until a server needs it plain. */
  caps = true;
  /** The current try is over TCP after a UDP reply in another letter case. */
  caseRetry = false;
  /** The UDP socket of the current try; undefined over TCP. */
  via: UdpPort | undefined;

  /** What it sends: the message, framed for TCP, and what replies echo. */
  prepared: PreparedQuery;

  constructor(
    readonly name: string,
    readonly type: QueryType,
    prepared: PreparedQuery,
    readonly first: number,
    readonly slot: number,
    readonly started: number,
    readonly settle: Settle,
  ) {
    this.server = first;
    this.prepared = prepared;
  }

  get asked(): string {
    return this.prepared.asked;
  }

  get question(): Buffer {
    return this.prepared.question;
  }

  get cased(): boolean {
    return this.prepared.cased;
  }

  /**
   * Gives the try a new id: the first 16 bits of the header (RFC 1035
   * 4.1.1), stamped in place rather than encoding the query again.
   */
  setId(id: number): void {
    this.id = id;
    this.prepared.message.writeUInt16BE(id, 0);
  }

  dropEdns(): void {
    this.edns = false;
    this.prepareAgain();
  }

  /** The name as given, not in random case: for a server that does not echo it. */
  plain(): void {
    this.caps = false;
    this.prepareAgain();
  }

  private prepareAgain(): void {
    // The same name and type were sent before: no refusal is possible.
    this.prepared = prepareQuery(
      this.prepared.wire,
      this.type,
      this.id,
      this.edns,
      this.caps,
    ) as PreparedQuery;
  }
}

/**
 * What a server does with the letter case of a query name (DNS 0x20):
 * `unknown` until it echoes a mixed-case name letter for letter (`echoes`)
 * or answers one in another case over TCP (`blind`: it gets plain queries).
 * A UDP reply in another case never decides, whatever the habit: it may be
 * a forgery that guessed the id, so its query is asked again over TCP,
 * which an off-path forger cannot reach. A server without TCP that never
 * echoes the case is taken for `blind` after {@link CASE_MISMATCHES} such
 * TCP tries failed to connect.
 */
type CaseHabit = 'unknown' | 'echoes' | 'blind';

interface ServerAddress {
  spec: string;
  host: string;
  port: number;
  family: 4 | 6;
  caseHabit: CaseHabit;
  /** TCP tries after a reply in another case that failed to connect. */
  caseMismatches: number;
}

function serverAddress(spec: string): ServerAddress {
  const colon = spec.lastIndexOf(':');
  const host = spec.slice(0, colon).replace(/^\[|\]$/g, '');
  return {
    spec,
    host,
    port: Number(spec.slice(colon + 1)),
    family: net.isIPv6(host) ? 6 : 4,
    caseHabit: 'unknown',
    caseMismatches: 0,
  };
}

function codeOf(err: unknown): string {
  return err !== null && typeof err === 'object' && 'code' in err
    ? String(err.code)
    : 'EIO';
}

/** Cuts a TCP byte stream into the DNS messages it frames. */
class FrameReader {
  /** The start of a message whose rest has not arrived. */
  private partial: Buffer | undefined;

  /** Hands each whole message of `chunk` (after what was kept) to `each`, while it returns true. */
  read(chunk: Buffer, each: (message: Buffer) => boolean): void {
    const data = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = undefined;
    let at = 0;
    while (data.length - at >= 2) {
      const length = data.readUInt16BE(at);
      if (data.length - at - 2 < length) break;
      const message = data.subarray(at + 2, at + 2 + length);
      at += 2 + length;
      if (!each(message)) return;
    }
    if (at < data.length) this.partial = Buffer.from(data.subarray(at));
  }
}

/**
 * One channel to one server (a connected UDP socket or a TCP connection): its
 * queries in flight by id (in order of sending, which is the order of their
 * deadlines) and the line of those waiting for a slot. Opened on first use.
 */
abstract class Channel {
  /** Ready to send: the socket is connected. */
  protected ready = false;
  /** The server has answered since the channel opened and since the last timeout here. */
  protected answering = false;
  protected readonly inFlight = new Map<number, Lookup>();
  private waiting: Lookup[] = [];
  private waitingHead = 0;
  /** Queries sent here so far: each try gets the next number as its `seq`. */
  private sent = 0;
  /** The server has answered here at least once. */
  protected answeredOnce = false;
  /** A reply here has overtaken a query sent before it: the server answers concurrently. */
  protected outOfOrder = false;
  /**
   * Queries in flight here that have waited longer than a quarter of the
   * timeout while later ones were answered: a name whose servers do not
   * answer, not a busy server. They do not count against `maxInFlight`
   * (see `hasRoom`): each would otherwise hold its place for the whole
   * timeout, and a few per cent of such names halved a scan's rate.
   */
  private overdue = 0;
  /** The highest `seq` answered here. */
  private answeredSeq = 0;

  constructor(
    protected readonly owner: UdpResolver,
    readonly server: ServerAddress,
    private readonly maxInFlight: number,
  ) {}

  submit(query: Lookup): void {
    if (
      this.ready &&
      this.hasRoom() &&
      this.waitingHead === this.waiting.length
    ) {
      this.send(query);
      return;
    }
    this.waiting.push(query);
    this.openIfClosed();
  }

  /** Ends every try in flight or waiting here with `outcome`, and closes the socket. */
  close(outcome: TryOutcome): void {
    this.shut();
    const ended = [...this.takeInFlight(), ...this.takeWaiting()];
    for (const query of ended) this.owner.endTry(query, outcome);
  }

  /** Ends the tries whose deadline has passed; marks the overdue ones. */
  sweep(now: number): void {
    let expired: Lookup[] | undefined;
    // Deadlines grow in the map's (insertion) order: stop at the first live one.
    for (const query of this.inFlight.values()) {
      if (query.deadline > now) break;
      (expired ??= []).push(query);
    }
    if (!expired) {
      if (this.markOverdue(now)) this.pump();
      return;
    }
    for (const query of expired) this.forget(query);
    this.answering = false;
    this.onTimeouts(now, expired);
    this.markOverdue(now);
    this.pump();
    for (const query of expired) this.owner.endTry(query, TIMED_OUT);
  }

  /** A query leaves the books (answered, expired). */
  private forget(query: Lookup): void {
    this.inFlight.delete(query.id);
    if (query.overdue) {
      query.overdue = false;
      this.overdue--;
    }
    this.released(query);
  }

  /** `query`, sent here, is off the books. */
  protected released(_query: Lookup): void {}

  /** Room for one more query: `maxInFlight` not counting the overdue, and never 4 times it. */
  private hasRoom(): boolean {
    const size = this.inFlight.size;
    return (
      size - this.overdue < this.maxInFlight &&
      size < this.maxInFlight * OVERDUE_ROOM
    );
  }

  /** Marks the queries that have become overdue; true when there were any. */
  private markOverdue(now: number): boolean {
    // Sent before this (deadline = sent + timeout): waited a quarter of it.
    const latest = now + (this.owner.timeoutMs * 3) / 4;
    let marked = false;
    for (const query of this.inFlight.values()) {
      if (query.deadline > latest || query.seq > this.answeredSeq) break;
      if (query.overdue) continue;
      query.overdue = true;
      this.overdue++;
      marked = true;
    }
    return marked;
  }

  /**
   * Some tries here have just timed out, `expired`, oldest first (their
   * queries are already off the books).
   */
  protected onTimeouts(_now: number, _expired: readonly Lookup[]): void {}

  /** Closes the socket and hands over every query in flight or waiting here, without a word to them. */
  evacuate(): Lookup[] {
    this.shut();
    return [...this.takeInFlight(), ...this.takeWaiting()];
  }

  /** Opens the socket unless it is open or opening. */
  protected abstract openIfClosed(): void;
  /** Closes the socket, not ready any more, without a word to the queries. */
  protected abstract shut(): void;
  /** Puts one query on the wire (its id and deadline are set). */
  protected abstract transmit(query: Lookup): void;

  /**
   * One reply `m` off the wire (over UDP, from socket `via`): the query it
   * answers ends its try, or goes again.
   */
  protected deliver(m: Buffer, tcp: boolean, via?: UdpPort): void {
    if (m.length < 2) return;
    const query = this.inFlight.get(m.readUInt16BE(0));
    // A reply counts only on the socket its query went out on.
    if (!query || query.via !== via) return;
    let reading = readReply(m, query, tcp);
    if (reading === 'case-mismatch') {
      const server = this.server;
      if (!tcp && server.caseHabit !== 'blind') {
        // A forgery that guessed the id, or a server that does not echo the
        // case: the same try over TCP, which an off-path forger cannot reach.
        this.forget(query);
        this.pump();
        query.caseRetry = true;
        this.owner.overTcp(query);
        return;
      }
      if (server.caseHabit === 'unknown') this.owner.caseBlind(server);
      reading = readReply(m, query, tcp, true);
      if (reading === 'not-ours' || reading === 'case-mismatch') return;
    } else if (reading === 'not-ours') {
      return;
    } else if (query.cased && this.server.caseHabit === 'unknown') {
      this.server.caseHabit = 'echoes';
    }
    this.forget(query);
    if (query.seq > this.answeredSeq) this.answeredSeq = query.seq;
    this.answering = true;
    this.answeredOnce = true;
    if (!this.outOfOrder) {
      const oldest = this.inFlight.values().next().value;
      this.outOfOrder = oldest !== undefined && oldest.seq < query.seq;
    }
    if (reading === 'without-edns') {
      query.dropEdns();
      this.send(query);
      return;
    }
    this.pump();
    if (reading === 'truncated') this.owner.overTcp(query);
    else this.owner.endTry(query, reading);
  }

  protected send(query: Lookup): void {
    if (query.caps && this.server.caseHabit === 'blind') query.plain();
    let id = this.owner.nextId();
    while (this.inFlight.has(id)) id = this.owner.nextId();
    query.setId(id);
    query.seq = ++this.sent;
    query.deadline = performance.now() + this.owner.timeoutMs;
    this.inFlight.set(id, query);
    this.transmit(query);
  }

  protected pump(): void {
    while (
      this.ready &&
      this.hasRoom() &&
      this.waitingHead < this.waiting.length
    ) {
      const query = this.waiting[this.waitingHead] as Lookup;
      this.waiting[this.waitingHead++] = undefined as unknown as Lookup;
      this.send(query);
    }
    if (this.waitingHead === this.waiting.length && this.waitingHead > 0) {
      this.waiting = [];
      this.waitingHead = 0;
    }
  }

  protected hasWaiting(): boolean {
    return this.waitingHead < this.waiting.length;
  }

  /** Puts `queries` at the head of the line, before those already waiting. */
  protected requeue(queries: Lookup[]): void {
    this.waiting = [...queries, ...this.waiting.slice(this.waitingHead)];
    this.waitingHead = 0;
  }

  protected takeWaiting(): Lookup[] {
    const taken = this.waiting.slice(this.waitingHead);
    this.waiting = [];
    this.waitingHead = 0;
    return taken;
  }

  protected takeInFlight(): Lookup[] {
    const taken = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const query of taken) {
      query.overdue = false;
      this.released(query);
    }
    this.overdue = 0;
    return taken;
  }
}

/** One socket of a {@link UdpChannel} and the tries in flight through it. */
class UdpPort {
  /** Tries sent through it that are still on the books. */
  inFlight = 0;
  /** Queries sent through it. */
  sent = 0;
  /** Replaced by a fresh socket: it closes when `inFlight` reaches 0. */
  retiring = false;
  readonly opened = performance.now();

  constructor(
    readonly socket: dgram.Socket,
    /** The callback of a send whose error is wanted (see `transmit`). */
    readonly onSent: (err: Error | null) => void,
  ) {}
}

/**
 * A connected UDP socket to one server. A socket that fails before it is
 * connected is dropped and opened again for the next query. After
 * `udpSocketQueries` queries or `udpSocketMs` ms, a fresh socket on a new
 * random port takes the next queries (RFC 5452 10: ports that change), and
 * the old one stays open, for the replies to its queries only, until they
 * are answered or time out: an off-path forger who has learnt a port has
 * little time to use it.
 */
class UdpChannel extends Channel {
  private port: UdpPort | undefined;
  private readonly retired = new Set<UdpPort>();

  protected openIfClosed(): void {
    if (!this.port) this.open();
  }

  protected shut(): void {
    const port = this.port;
    this.port = undefined;
    this.ready = false;
    if (port) port.socket.close();
    for (const old of this.retired) {
      old.retiring = false; // closed here, not again when its tries end
      old.socket.close();
    }
    this.retired.clear();
  }

  private open(): void {
    const socket = dgram.createSocket(
      this.server.family === 6 ? 'udp6' : 'udp4',
    );
    const port: UdpPort = new UdpPort(socket, (err) => {
      if (err) this.onError(port, err);
    });
    this.port = port;
    socket.on('message', (m: Buffer) => this.deliver(m, false, port));
    socket.on('error', (err) => this.onError(port, err));
    // Pending queries keep the process alive through the resolver's timer.
    socket.unref();
    // Connected: the kernel drops datagrams from anyone but the server, and
    // reports ICMP port unreachable as ECONNREFUSED.
    socket.connect(this.server.port, this.server.host, (err?: Error) => {
      if (this.port !== port) return;
      if (err) {
        this.onError(port, err);
        return;
      }
      this.ready = true;
      this.pump();
    });
  }

  /** A fresh socket for the next queries; the current one drains. */
  private rotate(): void {
    const old = this.port as UdpPort;
    this.ready = false;
    if (old.inFlight === 0) {
      old.socket.close();
    } else {
      old.retiring = true;
      this.retired.add(old);
    }
    this.open();
  }

  protected override released(query: Lookup): void {
    const port = query.via;
    if (!port) return;
    query.via = undefined;
    port.inFlight--;
    if (port.retiring && port.inFlight === 0) {
      this.retired.delete(port);
      port.socket.close();
    }
  }

  private onError(port: UdpPort, err: unknown): void {
    // A retired socket's error is about tries that will time out.
    if (this.port !== port) return;
    const failure = errorOutcome(codeOf(err));
    if (!this.ready) {
      // Could not bind or connect: those waiting fail; the next query tries a
      // new socket.
      this.port = undefined;
      port.socket.close();
      for (const query of this.takeWaiting()) this.owner.endTry(query, failure);
      return;
    }
    // A connected socket's error (ECONNREFUSED from ICMP) cannot be tied to
    // one datagram: it is about the server, so every try in flight has it.
    this.answering = false;
    const ended = this.takeInFlight();
    this.pump();
    for (const query of ended) this.owner.endTry(query, failure);
  }

  protected transmit(query: Lookup): void {
    // Node drops the error of a send without callback, and a burst of sends
    // to a closed port consumes the socket's pending ECONNREFUSED before a
    // receive can report it: the queries would time out rather than fail
    // fast. A callback costs a nextTick a send (~0.7 µs, 8 % of the client's
    // CPU), so only sends to a server not known to answer get one.
    const port = this.port as UdpPort;
    const message = query.prepared.message;
    query.via = port;
    port.inFlight++;
    if (this.answering) port.socket.send(message);
    else port.socket.send(message, port.onSent);
    if (
      ++port.sent >= this.owner.socketQueries ||
      query.deadline - port.opened >= this.owner.socketMs + this.owner.timeoutMs
    ) {
      this.rotate();
    }
  }
}

/**
 * One TCP connection to one server, carrying many queries at once (RFC 7766
 * 6.2.1.1: pipelining; replies may come in any order and are matched by id).
 * The queries sent in one turn of the event loop go out in one write, which
 * is what makes it cheaper than a datagram a query. A connection that closes
 * after it was up (the server's idle timeout, a reset) sends its unanswered
 * queries once more on a new connection, without counting a try; one that
 * never came up fails those waiting with its error (ECONNREFUSED, ...), or
 * as a timeout when it is not up within the deadline of a try. A connection
 * on which tries time out and nothing has come for a whole deadline is taken
 * for dead (a server or middlebox that dropped it silently) and replaced.
 *
 * With `fallsBack` (transport `auto`), a server that shows it will not do
 * TCP is handed to UDP instead (`UdpResolver.toUdp`): a connection that does
 * not come up, connections closed before any answer or under unanswered
 * queries {@link LOSSY_CLOSES} times, or a timed-out try with
 * at least {@link STALLED_BEHIND} queries behind it and none of them
 * answered on a channel that has never answered out of order: the mark of a
 * server that answers a connection's queries in order, one at a time
 * (dnsmasq does), where one slow name makes every query behind it time out.
 * A server that answers concurrently overtakes a slow query with later ones
 * (Unbound answers from its cache while it recurses), and is never taken
 * for one in line after it has.
 */
class TcpChannel extends Channel {
  private socket: net.Socket | undefined;
  private error: string | undefined;
  /** When the connection came up or last received data (performance.now()). */
  private heard = 0;
  /** Times the server closed the connection with queries of ours on it. */
  private lossyCloses = 0;
  /** Framed queries of this turn, written together by `flush`. */
  private batch: Buffer[] = [];
  private flushing = false;
  private reader = new FrameReader();

  constructor(
    owner: UdpResolver,
    server: ServerAddress,
    maxInFlight: number,
    private readonly fallsBack: boolean,
  ) {
    super(owner, server, maxInFlight);
  }

  protected openIfClosed(): void {
    if (this.socket) return;
    const socket = net.connect({
      host: this.server.host,
      port: this.server.port,
      noDelay: true,
    });
    this.socket = socket;
    // Pending queries keep the process alive through the resolver's timer.
    socket.unref();
    // The kernel would try to connect for minutes (SYN retries).
    const deadline = setTimeout(() => {
      if (this.socket !== socket || this.ready) return;
      this.error = 'ETIMEDOUT';
      this.onClose();
    }, this.owner.timeoutMs);
    deadline.unref();
    socket.on('connect', () => {
      clearTimeout(deadline);
      if (this.socket !== socket) return;
      this.ready = true;
      this.heard = performance.now();
      this.pump();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      this.heard = performance.now();
      this.onData(socket, chunk);
    });
    socket.on('error', (err) => {
      if (this.socket === socket) this.error = codeOf(err);
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      if (this.socket === socket) this.onClose();
    });
  }

  protected override onTimeouts(now: number, expired: readonly Lookup[]): void {
    const behind = expired.length - 1 + this.inFlight.size;
    if (this.fallsBack && !this.outOfOrder && behind >= STALLED_BEHIND) {
      this.owner.toUdp(
        this.server,
        `answers TCP queries one at a time (${behind} stuck behind one that timed out)`,
      );
      return;
    }
    if (this.ready && now - this.heard >= this.owner.timeoutMs) {
      this.onClose(true);
    }
  }

  protected shut(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.ready = false;
    this.batch = [];
    this.reader = new FrameReader();
    if (socket) socket.destroy();
  }

  protected transmit(query: Lookup): void {
    this.batch.push(query.prepared.framed);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushing = false;
    const batch = this.batch;
    this.batch = [];
    // A copy, even of one query: a query's bytes (`framed`) get a new id
    // when it is tried again, and a write may still be queued then.
    if (batch.length > 0 && this.socket && this.ready) {
      this.socket.write(Buffer.concat(batch));
    }
  };

  private onData(socket: net.Socket, chunk: Buffer): void {
    this.reader.read(chunk, (reply) => {
      this.deliver(reply, true);
      return this.socket === socket;
    });
  }

  /**
   * The connection is gone, or given up on as dead (`silent`): what was on
   * it goes on elsewhere.
   */
  private onClose(silent = false): void {
    const wasUp = this.ready;
    const code = this.error ?? 'EOF';
    const failure = code === 'ETIMEDOUT' ? TIMED_OUT : errorOutcome(code);
    this.error = undefined;
    this.shut();
    const lossy = wasUp && !silent && this.inFlight.size > 0;
    if (lossy) this.lossyCloses++;
    if (this.fallsBack && (!wasUp || !this.answeredOnce)) {
      let reason = `made no TCP connection (${code})`;
      if (silent) {
        reason = `answered nothing over TCP for ${this.owner.timeoutMs} ms`;
      } else if (wasUp) {
        reason = `closed a TCP connection without an answer (${code})`;
      }
      this.owner.toUdp(this.server, reason);
      return;
    }
    if (this.fallsBack && lossy && this.lossyCloses >= LOSSY_CLOSES) {
      this.owner.toUdp(
        this.server,
        `closed TCP connections with queries unanswered ${this.lossyCloses} times (${code})`,
      );
      return;
    }
    if (!wasUp) {
      for (const query of this.takeWaiting()) this.owner.endTry(query, failure);
      return;
    }
    const again: Lookup[] = [];
    const ended: Lookup[] = [];
    for (const query of this.takeInFlight()) {
      if (query.resent) ended.push(query);
      else {
        query.resent = true;
        again.push(query);
      }
    }
    if (again.length > 0) this.requeue(again);
    if (this.hasWaiting()) this.openIfClosed();
    for (const query of ended) this.owner.endTry(query, failure);
  }
}

/** The resolver's state: channels, rotation, ids, deadlines. */
class UdpResolver {
  private readonly channels: Channel[] = [];
  /**
   * Per server, the connection that carries the queries whose UDP reply was
   * truncated (opened on the first one): one long-lived pipelined connection
   * rather than a new one a query, which would leave a socket in TIME_WAIT
   * for each and, at thousands of domains a second, run out of local ports.
   */
  private readonly fallback: (TcpChannel | undefined)[] = [];
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

  constructor(
    private readonly servers: readonly ServerAddress[],
    private readonly perServer: number,
    private readonly maxInFlight: number,
    readonly timeoutMs: number,
    private readonly retries: number,
    transport: DnsTransport,
    private readonly onFallback: (server: string, reason: string) => void,
    private readonly onCaseBlind: (server: string) => void,
    rotation: { queries: number; ms: number },
  ) {
    this.socketQueries = rotation.queries;
    this.socketMs = rotation.ms;
    // channels[s * perServer + i] is socket i of server s.
    for (const server of servers) {
      for (let i = 0; i < perServer; i++) {
        this.channels.push(
          transport === 'udp'
            ? new UdpChannel(this, server, maxInFlight)
            : new TcpChannel(this, server, maxInFlight, transport === 'auto'),
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
    let channel = this.fallback[query.server];
    if (!channel) {
      const server = this.servers[query.server] as ServerAddress;
      channel = new TcpChannel(this, server, this.maxInFlight, false);
      this.fallback[query.server] = channel;
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
    for (const channel of this.fallback) if (channel) yield channel;
  }
}

const TRANSPORTS: readonly DnsTransport[] = ['udp', 'tcp', 'auto'];

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
export function createUdpDnsResolver(
  options: UdpResolverOptions,
): UdpDnsResolver {
  const servers = serversOption(options.servers);
  const resolver = new UdpResolver(
    servers.map(serverAddress),
    integerOption(
      'socketsPerServer',
      options.socketsPerServer,
      DEFAULTS.socketsPerServer,
      1,
    ),
    integerOption(
      'maxInFlightPerSocket',
      options.maxInFlightPerSocket,
      DEFAULTS.maxInFlightPerSocket,
      1,
      MAX_IN_FLIGHT_PER_SOCKET,
    ),
    integerOption('timeoutMs', options.timeoutMs, DEFAULTS.timeoutMs, 1),
    integerOption('retries', options.retries, DEFAULTS.retries, 0),
    choiceOption('transport', options.transport, TRANSPORTS, 'udp'),
    options.onFallback ?? (() => {}),
    options.onCaseBlind ?? (() => {}),
    {
      queries: integerOption(
        'udpSocketQueries',
        options.udpSocketQueries,
        DEFAULTS.udpSocketQueries,
        1,
      ),
      ms: integerOption(
        'udpSocketMs',
        options.udpSocketMs,
        DEFAULTS.udpSocketMs,
        1,
      ),
    },
  );
  return {
    servers,
    query: (name, type) => resolver.query(name, type),
    close: () => resolver.close(),
  };
}
