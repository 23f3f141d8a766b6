/**
 * The reader of IP-to-ASN files, shared by the packaged dataset and
 * `--asn-db`: gunzips when the bytes say so, then parses CSV or TSV rows
 * straight from the bytes into an {@link AsnTableBuilder}.
 */
import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import type { AsnTableBuilder } from '../../core/asn-table.js';
import { ipToNumber } from '../../core/ip-address.js';

const gunzipAsync = promisify(gunzip);

const MAX_U32 = 0xffffffff;
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const COMMA = 0x2c;
const QUOTE = 0x22;
const HASH = 0x23;

/** How integer range bounds are read: which family they belong to. */
export type NumericFamily = 'v4' | 'v6' | 'auto';

type Bound = { v: 4; n: number } | { v: 6; n: bigint };

/** A row that cannot be read, with its 1-based line. */
export class LineError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const DECIMAL = /^\d{1,39}$/;

/** A piece of the file for an error message: short, escaped. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function unquote(field: string): string {
  const f = field.trim();
  if (f.length >= 2 && f.startsWith('"') && f.endsWith('"')) {
    return f.slice(1, -1).replaceAll('""', '"');
  }
  return f;
}

/**
 * A parser over the raw bytes of an IP-to-ASN file. It works on the Buffer
 * rather than on one decoded string: half a million rows then cost no string
 * per number, and the organisation strings kept are fresh copies instead of
 * slices that would pin the whole file text in memory.
 */
export class AsnFileParser {
  /** Per AS, where its last organisation field was and what it decoded to. */
  private readonly lastOrg = new Map<
    number,
    { at: number; len: number; id: number }
  >();

  constructor(
    private readonly buf: Buffer,
    private readonly builder: AsnTableBuilder,
    private readonly family: NumericFamily,
  ) {}

  private indexWithin(byte: number, from: number, to: number): number {
    const i = this.buf.indexOf(byte, from);
    return i >= 0 && i < to ? i : -1;
  }

  private text(a: number, b: number): string {
    return unquote(this.buf.toString('utf8', a, b));
  }

