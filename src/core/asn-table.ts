/**
 * A lookup table over IP-to-ASN ranges: built once from a dataset (overlaps
 * resolved to the more specific range), then answered by binary search over
 * typed-array columns. Pure: adapters read the files.
 */
import { GenerationalCache } from './lru.js';
import { ipToNumber, numberToIp } from './ip-address.js';
import type { IpNumber } from './ip-address.js';
import { sanitizeOrg } from './ip-owner.js';
import type { IpOwner } from './ip-owner.js';

/** One row of an IP-to-ASN dataset: an inclusive address range and its AS. */
export interface AsnRange {
  start: string;
  end: string;
  asn: number;
  org: string;
}

/** A lookup structure over IP-to-ASN ranges. */
export interface AsnTable {
  /** The owner of `ip`, or `null` when no range covers it or `ip` is invalid. */
  lookup(ip: string): IpOwner | null;
  /** Number of ranges held (after overlaps are resolved), IPv4 and IPv6. */
  readonly size: number;
}

const MAX_U32 = 0xffffffff;
const U64 = (1n << 64n) - 1n;

interface Interval<T extends number | bigint> {
  start: T;
  end: T;
  asn: number;
  org: number;
}

/**
 * Flattens possibly overlapping intervals so that each address keeps the
 * owner of the innermost range covering it (for partial overlaps, the range
 * that starts later). Output is sorted and disjoint. `one` is 1 or 1n.
 */
function flatten<T extends number | bigint>(
  items: Interval<T>[],
  one: T,
): Interval<T>[] {
  // T is number or bigint throughout, never mixed, so + and - are safe.
  const add = (x: T, d: T): T => ((x as number) + (d as number)) as T;
  const sub = (x: T, d: T): T => ((x as number) - (d as number)) as T;
  items.sort((x, y) =>
    x.start !== y.start
      ? x.start < y.start
        ? -1
        : 1
      : x.end === y.end
        ? 0
        : x.end > y.end
          ? -1
          : 1,
  );
  const out: Interval<T>[] = [];
  const stack: Interval<T>[] = [];
  let cursor = sub(one, one);
  const emit = (owner: Interval<T>, upTo: T): void => {
    if (cursor <= upTo) {
      out.push({ start: cursor, end: upTo, asn: owner.asn, org: owner.org });
      cursor = add(upTo, one);
    }
  };
  const closeBefore = (limit: T | null): void => {
    for (;;) {
      const top = stack.at(-1);
      if (!top) return;
      if (top.end < cursor) {
        stack.pop();
        continue;
      }
      if (limit !== null && top.end >= limit) return;
      emit(top, top.end);
      stack.pop();
    }
  };
  for (const it of items) {
    closeBefore(it.start);
    const top = stack.at(-1);
    if (top) emit(top, sub(it.start, one));
    cursor = it.start;
    stack.push(it);
  }
  closeBefore(null);
  return out;
}

/**
 * Collects ranges, then builds an {@link AsnTable}. Ranges may come in any
 * order; overlaps are resolved in favour of the more specific range. The
 * dataset loaders feed integers straight in; {@link buildAsnTable} takes
 * address strings.
 */
export class AsnTableBuilder {
  private readonly source: IpOwner['source'];
  private readonly orgIndex = new Map<string, number>();
  private readonly orgs: string[] = [];
  private readonly v4 = new V4Columns();
  private readonly v6 = new V6Columns();

  /** @param source - what the built table reports as `source`; default `table`. */
  constructor(source: IpOwner['source'] = 'table') {
    this.source = source;
  }

  /**
   * The id of an organisation name (sanitised with {@link sanitizeOrg}), to
   * pass to {@link addV4} and {@link addV6}; equal names share one id.
   */
  orgId(org: string): number {
    let id = this.orgIndex.get(org);
    if (id === undefined) {
      id = this.orgs.length;
      this.orgs.push(sanitizeOrg(org));
      this.orgIndex.set(org, id);
    }
    return id;
  }

  private checkAsnAndOrg(asn: number, orgId: number): void {
    if (!Number.isInteger(asn) || asn < 0 || asn > MAX_U32) {
      throw new RangeError(`invalid AS number: ${asn}`);
    }
    if (!Number.isInteger(orgId) || orgId < 0 || orgId >= this.orgs.length) {
      throw new RangeError(`unknown organisation id: ${orgId}`);
    }
  }

