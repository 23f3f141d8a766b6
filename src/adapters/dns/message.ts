/**
 * DNS messages for the raw UDP/TCP client: the query it sends and what a
 * reply says about it, on top of dns-packet's codec. Pure: no sockets.
 *
 * What is ours is what dns-packet leaves to its callers: the names c-ares
 * refuses to send, which replies answer which query, the CNAME chain inside
 * an answer, and record shapes and name text exactly as the c-ares adapter
 * gives them, and the one message whose encoding is ours: a query is
 * dns-packet's bytes for the root name with the asked name written in
 * (see `TEMPLATES`). Replies are decoded by dns-packet.
 */
import { isUtf8 } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import { SocketAddress } from 'node:net';
import { domainToASCII } from 'node:url';
import dnsPacket from 'dns-packet';
import type { Answer, OptAnswer, Question } from 'dns-packet';
import type { QueryType, RdataOf } from '../../core/dns.js';
import { errorOutcome } from './outcome.js';
import type { TryOutcome } from './outcome.js';

/** Why {@link prepareQuery} sends nothing, as node:dns's codes. */
export type QueryRefusal = 'EBADNAME' | 'EBADQUERY';

/** The query a reply is read against. */
export interface SentQuery {
  /** The message id of the try. */
  id: number;
  /** The name as given to {@link prepareQuery}. */
  name: string;
  type: QueryType;
  /** Whether the query carried an OPT record (EDNS0). */
  edns: boolean;
  /**
   * The name's wire form in lower case ({@link PreparedQuery.asked}), kept
   * so that each reply need not work it out again; from `name` when absent.
   */
  asked?: string;
  /**
   * The question section of the query as sent ({@link PreparedQuery.question}):
   * a reply that echoes it needs no decoding of its question.
   */
  question?: Buffer;
  /**
   * The name went out in mixed case (DNS 0x20, {@link PreparedQuery.cased}):
   * a reply must echo it letter for letter, else it reads `case-mismatch`.
   */
  cased?: boolean;
}

/**
 * What a reply says: the outcome of the try, or
 * - `not-ours`: not the answer to this query; ignore it, keep waiting
 * - `truncated`: TC set; ask again over TCP
 * - `without-edns`: FORMERR to our OPT record; ask again without it
 * - `case-mismatch`: the query's id and question, but the name not in the
 *   letter case it was sent in (DNS 0x20): a forgery, or a server that does
 *   not echo the case; read it with `caseless` to take it as the answer
 */
export type Reading =
  TryOutcome | 'not-ours' | 'truncated' | 'without-edns' | 'case-mismatch';

const QUERY_TYPES: ReadonlySet<string> = new Set<QueryType>([
  'A',
  'AAAA',
  'CNAME',
  'MX',
  'SRV',
  'TXT',
]);

/**
 * EDNS0 (RFC 6891), version 0, no flags or options, advertising the DNS Flag
 * Day 2020 size: fits any path MTU, so no IP fragments.
 */
const OPT: OptAnswer = {
  type: 'OPT',
  name: '.',
  udpPayloadSize: 1232,
  extendedRcode: 0,
  ednsVersion: 0,
  flags: 0,
  flag_do: false,
  options: [],
};
/** A name's text without trailing dot, for 255 bytes on the wire. */
const MAX_NAME_TEXT = 253;
const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const TC = 0x0200;
const RCODE_MASK = 0x000f;
const HEADER_BYTES = 12;
const DOT = 0x2e;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;

const RCODE_OUTCOME: Readonly<Record<number, TryOutcome>> = {
  1: errorOutcome('EFORMERR'),
  2: Object.freeze({ status: 'servfail', records: [] }),
  3: Object.freeze({ status: 'nxdomain', records: [] }),
  4: errorOutcome('ENOTIMP'),
  5: Object.freeze({ status: 'refused', records: [] }),
};
const BAD_RESPONSE = errorOutcome('EBADRESP');
const NODATA: TryOutcome = Object.freeze({ status: 'nodata', records: [] });

