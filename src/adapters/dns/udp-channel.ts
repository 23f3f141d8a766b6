/**
 * The socket resolver's channel over UDP: one connected socket to one
 * server at a time, replaced by a fresh one on a new random port every so
 * many queries or seconds.
 */
import dgram from 'node:dgram';
import { Channel } from './channel.js';
import type { Lookup } from './lookup.js';
import { errorCode, errorOutcome } from './outcome.js';

/** One socket of a {@link UdpChannel} and the tries in flight through it. */
export class UdpPort {
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
export class UdpChannel extends Channel {
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
    const failure = errorOutcome(errorCode(err));
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