  /** Adds an inclusive IPv4 range given as 32-bit integers. Throws RangeError on bad input. */
  addV4(start: number, end: number, asn: number, orgId: number): void {
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      end > MAX_U32 ||
      start > end
    ) {
      throw new RangeError(`invalid IPv4 range: ${start}-${end}`);
    }
    this.checkAsnAndOrg(asn, orgId);
    this.v4.push(start, end, asn, orgId);
  }

  /** Adds an inclusive IPv6 range given as 128-bit integers. Throws RangeError on bad input. */
  addV6(start: bigint, end: bigint, asn: number, orgId: number): void {
    if (start < 0n || end >> 128n !== 0n || start > end) {
      throw new RangeError(`invalid IPv6 range: ${start}-${end}`);
    }
    this.checkAsnAndOrg(asn, orgId);
    this.v6.push(start, end, asn, orgId);
  }

  /** Adds a range given as address strings. Throws RangeError on bad input. */
  add(row: AsnRange): void {
    const s = ipToNumber(row.start);
    const e = ipToNumber(row.end);
    if (s?.v === 4 && e?.v === 4) {
      this.addV4(s.n, e.n, row.asn, this.orgId(row.org));
    } else if (s?.v === 6 && e?.v === 6) {
      this.addV6(s.n, e.n, row.asn, this.orgId(row.org));
    } else {
      throw new RangeError(`invalid range: ${row.start}-${row.end}`);
    }
  }

  /** Builds the table. The builder should not be used afterwards. */
  build(): AsnTable {
    const v4 = disjoint(this.v4)
      ? this.v4
      : resolve(this.v4, new V4Columns(), 1);
    const v6 = disjoint(this.v6)
      ? this.v6
      : resolve(this.v6, new V6Columns(), 1n);
    return new RangeTable(v4.trim(), v6.trim(), this.orgs, this.source);
  }
}

/** Growable columns of ranges of one address family, T its integer type. */
interface Columns<T extends number | bigint> {
  readonly length: number;
  start(i: number): T;
  end(i: number): T;
  asn: Uint32Array;
  org: Uint32Array;
  push(start: T, end: T, asn: number, org: number): void;
}

function grow<A extends Uint32Array | BigUint64Array>(a: A, n: number): A {
  if (n < a.length) return a;
  const b = new (a.constructor as new (size: number) => A)(a.length * 2);
  b.set(a as never);
  return b;
}

/** The IPv4 ranges of a table; exported for the binary codec only. */
export class V4Columns implements Columns<number> {
  length = 0;
  starts = new Uint32Array(1024);
  ends = new Uint32Array(1024);
  asn = new Uint32Array(1024);
  org = new Uint32Array(1024);
  start(i: number): number {
    return this.starts[i]!;
  }
  end(i: number): number {
    return this.ends[i]!;
  }
  push(start: number, end: number, asn: number, org: number): void {
    const n = this.length;
    this.starts = grow(this.starts, n);
    this.ends = grow(this.ends, n);
    this.asn = grow(this.asn, n);
    this.org = grow(this.org, n);
    this.starts[n] = start;
    this.ends[n] = end;
    this.asn[n] = asn;
    this.org[n] = org;
    this.length = n + 1;
  }
  /** Drops the spare capacity. */
  trim(): this {
    this.starts = this.starts.slice(0, this.length);
    this.ends = this.ends.slice(0, this.length);
    this.asn = this.asn.slice(0, this.length);
    this.org = this.org.slice(0, this.length);
    return this;
  }
}

/**
 * The IPv6 ranges of a table, 128-bit bounds as high and low 64-bit halves;
 * exported for the binary codec only.
 */
export class V6Columns implements Columns<bigint> {
  length = 0;
  startHi = new BigUint64Array(256);
  startLo = new BigUint64Array(256);
  endHi = new BigUint64Array(256);
  endLo = new BigUint64Array(256);
  asn = new Uint32Array(256);
  org = new Uint32Array(256);
  start(i: number): bigint {
    return (this.startHi[i]! << 64n) | this.startLo[i]!;
  }
  end(i: number): bigint {
    return (this.endHi[i]! << 64n) | this.endLo[i]!;
  }
  push(start: bigint, end: bigint, asn: number, org: number): void {
    const n = this.length;
    this.startHi = grow(this.startHi, n);
    this.startLo = grow(this.startLo, n);
    this.endHi = grow(this.endHi, n);
    this.endLo = grow(this.endLo, n);
    this.asn = grow(this.asn, n);
    this.org = grow(this.org, n);
    this.startHi[n] = start >> 64n;
    this.startLo[n] = start & U64;
    this.endHi[n] = end >> 64n;
    this.endLo[n] = end & U64;
    this.asn[n] = asn;
    this.org[n] = org;
    this.length = n + 1;
  }
  trim(): this {
    const n = this.length;
    this.startHi = this.startHi.slice(0, n);
    this.startLo = this.startLo.slice(0, n);
    this.endHi = this.endHi.slice(0, n);
    this.endLo = this.endLo.slice(0, n);
    this.asn = this.asn.slice(0, n);
    this.org = this.org.slice(0, n);
    return this;
  }
}

/** Sorted by start with no two ranges sharing an address. */
function disjoint<T extends number | bigint>(cols: Columns<T>): boolean {
  for (let i = 1; i < cols.length; i++) {
    if (cols.start(i) <= cols.end(i - 1)) return false;
  }
  return true;
}

/**
 * Copies `cols` into `out` sorted and disjoint. Rows are walked in start
 * order; only clusters of overlapping rows (rare in real datasets) go through
 * {@link flatten}, the rest are copied as they are.
 */
