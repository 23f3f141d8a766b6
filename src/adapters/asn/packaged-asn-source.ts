/**
 * The IP-to-ASN dataset shipped in the `@ip-location-db/asn` npm package,
 * with the built table cached on disk between runs.
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
import { AsnTableBuilder } from '../../core/asn-table.js';
import type { AsnTable } from '../../core/asn-table.js';
import { decodeAsnTable, encodeAsnTable } from '../../core/asn-table-codec.js';
import { AsnFileParser, LineError, readAsnData } from './asn-file-parser.js';
import { LoadedSource } from './loaded-asn-source.js';
import type { LoadableAsnPort } from './loaded-asn-source.js';

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
    const data = await readAsnData(join(dir, file));
    try {
      new AsnFileParser(data, builder, family).parse();
    } catch (err) {
      const where = err instanceof LineError ? ` line ${err.line}` : '';
      throw new Error(`${file}${where}: ${(err as Error).message}`);
    }
  }
  return builder.build();
}
