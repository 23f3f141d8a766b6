/**
 * A programmable DNS server on 127.0.0.1 for tests: answers from a record set
 * like an authoritative server (with CNAME chasing like a recursor), or
 * misbehaves on demand (SERVFAIL, silence, truncation, garbage, wrong id,
 * letter case not echoed), or floods its client with forged replies (an
 * off-path spoofer: `spoofPerQuery`). UDP and TCP listen on the same port.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';

/** A record the fake server serves. Names are case-insensitive; a trailing dot is ignored. */
export type FakeRecord =
  | {
      name: string;
      type: 'A' | 'AAAA' | 'CNAME' | 'NS';
      data: string;
      ttl?: number;
    }
  | {
      name: string;
      type: 'MX';
      /** Null MX (RFC 7505) is `{ preference: 0, exchange: '.' }`. */
      data: { preference: number; exchange: string };
      ttl?: number;
    }
  | {
      name: string;
      type: 'TXT';
      /** One string, or the record's character-strings (each at most 255 bytes). */
      data: string | string[];
      ttl?: number;
    }
  | {
      name: string;
      type: 'SRV';
      data: { priority: number; weight: number; port: number; target: string };
      ttl?: number;
    };

/**
 * What the server does with one query.
 * - `answer`: answer from the record set
 * - `servfail`, `refused`, `formerr`: reply with that RCODE and no records
 * - `drop`: never reply
 * - `truncate`: over UDP, an empty reply with the TC bit; over TCP, `answer`
 * - `garbage`: the query's id followed by random bytes (so the client takes it
 *   as the reply to its query rather than a stray packet)
 * - `wrong-id`: a valid answer whose message id is not the query's
 * - `close`: over TCP, close the connection unanswered (dnsmasq does when its
 *   upstream fails); over UDP, `servfail`
 * - `lower-case`: `answer`, with the question's name in lower case, as a
 *   server that does not echo DNS 0x20 does
 * - `other-case`: over UDP, `answer` with every letter of the question's name
 *   in the other case (a forgery that guessed the id, not the case); over
 *   TCP, `answer`
 */
export type Behaviour =
  | 'answer'
  | 'servfail'
  | 'refused'
  | 'drop'
  | 'truncate'
  | 'garbage'
  | 'wrong-id'
  | 'formerr'
  | 'close'
  | 'lower-case'
  | 'other-case';

/** Forged replies a query: how many, with random ids, or `guessed-id`. */
export type Spoofs = number | 'guessed-id';

/** Chooses a {@link Behaviour} per query; `name` is lower-case without trailing dot. */
export type BehaviourFn = (
  name: string,
  type: string,
  proto: 'udp' | 'tcp',
) => Behaviour;

/** One query as the server received it. */
export interface ReceivedQuery {
  /** As it was on the wire (case preserved), without trailing dot. */
  name: string;
  type: string;
  proto: 'udp' | 'tcp';
  /** The client's source port. */
  port: number;
}

/**
 * How many of the queries `server` received (those `which` picks) arrived
 * within `ms` of the first: with every query dropped, the client's cap on
 * queries in flight (the next ones go out only as the first time out).
 */
export function firstWave(
  server: FakeDnsServer,
  ms: number,
  which: (q: ReceivedQuery) => boolean = () => true,
): number {
  const times = server.queries
    .map((q, i) => ({ q, at: server.arrivals[i] ?? 0 }))
    .filter(({ q }) => which(q))
    .map(({ at }) => at);
  const start = times[0] ?? 0;
  return times.filter((at) => at - start < ms).length;
}