/**
 * The labels c-ares accepts in a query name ([A-Za-z0-9-_/*], 1 to 63 of
 * them): anything else is EBADNAME, as with node:dns.
 */
const LABEL = '[A-Za-z0-9_/*-]{1,63}';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const NON_ASCII = /[^\p{ASCII}]/u;

/**
 * Characters of a received name that c-ares escapes: the zone-file specials
 * behind a backslash, the unprintable (controls, non-ASCII) as `\DDD` a byte.
 */
const NAME_ESCAPE = /[^\x20-\x7e]|[";\\()@$]/u;
const NAME_ESCAPES = new RegExp(NAME_ESCAPE.source, 'gu');

/** A query ready to go out: see {@link prepareQuery}. */
export interface PreparedQuery {
  /** The message behind its 2-byte TCP length (RFC 1035 4.2.2). */
  framed: Buffer;
  /** The message itself (a view of `framed`: a new id stamped in one is in both). */
  message: Buffer;
  /** The name as it went on the wire (IDNA A-labels, no trailing dot). */
  wire: string;
  /** `wire` as {@link readReply} compares the echoed question: see {@link SentQuery.asked}. */
  asked: string;
  /** The question section (a view of `message`): see {@link SentQuery.question}. */
  question: Buffer;
  /**
   * Some letter of the name went out in upper case (DNS 0x20): see
   * {@link prepareQuery}'s `caps`.
   */
  cased: boolean;
}

/**
 * The parts of a query message around its name, per type and EDNS, encoded
 * by dns-packet for the root name: the 12-byte header, then after the root
 * label (one zero byte) the type, the class and the OPT record. A query for
 * another name is the same bytes with that name in the root's place
 * ({@link writeName}): dns-packet's whole-message encode cost 4-5 µs a query
 * on the bench fixture, a third of the client's CPU, most of it in its name
 * codec (a regex and a native string write a label).
 */
const TEMPLATES = new Map<string, { head: Buffer; tail: Buffer }>();
for (const type of QUERY_TYPES) {
  for (const edns of [false, true]) {
    const root = dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: type as QueryType, name: '.', class: 'IN' }],
      additionals: edns ? [OPT] : [],
    });
    TEMPLATES.set(`${type} ${edns}`, {
      head: root.subarray(0, HEADER_BYTES),
      tail: root.subarray(HEADER_BYTES + 1),
    });
  }
}

/**
 * The query for `name` and `type` with message id `id`, asking for
 * recursion, with an OPT record advertising 1232 bytes when `edns`, framed
 * for TCP; or why not. Non-ASCII names go out as IDNA A-labels, like
 * node:dns. With `caps`, each letter of the name goes out in a random case
 * (DNS 0x20, draft-vixie-dnsext-dns0x20): a forged reply must guess it as
 * well as the id, a bit a letter.
 */
export function prepareQuery(
  name: unknown,
  type: QueryType,
  id: number,
  edns: boolean,
  caps = false,
): PreparedQuery | QueryRefusal {
  const template = TEMPLATES.get(`${type} ${edns}`);
  if (!template) return 'EBADQUERY';
  const wire = queryName(name);
  if (wire === undefined) return 'EBADNAME';
  // The labels and a length byte each, and the root's zero byte.
  const nameBytes = wire === '' ? 1 : wire.length + 2;
  const length = HEADER_BYTES + nameBytes + template.tail.length;
  const framed = Buffer.allocUnsafe(2 + length);
  framed.writeUInt16BE(length, 0);
  template.head.copy(framed, 2);
  framed.writeUInt16BE(id, 2);
  writeName(wire, framed, 2 + HEADER_BYTES);
  const cased =
    caps && randomCase(framed, 2 + HEADER_BYTES, 2 + HEADER_BYTES + nameBytes);
  template.tail.copy(framed, 2 + HEADER_BYTES + nameBytes);
  return {
    framed,
    message: framed.subarray(2),
    wire,
    asked: wire.toLowerCase(),
    question: framed.subarray(
      2 + HEADER_BYTES,
      2 + HEADER_BYTES + nameBytes + 4,
    ),
    cased,
  };
}