function resolve<T extends number | bigint, C extends Columns<T>>(
  cols: Columns<T>,
  out: C,
  one: T,
): C {
  const n = cols.length;
  let order: number[] | null = null;
  for (let i = 1; i < n && !order; i++) {
    if (cols.start(i) < cols.start(i - 1)) {
      order = Array.from({ length: n }, (_, k) => k).sort((a, b) =>
        cols.start(a) < cols.start(b)
          ? -1
          : cols.start(a) > cols.start(b)
            ? 1
            : 0,
      );
    }
  }
  const at = (k: number): number => (order ? order[k]! : k);
  const flush = (from: number, to: number): void => {
    if (to - from === 1) {
      const i = at(from);
      out.push(cols.start(i), cols.end(i), cols.asn[i]!, cols.org[i]!);
      return;
    }
    const cluster: Interval<T>[] = [];
    for (let k = from; k < to; k++) {
      const i = at(k);
      cluster.push({
        start: cols.start(i),
        end: cols.end(i),
        asn: cols.asn[i]!,
        org: cols.org[i]!,
      });
    }
    for (const r of flatten(cluster, one))
      out.push(r.start, r.end, r.asn, r.org);
  };
  let from = 0;
  let maxEnd: T | undefined;
  for (let k = 0; k < n; k++) {
    const i = at(k);
    if (maxEnd !== undefined && cols.start(i) > maxEnd) {
      flush(from, k);
      from = k;
      maxEnd = undefined;
    }
    const end = cols.end(i);
    if (maxEnd === undefined || end > maxEnd) maxEnd = end;
  }
  if (n > 0) flush(from, n);
  return out;
}

/** The table {@link AsnTableBuilder} builds; exported for the binary codec only. */
export class RangeTable implements AsnTable {
  /**
   * Addresses recently looked up, with their answer (shared, frozen): many
   * domains share their provider's MX addresses (41 000 distinct among
   * 70 000 in 30 000 bench domains; far fewer in a real portfolio).
   */
  private readonly recent = new GenerationalCache<string, IpOwner | null>(8192);

  constructor(
    private readonly v4: V4Columns,
    private readonly v6: V6Columns,
    private readonly orgs: readonly string[],
    private readonly source: IpOwner['source'],
  ) {}

  get size(): number {
    return this.v4.length + this.v6.length;
  }

  /** The columns, for the binary codec. */
  parts(): { v4: V4Columns; v6: V6Columns; orgs: readonly string[] } {
    return { v4: this.v4, v6: this.v6, orgs: this.orgs };
  }

  lookup(ip: string): IpOwner | null {
    const known = this.recent.get(ip);
    if (known !== undefined) return known;
    const owner = this.find(ip);
    if (typeof ip === 'string') this.recent.set(ip, owner);
    return owner;
  }

  private find(ip: string): IpOwner | null {
    const num = ipToNumber(ip);
    if (!num) return null;
    const cols: Columns<number> | Columns<bigint> =
      num.v === 4 ? this.v4 : this.v6;
    const i = lastAtOrBelow(cols.length, (k) => cols.start(k) <= num.n);
    if (i < 0) return null;
    const start = cols.start(i);
    const end = cols.end(i);
    if (end < num.n) return null;
    return Object.freeze({
      asn: cols.asn[i]!,
      org: this.orgs[cols.org[i]!] ?? '',
      prefix: prefixOf(num, start, end),
      source: this.source,
    });
  }
}

/** Index of the last element for which `atOrBelow` holds (a sorted predicate), or -1. */
function lastAtOrBelow(n: number, atOrBelow: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (atOrBelow(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The largest CIDR block that contains the address and lies inside the range.
 * Datasets merge adjacent announcements of one AS, so this can be wider than
 * a single BGP prefix, but it is never wider than what the AS holds.
 */
function prefixOf(
  ip: IpNumber,
  start: number | bigint,
  end: number | bigint,
): string {
  if (ip.v === 4) {
    for (let len = 0; len <= 32; len++) {
      const size = 2 ** (32 - len);
      const base = Math.floor(ip.n / size) * size;
      if (base >= Number(start) && base + size - 1 <= Number(end)) {
        return `${numberToIp({ v: 4, n: base })}/${len}`;
      }
    }
    return '';
  }
  for (let len = 0n; len <= 128n; len++) {
    const size = 1n << (128n - len);
    const base = (ip.n / size) * size;
    if (base >= BigInt(start) && base + size - 1n <= BigInt(end)) {
      return `${numberToIp({ v: 6, n: base })}/${len}`;
    }
  }
  return '';
}

/**
 * Builds an {@link AsnTable} from rows of address strings (IPv4 and IPv6 may
 * be mixed, in any order). Throws RangeError on a malformed row; lookups never
 * throw.
 */
export function buildAsnTable(rows: Iterable<AsnRange>): AsnTable {
  const builder = new AsnTableBuilder();
  for (const row of rows) builder.add(row);
  return builder.build();
}
