/**
 * A programmable DNS server on 127.0.0.1 for tests: answers from a record set
 * like an authoritative server (with CNAME chasing like a recursor), or
 * misbehaves on demand (SERVFAIL, silence, truncation, garbage, wrong id).
 * UDP and TCP listen on the same port.
 */
import { randomBytes } from 'node:crypto';
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
  | 'close';

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
}

const HOST = '127.0.0.1';
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };
const MAX_CNAME_CHAIN = 8;
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
  ): Buffer | 'close' | undefined {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (!question) return reply(query, undefined, RCODE.FORMERR, []);
    queries.push({ name: question.name, type: question.type, proto });
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
        break;
    }
    const { rcode, answers } = zone.answer(question.name, question.type);
    let out = reply(query, question, rcode, answers);
    if (proto === 'udp' && out.length > udpLimit(query)) {
      out = reply(query, question, rcode, [], dnsPacket.TRUNCATED_RESPONSE);
    }
    if (what === 'wrong-id') out.writeUInt16BE(((query.id ?? 0) + 1) & 0xffff);
    return out;
  }

  function onUdp(this: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) {
    const out = respond(msg, 'udp');
    if (out instanceof Buffer) this.send(out, rinfo.port, rinfo.address);
  }

  const tcp = net.createServer((socket) => {
    tcpConnections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const answer = (msg: Buffer): void => {
      const out = respond(msg, 'tcp');
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