/** Random bits for {@link randomCase}, refilled 4 KiB at a time. */
const CASE_BITS = new Uint32Array(1024);
let caseBitsAt = CASE_BITS.length;

/**
 * Gives each letter of the wire-form name in `buf[from, to)` a random case,
 * one random bit a letter; true when some letter came out upper-case. The
 * label lengths (at most 63) and the other characters a name may hold are no
 * letters, even with the case bit set, and stay as they are. Branch-free
 * per letter: a branch on the random bit, mispredicted half the time,
 * tripled the cost (about 0.3 µs a name against 0.1 µs, measured).
 */
function randomCase(buf: Buffer, from: number, to: number): boolean {
  let bits = 0;
  let left = 0;
  let flipped = 0;
  for (let i = from; i < to; i++) {
    const lower = (buf[i] as number) | 0x20;
    if ((lower - 0x61) >>> 0 > 25) continue; // not a-z
    if (left === 0) {
      if (caseBitsAt === CASE_BITS.length) {
        randomFillSync(CASE_BITS);
        caseBitsAt = 0;
      }
      bits = CASE_BITS[caseBitsAt++] as number;
      left = 32;
    }
    const flip = (bits & 1) << 5;
    buf[i] = lower ^ flip;
    flipped |= flip;
    bits >>>= 1;
    left--;
  }
  return flipped !== 0;
}

/**
 * Writes `wire`, a name {@link queryName} accepted (ASCII labels of 1 to 63
 * characters joined by single dots, or '' for the root), at `at` in wire
 * form (RFC 1035 3.1): each label behind its length, then a zero byte. The
 * same bytes as dns-packet's name codec (tested), which `queryName`'s
 * checks make a copy loop.
 */
function writeName(wire: string, buf: Buffer, at: number): void {
  let lengthAt = at;
  let out = at + 1;
  for (let i = 0; i < wire.length; i++) {
    const c = wire.charCodeAt(i);
    if (c === DOT) {
      buf[lengthAt] = out - lengthAt - 1;
      lengthAt = out++;
    } else {
      buf[out++] = c;
    }
  }
  if (out > lengthAt + 1) {
    buf[lengthAt] = out - lengthAt - 1;
    lengthAt = out;
  }
  buf[lengthAt] = 0;
}

/**
 * What `reply` says about the query `sent`. Over TCP (`tcp`) the TC bit is
 * not looked at. A reply that does not decode is EBADRESP, which moves the
 * query on to the next server. With `caseless`, the echoed name of a
 * {@link SentQuery.cased} query may differ from it in case.
 */
export function readReply(
  reply: Buffer,
  sent: SentQuery,
  tcp = false,
  caseless = false,
): Reading {
  // c-ares drops a reply with a foreign id unread.
  if (reply.length < 2 || reply.readUInt16BE(0) !== sent.id) return 'not-ours';
  let m: ReplyParts;
  try {
    m = decodeParts(reply, sent.question);
  } catch {
    return BAD_RESPONSE;
  }
  const flags = m.flags;
  if ((flags & QR) === 0 || (flags & OPCODE_MASK) !== 0) return 'not-ours';
  const asked = sent.asked ?? askedName(sent.name);
  if (asked === undefined) return 'not-ours';
  const exact = sent.cased === true && !caseless;
  if (!m.echoed) {
    const question = m.questions.length === 1 ? m.questions[0] : undefined;
    if (
      question?.type !== sent.type ||
      question.class !== 'IN' ||
      presentName(question.name) !== asked
    ) {
      return 'not-ours';
    }
    if (exact && !sameCase(question.name, sent.question)) {
      return 'case-mismatch';
    }
  } else if (exact && m.caseDiffers) {
    return 'case-mismatch';
  }
  const rcode = flags & RCODE_MASK;
  // c-ares' order: a FORMERR without OPT means the server does not know
  // EDNS (RFC 6891 7); only then does truncation matter.
  if (rcode === RCODE_FORMERR && sent.edns && !hasOpt(reply, m)) {
    return 'without-edns';
  }
  if (!tcp && (flags & TC) !== 0) return 'truncated';
  const answers = m.answers;
  try {
    if (rcode === 0) return followChain(answers, asked, sent.type);
    const failure = RCODE_OUTCOME[rcode] ?? errorOutcome(`ERCODE${rcode}`);
    if (rcode !== RCODE_NXDOMAIN || answers.length === 0) return failure;
    // NXDOMAIN after aliases: the name at the end of the chain is missing.
    const { cnames } = followChain(answers, asked, sent.type);
    return cnames ? { ...failure, cnames } : failure;
  } catch {
    return BAD_RESPONSE;
  }
}

