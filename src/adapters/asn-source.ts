/**
 * The I/O behind the core's {@link AsnPort}: the IP-to-ASN dataset shipped in
 * the `@ip-location-db/asn` npm package, a user's file given with `--asn-db`,
 * and Team Cymru's IP-to-ASN DNS interface.
 */
import { createHash } from 'node:crypto';
import {
  mkdir,
  readFile,
  readdir,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import type { DnsPort } from '../core/dns.js';
import { isFailure } from '../core/dns.js';
import { AsnTableBuilder } from '../core/asn-table.js';
import type { AsnTable } from '../core/asn-table.js';
import { decodeAsnTable, encodeAsnTable } from '../core/asn-table-codec.js';
import { ipToNumber, parseIp } from '../core/ip-address.js';
import { noOwner, sanitizeOrg } from '../core/ip-owner.js';
import type { AsnPort, IpOwner } from '../core/ip-owner.js';

const gunzipAsync = promisify(gunzip);

/** Stable codes of {@link AsnSourceError}. */
export type AsnSourceErrorCode = 'EXO_ASN_DB';

/** A user's ASN database could not be read or parsed. */
export class AsnSourceError extends Error {
  override readonly name = 'AsnSourceError';
  readonly code: AsnSourceErrorCode = 'EXO_ASN_DB';
  /** The file concerned. */
  readonly path: string;
  /** 1-based line of a parse error, when there is one. */
  readonly line: number | undefined;

  constructor(
    message: string,
    path: string,
    options: { cause?: unknown; line?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.path = path;
    this.line = options.line;
  }
}

/** An {@link AsnPort} backed by data that is loaded once. */
export interface LoadableAsnPort extends AsnPort {
  /**
   * Loads the data now rather than on the first lookup; concurrent and later
   * calls share the one load. The packaged source never rejects (a failure
   * becomes a warning); the file source rejects with {@link AsnSourceError}.
   */
  load(): Promise<void>;
  /** Problems met while loading, for the run's report; empty when none. */
  warnings(): string[];
  /** Number of ranges loaded (0 before loading or after a failure). */
  size(): number;
}

// ---------------------------------------------------------------------------
// Parsing

const MAX_U32 = 0xffffffff;
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const COMMA = 0x2c;
const QUOTE = 0x22;
const HASH = 0x23;

/** How integer range bounds are read: which family they belong to. */
type NumericFamily = 'v4' | 'v6' | 'auto';

type Bound = { v: 4; n: number } | { v: 6; n: bigint };

class LineError extends Error {
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
class AsnFileParser {
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

async function readData(path: string): Promise<Buffer> {
  const data = await readFile(path);
  return data[0] === 0x1f && data[1] === 0x8b ? gunzipAsync(data) : data;
}

function familyFromName(path: string): NumericFamily {
  const name = basename(path).toLowerCase();
  if (name.includes('ipv6')) return 'v6';
  if (name.includes('ipv4')) return 'v4';
  return 'auto';
}

// ---------------------------------------------------------------------------
// Loaded sources

/** A lookup over a table that is loaded once, on first use. */
class LoadedSource implements LoadableAsnPort {
  private table: AsnTable | undefined;
  private loading: Promise<void> | undefined;
  private failed = false;
  private failure: unknown;
  private readonly warned: string[] = [];

  constructor(
    private readonly loadTable: () => Promise<AsnTable>,
    private readonly onFailure: (err: unknown) => string,
    private readonly rethrow: boolean,
  ) {}

  load(): Promise<void> {
    this.loading ??= this.loadTable().then(
      (table) => {
        this.table = table;
      },
      (err: unknown) => {
        this.failed = true;
        this.failure = err;
        this.warned.push(this.onFailure(err));
      },
    );
    return this.rethrow
      ? this.loading.then(() => {
          if (this.failed) throw this.failure;
        })
      : this.loading;
  }

  async lookup(ip: string): Promise<IpOwner> {
    try {
      if (!this.table) await this.load().catch(() => undefined);
      return this.table?.lookup(ip) ?? noOwner();
    } catch {
      return noOwner();
    }
  }

  warnings(): string[] {
    return [...this.warned];
  }

  size(): number {
    return this.table?.size ?? 0;
  }
}

const PACKAGE = '@ip-location-db/asn';

/** Options of {@link createPackagedAsnSource}. */
export interface PackagedAsnSourceOptions {
  /**
   * Folder holding `asn-ipv4-num.csv` and `asn-ipv6-num.csv`; default: the
   * installed `@ip-location-db/asn` package.
   */
  dataDir?: string;
  /**
   * Folder for the built table in binary form, read instead of the CSV on
   * later runs; null: no cache. Default: `EXOSCOPE_CACHE_DIR`, else
   * `$XDG_CACHE_HOME/exoscope`, else `~/.cache/exoscope`.
   */
  cacheDir?: string | null;
}

/** Where the built table is kept between runs (see {@link PackagedAsnSourceOptions}). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EXOSCOPE_CACHE_DIR) return env.EXOSCOPE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'exoscope');
}

/** The cached table of this dataset version, or null. Never throws. */
async function readCachedTable(path: string): Promise<AsnTable | null> {
  try {
    return decodeAsnTable(await readFile(path), 'table');
  } catch {
    return null;
  }
}

/**
 * Keeps the built table for later runs; a cache that cannot be written is
 * skipped. Whether it was written.
 */
async function writeCachedTable(
  path: string,
  table: AsnTable,
): Promise<boolean> {
  const bytes = encodeAsnTable(table);
  if (!bytes) return false;
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    return true;
  } catch {
    await unlink(tmp).catch(() => undefined);
    return false;
  }
}

function packageDataDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve(`${PACKAGE}/package.json`));
}

/**
 * The IP-to-ASN dataset of the `@ip-location-db/asn` npm package (RouteViews
 * BGP origins, the five RIRs' delegations, DB-IP organisation names; CC BY
 * 4.0), IPv4 and IPv6. Loaded on the first lookup: from the binary cache
 * (about 30 ms) or, the first time, from the CSV (about 0.5 s), 16 MB kept;
 * once for all concurrent callers. If the data cannot be loaded, every lookup answers
 * `none` and {@link LoadableAsnPort.warnings} holds one warning; it never
 * throws.
 */
export function createPackagedAsnSource(
  options: PackagedAsnSourceOptions = {},
): LoadableAsnPort {
  const loadTable = async (): Promise<AsnTable> => {
    const dir = options.dataDir ?? packageDataDir();
    const cacheDir =
      options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
    const cached =
      cacheDir === null ? null : join(cacheDir, await cacheName(dir));
    const hit = cached ? await readCachedTable(cached) : null;
    if (hit) return hit;
    const table = await buildPackagedTable(dir);
    if (cached && (await writeCachedTable(cached, table))) {
      await removeStaleCaches(cached);
    }
    return table;
  };
  return new LoadedSource(
    loadTable,
    (err) =>
      `ASN dataset ${PACKAGE} could not be loaded, IP owners are unknown: ${
        (err as Error).message
      }`,
    false,
  );
}

/** Cache files of the packaged table: `asn-<key>.bin`. */
const CACHE_FILE = /^asn-.+\.bin$/;

/**
 * The cache file's name, from the dataset's content, never its times (an
 * `npm ci` rewrites the files unchanged): the package's version and the
 * files' sizes; a folder without a version (tests, a copied dataset) by a
 * hash of the files themselves.
 */
async function cacheName(dir: string): Promise<string> {
  const files = ['v4', 'v6'].map((f) => join(dir, `asn-ip${f}-num.csv`));
  let version: string | null = null;
  try {
    const pkg = JSON.parse(
      await readFile(join(dir, 'package.json'), 'utf8'),
    ) as { version?: unknown };
    if (typeof pkg.version === 'string') version = pkg.version;
  } catch {
    // a data folder without package.json
  }
  let key: string;
  if (version !== null) {
    const sizes = await Promise.all(
      files.map(async (f) => (await stat(f)).size),
    );
    key = `${version}-${sizes.join('-')}`;
  } else {
    const hash = createHash('sha256');
    for (const f of files) hash.update(await readFile(f));
    key = hash.digest('hex').slice(0, 32);
  }
  return `asn-${key}.bin`.replace(/[^\w.-]/g, '_');
}

/**
 * Removes the cache files of other dataset versions beside `keep`: one file
 * per dataset, not one more after every update.
 */
async function removeStaleCaches(keep: string): Promise<void> {
  const dir = dirname(keep);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (CACHE_FILE.test(name) && name !== basename(keep)) {
      await unlink(join(dir, name)).catch(() => undefined);
    }
  }
}

