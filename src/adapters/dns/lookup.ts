/**
 * One query of the socket resolver through its tries: where it is, the bytes
 * it sends (id stamped in place, EDNS and letter case as the server needs)
 * and who waits for its result.
 */
import type { QueryResult, QueryType } from '../../core/dns.js';
import { prepareQuery } from './message.js';
import type { PreparedQuery, SentQuery } from './message.js';
import type { UdpPort } from './udp-channel.js';

/** Hands a query's result to whoever asked. */
export type Settle = (result: QueryResult) => void;

/** One query through its tries: where it is, what it sends, who waits for it. */
export class Lookup implements SentQuery {
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