/** dns-packet's codec of one section entry (exported, not in its typings). */
interface EntryCodec<T> {
  decode: ((buf: Buffer, offset: number) => T) & { bytes: number };
}
const { question: QUESTION, answer: RECORD } = dnsPacket as unknown as {
  question: EntryCodec<Question>;
  answer: EntryCodec<Answer>;
};

/** The parts of a reply {@link readReply} reads. */
interface ReplyParts {
  flags: number;
  /** The one question is the query's own, as sent ({@link echoes}): `questions` is left empty. */
  echoed: boolean;
  /** The echoed question differs from the query's in the case of some letter. */
  caseDiffers: boolean;
  questions: Question[];
  answers: Answer[];
  /** Where the additional section starts, and its count. */
  additionalAt: number;
  additionalCount: number;
}

/**
 * The header, questions and answers of `reply`, decoded by dns-packet entry
 * by entry; the authority and additional sections are only walked, to find
 * a reply that runs past its end (as dns-packet's whole-message decode
 * would), not decoded: nothing in them decides an outcome, and a negative
 * answer's SOA record cost a third of the names decoded. A question that
 * {@link echoes} `sent` is skipped, not decoded. Throws on a malformed reply.
 */
function decodeParts(reply: Buffer, sent?: Buffer): ReplyParts {
  if (reply.length < HEADER_BYTES) throw new RangeError('short header');
  let at = HEADER_BYTES;
  const questions: Question[] = [];
  const echo = sent === undefined ? NO_ECHO : echoes(reply, sent);
  const echoed = echo !== NO_ECHO;
  if (sent !== undefined && echoed) {
    at += sent.length;
  } else {
    for (let i = reply.readUInt16BE(4); i > 0; i--) {
      questions.push(QUESTION.decode(reply, at));
      at += QUESTION.decode.bytes;
    }
  }
  const answers: Answer[] = [];
  for (let i = reply.readUInt16BE(6); i > 0; i--) {
    answers.push(RECORD.decode(reply, at));
    at += RECORD.decode.bytes;
  }
  // dns-packet reads some rdata (A, AAAA, TXT) past the end without
  // throwing: its count of bytes read is then too large, or NaN.
  if (!(at <= reply.length)) throw new RangeError('past the end');
  for (let i = reply.readUInt16BE(8); i > 0; i--) at = skipRecord(reply, at);
  const additionalAt = at;
  const additionalCount = reply.readUInt16BE(10);
  for (let i = additionalCount; i > 0; i--) at = skipRecord(reply, at);
  return {
    flags: reply.readUInt16BE(2),
    echoed,
    caseDiffers: echo === ECHO_OTHER_CASE,
    questions,
    answers,
    additionalAt,
    additionalCount,
  };
}

const NO_ECHO = 0;
const ECHO_EXACT = 1;
const ECHO_OTHER_CASE = 2;

/**
 * Whether `reply` has one question and it is `sent`, the query's question
 * section as sent: byte for byte (ECHO_EXACT), or but for the case of
 * letters (ECHO_OTHER_CASE: a resolver may echo another case, RFC 4343, and
 * a forger does not know the case DNS 0x20 gave the query); else NO_ECHO.
 * Only the query's letters are folded: its label lengths, type and class are
 * bytes below 'A'. Such a question is the one `readReply` would decode and
 * find equal, so it is not decoded; any other goes through dns-packet.
 */
