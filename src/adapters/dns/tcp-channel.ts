/**
 * The socket resolver's channel over TCP: one pipelined connection to one
 * server, its queries of a turn written together, replies read off a
 * {@link FrameReader}.
 */
import net from 'node:net';
import { Channel } from './channel.js';
import type { ChannelOwner } from './channel.js';
import type { FallbackPolicy } from './fallback-policy.js';
import { FrameReader } from './frame-reader.js';
import type { Lookup } from './lookup.js';
import { TIMED_OUT, errorCode, errorOutcome } from './outcome.js';
import type { ServerAddress } from './server-address.js';

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
 * With a {@link FallbackPolicy} (transport `auto`), a server that shows it
 * will not do TCP is handed to UDP instead (`ChannelOwner.toUdp`).
 */
export class TcpChannel extends Channel {
  private socket: net.Socket | undefined;
  private error: string | undefined;
  /** When the connection came up or last received data (performance.now()). */
  private heard = 0;
  /** Framed queries of this turn, written together by `flush`. */
  private batch: Buffer[] = [];
  private flushing = false;
  private reader = new FrameReader();

  constructor(
    owner: ChannelOwner,
    server: ServerAddress,
    maxInFlight: number,
    /** `auto`'s decisions; undefined for a channel that stays on TCP. */
    private readonly fallback: FallbackPolicy | undefined,
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
      if (this.socket === socket) this.error = errorCode(err);
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      if (this.socket === socket) this.onClose();
    });
  }

  protected override onTimeouts(now: number, expired: readonly Lookup[]): void {
    const reason = this.fallback?.afterTimeouts(
      expired.length - 1 + this.inFlight.size,
      this.outOfOrder,
    );
    if (reason !== undefined) {
      this.owner.toUdp(this.server, reason);
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
    const reason = this.fallback?.afterClose({
      wasUp,
      answeredOnce: this.answeredOnce,
      silent,
      unanswered: this.inFlight.size,
      code,
    });
    if (reason !== undefined) {
      this.owner.toUdp(this.server, reason);
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
