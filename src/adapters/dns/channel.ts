/**
 * What the socket resolver's channels (a UDP socket, a TCP connection) share:
 * the queries in flight by id, the line of those waiting for a slot, the
 * in-flight cap, deadlines, and the reading of a reply into the end of a try.
 */
import { readReply } from './message.js';
import { TIMED_OUT } from './outcome.js';
import type { TryOutcome } from './outcome.js';
import type { Lookup } from './lookup.js';
import type { ServerAddress } from './server-address.js';
import type { UdpPort } from './udp-channel.js';

/** In flight on a channel, overdue ones included: at most this many times its cap. */
const OVERDUE_ROOM = 4;

/** What a channel asks of the resolver it serves. */
export interface ChannelOwner {
  /** Deadline of one try, in ms. */
  readonly timeoutMs: number;
  /** Queries a UDP socket sends before a fresh one takes over. */
  readonly socketQueries: number;
  /** Time in ms a UDP socket sends for, likewise. */
  readonly socketMs: number;
  /** A random message id. */
  nextId(): number;
  /** A try is over: the next server, or the query's result. */
  endTry(query: Lookup, outcome: TryOutcome): void;
  /** The same try again over TCP, on the server of its try. */
  overTcp(query: Lookup): void;
  /** `server` does not echo the case of query names: plain ones from now on. */
  caseBlind(server: ServerAddress): void;
  /** `auto`: `server` will not do TCP; UDP takes over, with `reason` for the notice. */
  toUdp(server: ServerAddress, reason: string): void;
}

/**
 * One channel to one server (a connected UDP socket or a TCP connection): its
 * queries in flight by id (in order of sending, which is the order of their
 * deadlines) and the line of those waiting for a slot. Opened on first use.
 */
export abstract class Channel {
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
    protected readonly owner: ChannelOwner,
    readonly server: ServerAddress,
    private readonly maxInFlight: number,
  ) {}

  /** Sends `query` now if there is room, else puts it in line (opening the socket). */
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