function echoes(reply: Buffer, sent: Buffer): number {
  if (
    reply.readUInt16BE(4) !== 1 ||
    reply.length < HEADER_BYTES + sent.length
  ) {
    return NO_ECHO;
  }
  let echo = ECHO_EXACT;
  for (let i = 0; i < sent.length; i++) {
    const ours = sent[i] as number;
    const theirs = reply[HEADER_BYTES + i] as number;
    if (theirs === ours) continue;
    const folded = ours | 0x20;
    if (folded < 0x61 || folded > 0x7a || (theirs | 0x20) !== folded) {
      return NO_ECHO;
    }
    echo = ECHO_OTHER_CASE;
  }
  return echo;
}

/**
 * Whether the decoded name `theirs` has the letter case of the name in
 * `sent`, the query's question section (read back only on this rare path:
 * a question that {@link echoes} did not match byte for byte).
 */
function sameCase(theirs: string, sent: Buffer | undefined): boolean {
  if (sent === undefined) return true;
  const ours = QUESTION.decode(sent, 0).name;
  return ours === theirs || (ours === '.' && theirs === '');
}

/**
 * Where the resource record at `at` ends (RFC 1035 4.1.3: owner name, 10
 * bytes of type, class, TTL and rdata length, the rdata). Throws when it
 * runs past the end or its name has a reserved label type.
 */
function skipRecord(m: Buffer, at: number): number {
  for (;;) {
    const length = m[at];
    if (length === undefined) throw new RangeError('name past the end');
    if (length === 0) {
      at += 1;
      break;
    }
    if ((length & 0xc0) === 0xc0) {
      at += 2; // a compression pointer ends the name
      break;
    }
    if ((length & 0xc0) !== 0) throw new RangeError('reserved label type');
    at += 1 + length;
  }
  if (at + 10 > m.length) throw new RangeError('record past the end');
  at += 10 + m.readUInt16BE(at + 8);
  if (at > m.length) throw new RangeError('rdata past the end');
  return at;
}

/** Whether the additional section carries an OPT record (RFC 6891 6.1.2). */
function hasOpt(reply: Buffer, m: ReplyParts): boolean {
  let at = m.additionalAt;
  try {
    for (let i = 0; i < m.additionalCount; i++) {
      if (RECORD.decode(reply, at).type === 'OPT') return true;
      at += RECORD.decode.bytes;
    }
  } catch {
    // an additional record dns-packet cannot read is no OPT record
  }
  return false;
}

/**
 * The name as it goes on the wire: ASCII (IDNA A-labels), without trailing
 * dot, '' for the root; undefined when c-ares would not send it.
 */
function queryName(spec: unknown): string | undefined {
  if (typeof spec !== 'string') return undefined;
  let name = spec;
  if (NON_ASCII.test(name)) {
    name = domainToASCII(name); // '' when it is no valid IDN
    if (name === '') return undefined;
  }
  // One trailing dot is the root label; '' and '.' are the root itself.
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return name;
  return name.length <= MAX_NAME_TEXT && HOST_NAME.test(name)
    ? name
    : undefined;
}

/** The asked name as {@link presentName} writes names: the key of the chain. */
function askedName(spec: string): string | undefined {
  return queryName(spec)?.toLowerCase();
}

/**
 * A decoded name in c-ares' presentation: special characters escaped,
 * ASCII lower-case, without trailing dot; the root is ''. (dns-packet joins
 * labels with dots and decodes them as UTF-8, so a dot inside a label or
 * bytes that are not UTF-8 cannot come out as c-ares writes them.)
 */
function presentName(name: string): string {
  if (name === '.') return '';
  if (!NAME_ESCAPE.test(name)) return name.toLowerCase();
  return name.replace(NAME_ESCAPES, escapeChar).toLowerCase();
}