/** A running fake server. */
export interface FakeDnsServer {
  port: number;
  /** `127.0.0.1:PORT`, ready for a resolver's server list. */
  address: string;
  /** Every query received, in order of arrival. */
  queries: ReceivedQuery[];
  /** When each of `queries` arrived (performance.now()), same order. */
  arrivals: number[];
  /** TCP connections accepted so far. */
  readonly tcpConnections: number;
  setRecords(records: FakeRecord[]): void;
  setBehaviour(fn: BehaviourFn): void;
  /** Closes every open TCP connection (as a server's idle timeout would); keeps listening. */
  dropTcpConnections(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startFakeDnsServer}. */
export interface FakeDnsServerOptions {
  /** Default: none (everything is NXDOMAIN). */
  records?: FakeRecord[];
  /** Default: always `answer`. */
  behaviour?: BehaviourFn;
  /** Listen on TCP too. Default true; false leaves the TCP port closed, so TCP connections are refused. */
  tcp?: boolean;
  /** Default 0: an ephemeral port. */
  port?: number;
  /**
   * Answer a TCP connection's queries one at a time, in order of arrival,
   * each `holdMs(name)` ms after the previous answer went out (a forwarder
   * such as dnsmasq waiting on its upstream). Default: each at once.
   */
  tcpInOrder?: (name: string) => number;
  /**
   * CNAMEs chased inside one answer, as a recursor would, before the answer
   * ends (NOERROR, the chain so far). Default 8.
   */
  maxCnameHops?: number;
  /**
   * Hostile: before answering each UDP query, send its client this many
   * forged replies from the server's own address and port, as an off-path
   * spoofer who knows the client's port and the name asked, not the id or
   * the name's letter case: random ids, the name in random case, a forged
   * answer of the asked type (198.51.100.66, `forged.invalid`, ...);
   * `guessed-id`: one such reply with the query's own id, as one of 65536
   * blind forgeries would have. Then the real answer; all at a pace the
   * client can read (see `Flood`). A function gives it per query (`name`
   * lower-case without trailing dot). Default 0.
   */
  spoofPerQuery?: Spoofs | ((name: string, type: string) => Spoofs);
}

const HOST = '127.0.0.1';
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };
const MAX_CNAME_CHAIN = 8;
/** Datagrams a tick (a millisecond, or more on a busy machine) of a spoofing server's flood. */
const FLOOD_PER_MS = 50;
const CLASSIC_UDP_LIMIT = 512;

function normaliseName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The record set, indexed by owner name, with the names that have descendants. */
class Zone {
  private readonly byName = new Map<string, FakeRecord[]>();
  private readonly nonTerminal = new Set<string>();

  constructor(
    records: readonly FakeRecord[],
    private readonly maxCnameHops = MAX_CNAME_CHAIN,
  ) {
    for (const record of records) {
      const name = normaliseName(record.name);
      const list = this.byName.get(name);
      if (list) list.push(record);
      else this.byName.set(name, [record]);
      let dot = name.indexOf('.');
      while (dot !== -1) {
        this.nonTerminal.add(name.slice(dot + 1));
        dot = name.indexOf('.', dot + 1);
      }
    }
  }

  private exists(name: string): boolean {
    return this.byName.has(name) || this.nonTerminal.has(name);
  }

  /**
   * The records owned by `name`, or synthesised from a wildcard (RFC 4592:
   * `*.x` applies to names under x when x is the closest encloser).
   * `undefined` means the name does not exist.
   */
  lookup(name: string): FakeRecord[] | undefined {
    const own = this.byName.get(name);
    if (own) return own;
    if (this.nonTerminal.has(name)) return [];
    let dot = name.indexOf('.');
    while (dot !== -1) {
      const encloser = name.slice(dot + 1);
      if (this.exists(encloser)) {
        return this.byName.get(`*.${encloser}`);
      }
      dot = name.indexOf('.', dot + 1);
    }
    return undefined;
  }