  /** A plain decimal of up to 15 digits (optionally quoted), or -1. */
  private smallDecimal(a: number, b: number): number {
    const buf = this.buf;
    if (b - a >= 2 && buf[a] === QUOTE && buf[b - 1] === QUOTE) {
      a++;
      b--;
    }
    if (b <= a || b - a > 15) return -1;
    let n = 0;
    for (let i = a; i < b; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    return n;
  }

  private bounds(
    sa: number,
    sb: number,
    ea: number,
    eb: number,
  ): [Bound, Bound] | null {
    if (this.family !== 'v6') {
      const s = this.smallDecimal(sa, sb);
      const e = s < 0 ? -1 : this.smallDecimal(ea, eb);
      if (e >= 0 && e <= MAX_U32)
        return [
          { v: 4, n: s },
          { v: 4, n: e },
        ];
    }
    const startText = this.text(sa, sb);
    const endText = this.text(ea, eb);
    if (DECIMAL.test(startText) && DECIMAL.test(endText)) {
      const s = BigInt(startText);
      const e = BigInt(endText);
      const v6 =
        this.family === 'v6' || (this.family === 'auto' && e > MAX_U32);
      return v6 && e >> 128n === 0n
        ? [
            { v: 6, n: s },
            { v: 6, n: e },
          ]
        : null;
    }
    const s = ipToNumber(startText);
    const e = ipToNumber(endText);
    return s && e ? [s, e] : null;
  }

  /** The builder's id for the organisation field at `a..b` of a row of `asn`. */
  private orgId(asn: number, a: number, b: number, quoted: boolean): number {
    const last = this.lastOrg.get(asn);
    if (
      last !== undefined &&
      last.len === b - a &&
      this.buf.compare(this.buf, last.at, last.at + last.len, a, b) === 0
    ) {
      return last.id;
    }
    const raw = a < b ? this.buf.toString('utf8', a, b) : '';
    const id = this.builder.orgId(quoted ? unquote(raw) : raw.trim());
    this.lastOrg.set(asn, { at: a, len: b - a, id });
    return id;
  }

  /**
   * Adds every row to the builder. Blank and `#` lines are skipped, and so is
   * a header: a first data line whose start is no address. Throws LineError.
   */
  parse(): void {
    const buf = this.buf;
    const len = buf.length;
    let pos = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    let lineNo = 0;
    let sep = -1;
    while (pos < len) {
      let eol = buf.indexOf(LF, pos);
      if (eol < 0) eol = len;
      let ls = pos;
      let le = eol > ls && buf[eol - 1] === CR ? eol - 1 : eol;
      pos = eol + 1;
      lineNo++;
      while (ls < le && (buf[ls] === 0x20 || buf[ls] === TAB)) ls++;
      while (le > ls && (buf[le - 1] === 0x20 || buf[le - 1] === TAB)) le--;
      if (ls === le || buf[ls] === HASH) continue;
      const first = sep < 0;
      if (first) sep = this.indexWithin(TAB, ls, le) >= 0 ? TAB : COMMA;
      const c1 = this.indexWithin(sep, ls, le);
      const c2 = c1 < 0 ? -1 : this.indexWithin(sep, c1 + 1, le);
      const c3raw = c2 < 0 ? -1 : this.indexWithin(sep, c2 + 1, le);
      const c3 = c3raw < 0 ? le : c3raw;
      const bounds = c2 < 0 ? null : this.bounds(ls, c1, c1 + 1, c2);
      if (!bounds) {
        const startText = this.text(ls, c1 < 0 ? le : c1);
        if (first && !DECIMAL.test(startText) && !ipaddr.isValid(startText)) {
          continue; // a header line such as `range_start,range_end,...`
        }
        throw new LineError(
          c2 < 0
            ? `expected at least 3 ${sep === TAB ? 'tab' : 'comma'}-separated columns`
            : `not an address range: ${quote(this.buf.toString('utf8', ls, c2))}`,
          lineNo,
        );
      }
      let asn = this.smallDecimal(c2 + 1, c3);
      if (asn < 0) {
        const asnText = this.text(c2 + 1, c3).replace(/^AS/i, '');
        asn = /^\d{1,10}$/.test(asnText) ? Number(asnText) : -1;
      }
      if (asn < 0 || asn > MAX_U32) {
        throw new LineError(
          `not an AS number: ${quote(this.text(c2 + 1, c3))}`,
          lineNo,
        );
      }
      // iptoasn.com marks unrouted space with AS 0 ("Not routed").
      if (asn === 0) continue;
      let orgAt = le;
      if (c3 < le) {
        // TSV: range_start, range_end, AS_number, country_code, AS_description
        const c4 = sep === TAB ? this.indexWithin(TAB, c3 + 1, le) : c3;
        if (c4 >= 0) orgAt = c4 + 1;
      }
      const org = this.orgId(asn, orgAt, le, sep !== TAB);
      addRange(this.builder, bounds[0], bounds[1], asn, org, lineNo);
    }
  }
}

function addRange(
  builder: AsnTableBuilder,
  start: Bound,
  end: Bound,
  asn: number,
  orgId: number,
  lineNo: number,
): void {
  try {
    if (start.v === 4 && end.v === 4) builder.addV4(start.n, end.n, asn, orgId);
    else if (start.v === 6 && end.v === 6) {
      builder.addV6(start.n, end.n, asn, orgId);
    } else throw new RangeError('start and end are of different families');
  } catch (err) {
    throw new LineError((err as Error).message, lineNo);
  }
}

/** The bytes of an IP-to-ASN file, gunzipped when they are gzip (by magic bytes). */
export async function readAsnData(path: string): Promise<Buffer> {
  const data = await readFile(path);
  return data[0] === 0x1f && data[1] === 0x8b ? gunzipAsync(data) : data;
}