function escapeChar(c: string): string {
  if (c.length === 1 && c >= ' ' && c <= '~') return `\\${c}`;
  let out = '';
  for (const b of Buffer.from(c)) out += `\\${String(b).padStart(3, '0')}`;
  return out;
}

/**
 * The records of `type` at the end of the CNAME chain that starts at the
 * asked name, as a recursor lays it out, and the aliases followed. Records of
 * other classes, and off the chain, are ignored.
 *
 * The chain is followed as far as the answer goes, as c-ares does (its A and
 * AAAA parser follows every alias in the answer, its MX, TXT and SRV parsers
 * take the records whatever their owner): the recursor has applied its own
 * restart limit already (BIND 16, now 11; Unbound 11, see scan-domain.ts),
 * and an answer it delivered is no less true for a long chain. Only a
 * repeat ends the chain early: a loop, shown by the repeat. A chain that
 * ends without the records is `nodata` with its aliases; whether it ended
 * or was cut by the recursor's limit is for the scan to find out.
 */
function followChain(
  answers: readonly Answer[],
  asked: string,
  type: QueryType,
): TryOutcome {
  // Per owner on the chain's types: its records of `type`, its first alias.
  const owners = new Map<string, { records?: Answer[]; alias?: string }>();
  for (const a of answers) {
    if ((a.type !== type && a.type !== 'CNAME') || a.class !== 'IN') continue;
    const name = presentName(a.name);
    let entry = owners.get(name);
    if (!entry) owners.set(name, (entry = {}));
    if (a.type === type) (entry.records ??= []).push(a);
    else if (a.type === 'CNAME') entry.alias ??= a.data;
  }
  let cnames: string[] | undefined;
  let seen: Set<string> | undefined;
  let current = asked;
  for (;;) {
    const entry = owners.get(current);
    if (entry?.records) {
      const records = entry.records.map(rdata);
      return cnames
        ? { status: 'ok', records, cnames }
        : { status: 'ok', records };
    }
    if (entry?.alias === undefined) break;
    const name = presentName(entry.alias);
    (cnames ??= []).push(name);
    seen ??= new Set([asked]);
    if (seen.has(name)) break;
    seen.add(name);
    current = name;
  }
  return cnames ? { ...NODATA, cnames } : NODATA;
}

/** A record's data in the shape of the c-ares adapter; throws when it has none. */
function rdata(a: Answer): RdataOf[QueryType] {
  switch (a.type) {
    case 'A':
      return a.data;
    case 'CNAME':
      return presentName(a.data);
    case 'AAAA':
      return ipv6Text(a.data);
    case 'MX':
      return {
        exchange: presentName(a.data.exchange),
        priority: a.data.preference ?? 0,
      };
    case 'SRV':
      return {
        name: presentName(a.data.target),
        port: a.data.port,
        priority: a.data.priority ?? 0,
        weight: a.data.weight ?? 0,
      };
    case 'TXT':
      return txtText(a.data);
    default:
      throw new RangeError(`unexpected ${a.type} record`);
  }
}

/**
 * An IPv6 address as node:dns prints it (libuv's inet_ntop: the longest run
 * of zeros compressed, IPv4-mapped and -compatible addresses dotted), which
 * dns-packet's text is not always.
 */
function ipv6Text(address: string): string {
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

/**
 * A TXT record's character-strings joined (RFC 7208 3.3), decoded as UTF-8
 * when they are valid UTF-8, else one character a byte (Latin-1): the same
 * text the c-ares adapter gives.
 */
function txtText(data: string | Buffer | (string | Buffer)[]): string {
  const chunks = (Array.isArray(data) ? data : [data]).map((d) =>
    typeof d === 'string' ? Buffer.from(d) : d,
  );
  // c-ares refuses a TXT record without a single string (EBADRESP).
  if (chunks.length === 0) throw new RangeError('TXT record without strings');
  const bytes =
    chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  return bytes.toString(isUtf8(bytes) ? 'utf8' : 'latin1');
}