  /** The RCODE and answer section for a question, chasing CNAMEs inside the set. */
  answer(qname: string, qtype: string): { rcode: number; answers: Answer[] } {
    const answers: Answer[] = [];
    // The first owner echoes the question's spelling, as real servers do.
    let owner = qname;
    let name = normaliseName(qname);
    for (let hop = 0; hop < this.maxCnameHops; hop++) {
      const records = this.lookup(name);
      if (records === undefined) {
        // A dangling CNAME target outside the set ends the chase with NOERROR.
        return { rcode: hop === 0 ? RCODE.NXDOMAIN : RCODE.NOERROR, answers };
      }
      const matching = records.filter((r) => r.type === qtype);
      if (matching.length > 0) {
        for (const r of matching) answers.push(toAnswer(owner, r));
        break;
      }
      const cname = records.find(
        (r): r is FakeRecord & { type: 'CNAME'; data: string } =>
          r.type === 'CNAME',
      );
      if (!cname || qtype === 'CNAME') break;
      answers.push(toAnswer(owner, cname));
      owner = cname.data;
      name = normaliseName(owner);
    }
    return { rcode: RCODE.NOERROR, answers };
  }
}

/** A forged answer to `question`: the asked type, data that stands out. */
function forgedAnswers(question: Question): Answer[] {
  const name = question.name;
  const forged = 'forged.invalid';
  switch (question.type) {
    case 'A':
      return [{ name, type: 'A', ttl: 60, data: '198.51.100.66' }];
    case 'AAAA':
      return [{ name, type: 'AAAA', ttl: 60, data: '2001:db8::66' }];
    case 'MX':
      return [
        {
          name,
          type: 'MX',
          ttl: 60,
          data: { preference: 0, exchange: forged },
        },
      ];
    case 'CNAME':
      return [{ name, type: 'CNAME', ttl: 60, data: forged }];
    case 'TXT':
      return [
        {
          name,
          type: 'TXT',
          ttl: 60,
          data: 'v=spf1 include:forged.invalid -all',
        },
      ];
    case 'SRV':
      return [
        {
          name,
          type: 'SRV',
          ttl: 60,
          data: { priority: 0, weight: 0, port: 443, target: forged },
        },
      ];
    default:
      return [];
  }
}

/** `name` with each letter in a random case. */
function randomCase(name: string): string {
  return name.replace(/[a-z]/gi, (c) =>
    Math.random() < 0.5 ? c.toLowerCase() : c.toUpperCase(),
  );
}

/** `name` with each letter in the other case. */
function otherCase(name: string): string {
  return name.replace(/[a-z]/gi, (c) =>
    c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
  );
}

function toAnswer(owner: string, r: FakeRecord): Answer {
  const ttl = r.ttl ?? 300;
  switch (r.type) {
    case 'MX':
      return { name: owner, type: 'MX', ttl, data: { ...r.data } };
    case 'TXT':
      return { name: owner, type: 'TXT', ttl, data: r.data };
    case 'SRV':
      return { name: owner, type: 'SRV', ttl, data: { ...r.data } };
    default:
      return { name: owner, type: r.type, ttl, data: r.data };
  }
}

/** The first question's name of a raw query, or '' when it does not parse. */
function questionName(msg: Buffer): string {
  try {
    return dnsPacket.decode(msg).questions?.[0]?.name ?? '';
  } catch {
    return '';
  }
}

/** Forged replies to the query `msg` (see `spoofPerQuery`). */
function forgeries(msg: Buffer, count: Spoofs): Buffer[] {
  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(msg);
  } catch {
    return [];
  }
  const question = query.questions?.[0];
  if (!question) return [];
  const ids =
    count === 'guessed-id'
      ? [query.id ?? 0]
      : [...randomFillSync(new Uint16Array(count))];
  return ids.map((id) => {
    const forged = { ...question, name: randomCase(question.name) };
    return reply(
      { ...query, id },
      forged,
      RCODE.NOERROR,
      forgedAnswers(forged),
    );
  });
}

/**
 * Datagrams sent in order, {@link FLOOD_PER_MS} a millisecond: a flood the
 * client can read as it comes (a socket holds about 250 datagrams; a
 * faster one would drop the real answers too, and test nothing).
 */