async function buildPackagedTable(dir: string): Promise<AsnTable> {
  const builder = new AsnTableBuilder('table');
  // One file at a time, to keep the peak memory of a load low.
  for (const family of ['v4', 'v6'] as const) {
    const file = `asn-ip${family}-num.csv`;
    const data = await readData(join(dir, file));
    try {
      new AsnFileParser(data, builder, family).parse();
    } catch (err) {
      const where = err instanceof LineError ? ` line ${err.line}` : '';
      throw new Error(`${file}${where}: ${(err as Error).message}`);
    }
  }
  return builder.build();
}

/**
 * An IP-to-ASN file given with `--asn-db FILE`, optionally gzip-compressed
 * (detected by its magic bytes, so `.gz` or not). Two formats, told apart by
 * the first data line:
 *
 * - CSV as in `@ip-location-db/asn`:
 *   `ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization`,
 *   inclusive ranges, no header, the organisation RFC 4180-quoted when it holds
 *   a comma. Bounds are addresses (IPv4 and IPv6 rows may be mixed) or decimal
 *   integers as in the `-num` files; integers are IPv6 when the file name
 *   contains `ipv6`, IPv4 when it contains `ipv4`, else IPv6 when the end
 *   exceeds 2^32-1.
 * - TSV as from iptoasn.com (`ip2asn-v4.tsv`, `ip2asn-v6.tsv`,
 *   `ip2asn-combined.tsv`):
 *   `range_start\trange_end\tAS_number\tcountry_code\tAS_description`; rows
 *   with AS 0 (not routed) are skipped.
 *
 * Blank lines, `#` comments and one header line are ignored; overlapping
 * ranges resolve to the more specific one. Owners have source `user-db`.
 * Any read or parse error rejects {@link LoadableAsnPort.load} with
 * {@link AsnSourceError} (`EXO_ASN_DB`); a lookup after a failed load answers
 * `none`.
 */
