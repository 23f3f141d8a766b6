/**
 * When transport `auto` gives up on TCP for a server and asks it over UDP
 * instead, and the reason its notice gives. Pure: the TCP channel tells it
 * what happened, it answers with a reason to move, or none.
 */

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

/** How a TCP connection ended, as {@link FallbackPolicy.afterClose} weighs it. */
export interface ConnectionEnd {
  /** The connection had come up. */
  wasUp: boolean;
  /** The server has answered on the channel at least once. */
  answeredOnce: boolean;
  /** Given up on by us as dead (nothing heard for a whole deadline), not closed. */
  silent: boolean;
  /** Queries of ours unanswered on it when it ended. */
  unanswered: number;
  /** The socket's error code, or EOF. */
  code: string;
}

/**
 * The fall-back decisions of one TCP channel of `auto`. A server shows that
 * it will not do TCP by a connection that does not come up, connections
 * closed before any answer or under unanswered queries {@link LOSSY_CLOSES}
 * times, or a timed-out try with at least {@link STALLED_BEHIND} queries
 * behind it and none of them answered on a channel that has never answered
 * out of order: the mark of a server that answers a connection's queries in
 * order, one at a time (dnsmasq does), where one slow name makes every query
 * behind it time out. A server that answers concurrently overtakes a slow
 * query with later ones (Unbound answers from its cache while it recurses),
 * and is never taken for one in line after it has.
 */
export class FallbackPolicy {
  /** Times the server closed the connection with queries of ours on it. */
  private lossyCloses = 0;

  /** @param timeoutMs the deadline of one try, which the silent reason names. */
  constructor(private readonly timeoutMs: number) {}

  /**
   * Tries have just timed out, with `behind` queries sent after the oldest
   * of them still unanswered; `outOfOrder`: the channel has answered a query
   * before one sent earlier. The reason to move to UDP, or undefined.
   */
  afterTimeouts(behind: number, outOfOrder: boolean): string | undefined {
    if (outOfOrder || behind < STALLED_BEHIND) return undefined;
    return `answers TCP queries one at a time (${behind} stuck behind one that timed out)`;
  }

  /** The connection is gone: the reason to move to UDP, or undefined. */
  afterClose(end: ConnectionEnd): string | undefined {
    const lossy = end.wasUp && !end.silent && end.unanswered > 0;
    if (lossy) this.lossyCloses++;
    if (!end.wasUp || !end.answeredOnce) {
      if (end.silent) {
        return `answered nothing over TCP for ${this.timeoutMs} ms`;
      }
      return end.wasUp
        ? `closed a TCP connection without an answer (${end.code})`
        : `made no TCP connection (${end.code})`;
    }
    if (lossy && this.lossyCloses >= LOSSY_CLOSES) {
      return `closed TCP connections with queries unanswered ${this.lossyCloses} times (${end.code})`;
    }
    return undefined;
  }
}