class Flood {
  private readonly line: {
    udp: dgram.Socket;
    out: Buffer;
    to: dgram.RemoteInfo;
  }[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  push(udp: dgram.Socket, out: Buffer, to: dgram.RemoteInfo): void {
    this.line.push({ udp, out, to });
    this.timer ??= setTimeout(this.tick, 1);
  }

  private readonly tick = (): void => {
    const end = Math.min(this.line.length, this.head + FLOOD_PER_MS);
    for (; this.head < end; this.head++) {
      const { udp, out, to } = this.line[this.head] as Flood['line'][number];
      try {
        udp.send(out, to.port, to.address);
      } catch {
        // the server closed meanwhile
      }
    }
    if (this.head < this.line.length) {
      this.timer = setTimeout(this.tick, 1);
    } else {
      this.line.length = 0;
      this.head = 0;
      this.timer = undefined;
    }
  };
}

function udpLimit(query: DecodedPacket): number {
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  return opt && 'udpPayloadSize' in opt
    ? Math.max(opt.udpPayloadSize, CLASSIC_UDP_LIMIT)
    : CLASSIC_UDP_LIMIT;
}

function reply(
  query: DecodedPacket,
  question: Question | undefined,
  rcode: number,
  answers: Answer[],
  extraFlags = 0,
): Buffer {
  const packet: Packet = {
    type: 'response',
    id: query.id ?? 0,
    flags:
      dnsPacket.AUTHORITATIVE_ANSWER |
      ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
      extraFlags |
      rcode,
    questions: question ? [question] : [],
    answers,
  };
  return dnsPacket.encode(packet);
}

/**
 * Starts a fake DNS server on 127.0.0.1, UDP and (unless `tcp: false`) TCP on
 * the same port.
 */
export async function startFakeDnsServer(
  opts: FakeDnsServerOptions = {},
): Promise<FakeDnsServer> {
  let zone = new Zone(opts.records ?? [], opts.maxCnameHops);
  let behaviour: BehaviourFn = opts.behaviour ?? (() => 'answer');
  const queries: ReceivedQuery[] = [];
  const arrivals: number[] = [];
  const sockets = new Set<net.Socket>();
  let tcpConnections = 0;

  /** The reply to one raw query, undefined for silence, or 'close' (TCP only). */
  function respond(
    msg: Buffer,
    proto: 'udp' | 'tcp',
    port: number,
  ): Buffer | 'close' | undefined {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (!question) return reply(query, undefined, RCODE.FORMERR, []);
    queries.push({ name: question.name, type: question.type, proto, port });
    arrivals.push(performance.now());
    const what = behaviour(normaliseName(question.name), question.type, proto);
    switch (what) {
      case 'drop':
        return undefined;
      case 'close':
        if (proto === 'tcp') return 'close';
        return reply(query, question, RCODE.SERVFAIL, []);
      case 'servfail':
        return reply(query, question, RCODE.SERVFAIL, []);
      case 'refused':
        return reply(query, question, RCODE.REFUSED, []);
      case 'formerr':
        return reply(query, question, RCODE.FORMERR, []);
      case 'garbage': {
        const junk = randomBytes(12 + Math.floor(Math.random() * 40));
        junk.writeUInt16BE(query.id ?? 0, 0);
        return junk;
      }
      case 'truncate':
        if (proto === 'udp') {
          return reply(
            query,
            question,
            RCODE.NOERROR,
            [],
            dnsPacket.TRUNCATED_RESPONSE,
          );
        }
        break;
      case 'answer':
      case 'wrong-id':
      case 'lower-case':
      case 'other-case':
        break;
    }
    const { rcode, answers } = zone.answer(question.name, question.type);
    let echoed = question;
    if (what === 'lower-case') {
      echoed = { ...question, name: question.name.toLowerCase() };
    } else if (what === 'other-case' && proto === 'udp') {
      echoed = { ...question, name: otherCase(question.name) };
    }
    let out = reply(query, echoed, rcode, answers);
    if (proto === 'udp' && out.length > udpLimit(query)) {
      out = reply(query, question, rcode, [], dnsPacket.TRUNCATED_RESPONSE);
    }
    if (what === 'wrong-id') out.writeUInt16BE(((query.id ?? 0) + 1) & 0xffff);
    return out;
  }

  const spoofOption = opts.spoofPerQuery ?? 0;
  const spoofsFor = (msg: Buffer): Spoofs => {
    if (typeof spoofOption !== 'function') return spoofOption;
    try {
      const question = dnsPacket.decode(msg).questions?.[0];
      return question
        ? spoofOption(normaliseName(question.name), question.type)
        : 0;
    } catch {
      return 0;
    }
  };
  const flood = new Flood();

  function onUdp(this: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) {
    const out = respond(msg, 'udp', rinfo.port);
    if (!(out instanceof Buffer)) return;
    const spoofs = spoofOption === 0 ? 0 : spoofsFor(msg);
    if (spoofs === 0) {
      this.send(out, rinfo.port, rinfo.address);
      return;
    }
    // The forgeries first, then the real answer, in the flood's pace.
    for (const forged of forgeries(msg, spoofs))
      flood.push(this, forged, rinfo);
    flood.push(this, out, rinfo);
  }

  const tcp = net.createServer((socket) => {
    tcpConnections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const answer = (msg: Buffer): void => {
      const out = respond(msg, 'tcp', socket.remotePort ?? 0);
      if (out === 'close') socket.destroy();
      else if (out && !socket.destroyed) {
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        socket.write(framed);
      }
    };
    const hold = opts.tcpInOrder;
    // In order: the line of queries not answered yet; its head is being held.
    const line: Buffer[] = [];
    const next = (): void => {
      const head = line[0];
      if (!head || !hold || socket.destroyed) return;
      const name = normaliseName(questionName(head));
      setTimeout(() => {
        line.shift();
        answer(head);
        next();
      }, hold(name));
    };
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = Buffer.from(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
        if (!hold) answer(msg);
        else if (line.push(msg) === 1) next();
      }
    });
  });

  const { udp, port } = await listenBoth(
    onUdp,
    opts.tcp === false ? undefined : tcp,
    opts.port ?? 0,
  );

  return {
    port,
    address: `${HOST}:${port}`,
    queries,
    arrivals,
    get tcpConnections() {
      return tcpConnections;
    },
    setRecords(records) {
      zone = new Zone(records, opts.maxCnameHops);
    },
    setBehaviour(fn) {
      behaviour = fn;
    },
    async dropTcpConnections() {
      const closed = [...sockets].map(
        (s) => new Promise((resolve) => s.once('close', resolve)),
      );
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        opts.tcp === false
          ? Promise.resolve()
          : new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

function bindUdp(udp: dgram.Socket, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, HOST, () => {
      udp.off('error', reject);
      resolve(udp.address().port);
    });
  });
}

function listenTcp(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Binds UDP, then TCP on the same port. With an ephemeral port, the TCP port
 * may be taken; then start over on another one.
 */
async function listenBoth(
  onMessage: (this: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) => void,
  tcp: net.Server | undefined,
  port: number,
): Promise<{ udp: dgram.Socket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', onMessage);
    const bound = await bindUdp(udp, port);
    if (!tcp) return { udp, port: bound };
    try {
      await listenTcp(tcp, bound);
      return { udp, port: bound };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (port !== 0 || attempt >= 20) throw err;
    }
  }
}

/** A UDP socket on 127.0.0.1 that receives queries and never answers. */
export async function startBlackHole(): Promise<{
  address: string;
  close(): Promise<void>;
}> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', () => {});
  const port = await bindUdp(udp, 0);
  return {
    address: `${HOST}:${port}`,
    close: () => new Promise<void>((resolve) => udp.close(() => resolve())),
  };
}