export function createFileAsnSource(path: string): LoadableAsnPort {
  const loadTable = async (): Promise<AsnTable> => {
    let data: Buffer;
    try {
      data = await readData(path);
    } catch (err) {
      throw new AsnSourceError(
        `cannot read ASN database ${path}: ${(err as Error).message}`,
        path,
        { cause: err },
      );
    }
    const builder = new AsnTableBuilder('user-db');
    try {
      new AsnFileParser(data, builder, familyFromName(path)).parse();
    } catch (err) {
      const line = err instanceof LineError ? err.line : undefined;
      throw new AsnSourceError(
        `ASN database ${path}${line ? ` line ${line}` : ''}: ${(err as Error).message}`,
        path,
        line === undefined ? { cause: err } : { cause: err, line },
      );
    }
    const table = builder.build();
    if (table.size === 0) {
      throw new AsnSourceError(`ASN database ${path} has no ranges`, path);
    }
    return table;
  };
  return new LoadedSource(loadTable, (err) => (err as Error).message, true);
}

// ---------------------------------------------------------------------------
// Team Cymru

/** Options of {@link createCymruAsnSource}. */
export interface CymruAsnSourceOptions {
  /** Most cached answers kept (prefix and ASN caches each); default 50 000. */
  maxCacheEntries?: number;
}

/** A Map that forgets its oldest entries beyond a size. */
class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

interface OriginAnswer {
  asn: number;
  prefix: string;
  prefixLength: number;
}

/** Cached for a /24 (IPv4) or /48 (IPv6) when the origin prefix is no longer. */
const BLOCK_BITS = { ipv4: 24, ipv6: 48 } as const;

function cymruOriginName(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (addr.kind() === 'ipv4') {
    return `${addr.toByteArray().reverse().join('.')}.origin.asn.cymru.com`;
  }
  const nibbles = addr
    .toByteArray()
    .flatMap((b) => [(b >> 4).toString(16), (b & 15).toString(16)]);
  return `${nibbles.reverse().join('.')}.origin6.asn.cymru.com`;
}

function blockKey(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  const bits = BLOCK_BITS[addr.kind()];
  const bytes = addr.toByteArray().slice(0, bits / 8);
  return `${addr.kind()}/${bits}:${bytes.join('.')}`;
}

/** `"8075 15169 | 52.96.0.0/12 | US | arin | 2015-..."` → first AS and prefix. */
function parseOrigin(
  text: string,
  addr: ipaddr.IPv4 | ipaddr.IPv6,
): OriginAnswer | null {
  const fields = text.split('|').map((f) => f.trim());
  const asnText = fields[0]?.split(/\s+/)[0] ?? '';
  const prefix = fields[1] ?? '';
  if (!/^\d{1,10}$/.test(asnText) || Number(asnText) > MAX_U32) return null;
  if (!ipaddr.isValidCIDR(prefix)) return null;
  const cidr = ipaddr.parseCIDR(prefix);
  if (cidr[0].kind() !== addr.kind() || !addr.match(cidr)) return null;
  return {
    asn: Number(asnText),
    prefix: `${cidr[0].toString()}/${cidr[1]}`,
    prefixLength: cidr[1],
  };
}

/** `"8075 | US | arin | 2000-.. | MICROSOFT-CORP-MSN-AS-BLOCK - Microsoft Corporation, US"` → org. */
function parseAsName(text: string, asn: number): string | null {
  const fields = text.split('|');
  if (fields.length < 5 || fields[0]?.trim() !== String(asn)) return null;
  return sanitizeOrg(fields.slice(4).join('|'));
}

/**
 * Team Cymru's IP-to-ASN DNS interface, through the given {@link DnsPort}:
 * TXT `<reversed-v4>.origin.asn.cymru.com` (IPv6: nibble-reversed under
 * `origin6.asn.cymru.com`) for the origin AS and prefix, then TXT
 * `AS<n>.asn.cymru.com` for the AS name. Answers are cached per /24 (IPv4) or
 * /48 (IPv6) and names per AS; failures are not cached. A failed query or an
 * unreadable answer gives the `none` owner; it never throws. Private and other
 * special-purpose addresses are answered `none` without a query.
 */
export function createCymruAsnSource(
  dns: DnsPort,
  options: CymruAsnSourceOptions = {},
): LoadableAsnPort {
  const max = options.maxCacheEntries ?? 50_000;
  const origins = new BoundedCache<Promise<OriginAnswer | null | 'failed'>>(
    max,
  );
  const names = new BoundedCache<Promise<string | null>>(max);

  const askOrigin = async (
    addr: ipaddr.IPv4 | ipaddr.IPv6,
  ): Promise<OriginAnswer | null | 'failed'> => {
    const result = await dns.query(cymruOriginName(addr), 'TXT');
    if (isFailure(result.status)) return 'failed';
    if (result.status !== 'ok') return null;
    for (const txt of result.records) {
      const answer = parseOrigin(txt, addr);
      if (answer) return answer;
    }
    return null;
  };

  const origin = async (
    addr: ipaddr.IPv4 | ipaddr.IPv6,
  ): Promise<OriginAnswer | null | 'failed'> => {
    const block = blockKey(addr);
    const exact = `${addr.kind()}:${addr.toString()}`;
    const cached = origins.get(block) ?? origins.get(exact);
    if (cached) return cached;
    const pending = askOrigin(addr).catch(() => 'failed' as const);
    origins.set(exact, pending);
    const answer = await pending;
    if (answer === 'failed') {
      origins.delete(exact);
    } else if (
      answer === null ||
      answer.prefixLength <= BLOCK_BITS[addr.kind()]
    ) {
      // The whole block shares the answer (no origin: an unrouted block).
      origins.set(block, pending);
      origins.delete(exact);
    }
    return answer;
  };

  const asName = (asn: number): Promise<string | null> => {
    const key = String(asn);
    const cached = names.get(key);
    if (cached) return cached;
    const pending = (async (): Promise<string | null> => {
      const result = await dns.query(`AS${asn}.asn.cymru.com`, 'TXT');
      if (result.status !== 'ok') {
        if (isFailure(result.status)) names.delete(key);
        return null;
      }
      for (const txt of result.records) {
        const org = parseAsName(txt, asn);
        if (org !== null) return org;
      }
      return null;
    })().catch(() => {
      names.delete(key);
      return null;
    });
    names.set(key, pending);
    return pending;
  };

  return {
    async lookup(ip: string): Promise<IpOwner> {
      try {
        const addr = parseIp(ip);
        if (!addr || addr.range() !== 'unicast') return noOwner();
        const answer = await origin(addr);
        if (answer === null || answer === 'failed') return noOwner();
        const org = (await asName(answer.asn)) ?? '';
        return {
          asn: answer.asn,
          org,
          prefix: answer.prefix,
          source: 'cymru',
        };
      } catch {
        return noOwner();
      }
    },
    load: () => Promise.resolve(),
    warnings: () => [],
    size: () => 0,
  };
}
