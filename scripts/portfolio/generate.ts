#!/usr/bin/env node
/**
 * Generates a synthetic managed-service-provider portfolio: the domain list
 * (exoscope's input), the verdict each domain must get (ground truth), the
 * zone files that make their DNS answer like the real thing (served by Knot:
 * scripts/dns-servers.ts), and the classification query plan (the DNS floor:
 * scripts/dns-floor.ts). Same count and seed, byte-identical files.
 *
 *   node dist/scripts/portfolio/generate.js --count 100000 --seed 1 --out DIR
 *
 * Files in DIR: domains.csv (header `domain`), domains.txt, ground-truth.csv
 * (`domain,expected_class`), ground-truth-detail.csv (`domain,
 * expected_class,variant,mx_hosts,tenant`), queries.txt (`name TYPE` lines),
 * zones/<zone>.zone, zones.list (`<zone>. <file>`), manifest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LineFile } from './line-files.js';
import { NameSource } from './names.js';
import { PROVIDER_ZONES, emitProviders } from './providers.js';
import type { Emit } from './providers.js';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';
import { FAMILIES, FAMILY_SHARES, VARIANTS } from './variants.js';
import type { DomainContext, Family, Variant } from './variants.js';
import { runAsScript } from '../run-as-script.js';

export interface PortfolioOptions {
  count: number;
  seed: number;
  out: string;
}

export interface Manifest {
  generator: 'exoscope portfolio';
  count: number;
  seed: number;
  families: Record<string, number>;
  variants: Record<string, number>;
  expected: Record<string, number>;
  queries_per_domain: number;
  records: Record<string, number>;
}

/** The portfolio's own zones: `co.test` names live in `test`. */
const PORTFOLIO_ZONES = ['test', 'example'] as const;

/** Names of the query plan, per domain (then the first MX host's A and AAAA). */
const PLAN: ReadonlyArray<readonly [string, string]> = [
  ['', 'MX'],
  ['', 'TXT'],
  ['autodiscover.', 'CNAME'],
  ['selector1._domainkey.', 'CNAME'],
  ['selector2._domainkey.', 'CNAME'],
  ['_dmarc.', 'TXT'],
  ['lyncdiscover.', 'CNAME'],
  ['enterpriseregistration.', 'CNAME'],
];

/** Zone files written as records arrive, one per served zone. */
class ZoneFiles {
  private readonly files = new Map<string, LineFile>();

  /** Zone files go to `<out>/zones`, their list to `<out>/zones.list`. */
  constructor(
    private readonly out: string,
    serial: number,
  ) {
    for (const zone of [...PORTFOLIO_ZONES, ...PROVIDER_ZONES]) {
      const file = new LineFile(join(out, 'zones', `${zone}.zone`));
      file.write('$TTL 3600');
      file.write(
        `${zone}. 3600 IN SOA ns1.portfolio.invalid. hostmaster.portfolio.invalid. ${serial} 7200 3600 1209600 300`,
      );
      file.write(`${zone}. 3600 IN NS ns1.portfolio.invalid.`);
      this.files.set(zone, file);
    }
  }

  /** The zone serving `name`: its longest served suffix. */
  zoneOf(name: string): string | null {
    for (let rest = name; ;) {
      if (this.files.has(rest)) return rest;
      const dot = rest.indexOf('.');
      if (dot === -1) return null;
      rest = rest.slice(dot + 1);
    }
  }

  readonly emit: Emit = (name, ttl, type, data) => {
    const zone = this.zoneOf(name);
    const file = zone === null ? undefined : this.files.get(zone);
    if (!file) throw new Error(`no served zone for ${name}`);
    file.write(`${name}. ${ttl} IN ${type} ${data}`);
  };

  close(): Record<string, number> {
    const records: Record<string, number> = {};
    const list: string[] = [];
    for (const [zone, file] of this.files) {
      file.close();
      records[zone] = file.lines - 1; // less the $TTL line
      list.push(`${zone}. ${zone}.zone`);
    }
    writeFileSync(join(this.out, 'zones.list'), `${list.join('\n')}\n`);
    return records;
  }
}

/** Exactly `count` family slots in the shares of FAMILY_SHARES, shuffled. */
function familyOrder(count: number, rng: Rng): Uint8Array {
  const order = new Uint8Array(count);
  let at = 0;
  FAMILIES.forEach((family, i) => {
    const n =
      i === FAMILIES.length - 1
        ? count - at
        : Math.round((count * FAMILY_SHARES[family]) / 100);
    order.fill(i, at, at + n);
    at += n;
  });
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** Microsoft's per-domain labels and the tenants of a portfolio. */
class Microsoft {
  private readonly keys = new Set<string>();
  private readonly tenants = new Set<string>();
  private readonly recent: string[] = [];

  constructor(private readonly rng: Rng) {}

  /**
   * The domain with dots turned into dashes; when two domains map to the
   * same label (a-b.co.test and a-b-co.test), Microsoft appends a suffix.
   */
  key(domain: string): string {
    const base = domain.replace(/\./g, '-');
    let key = base;
    while (this.keys.has(key))
      key = `${base}0${this.rng.chars(2, '0123456789abcdef')}`;
    this.keys.add(key);
    return key;
  }

  /** About 15 % of tenants hold several domains of the portfolio. */
  tenant(domain: string): string {
    const r = this.rng;
    if (this.recent.length > 0 && r.chance(0.15)) return r.pick(this.recent);
    let base = (domain.split('.')[0] ?? domain).replace(/-/g, '').slice(0, 24);
    if (r.chance(0.2)) base += r.pick(['ltd', 'uk', 'grp', 'it']);
    let name = base;
    for (let i = 2; this.tenants.has(name); i++) name = `${base}${i}`;
    this.tenants.add(name);
    this.recent.push(name);
    if (this.recent.length > 64) this.recent.shift();
    return name;
  }
}

function byFamily(): Map<Family, Array<readonly [Variant, number]>> {
  const map = new Map<Family, Array<readonly [Variant, number]>>();
  for (const v of VARIANTS) {
    if (v.weight <= 0) continue;
    const list = map.get(v.family) ?? [];
    list.push([v, v.weight]);
    map.set(v.family, list);
  }
  return map;
}

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Writes the portfolio into `out` and returns its manifest. */
export function generatePortfolio(options: PortfolioOptions): Manifest {
  const { count, seed, out } = options;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new Error(`count must be a whole number of at least 1, got ${count}`);
  }
  const rng = createRng(seed);
  // the providers draw from a stream of their own: adding a variant does not move them
  const providerRng = createRng((seed ^ 0x5a17c0de) >>> 0);
  mkdirSync(join(out, 'zones'), { recursive: true });
  const zones = new ZoneFiles(out, 2026000000 + (seed % 1000));
  emitProviders(providerRng, zones.emit);

  const files = {
    csv: new LineFile(join(out, 'domains.csv')),
    txt: new LineFile(join(out, 'domains.txt')),
    truth: new LineFile(join(out, 'ground-truth.csv')),
    detail: new LineFile(join(out, 'ground-truth-detail.csv')),
    queries: new LineFile(join(out, 'queries.txt')),
  };
  files.csv.write('domain');
  files.truth.write('domain,expected_class');
  files.detail.write('domain,expected_class,variant,mx_hosts,tenant');

  const names = new NameSource(rng);
  const microsoft = new Microsoft(rng);
  const variants = byFamily();
  const families: Record<string, number> = {};
  const variantCounts: Record<string, number> = {};
  const expected: Record<string, number> = {};
  for (const slot of familyOrder(count, rng)) {
    const family = FAMILIES[slot] as Family;
    const variant = rng.weighted(variants.get(family) ?? []);
    const domain = names.next(variant.unserved ? 'invalid' : undefined);
    let key: string | null = null;
    let tenant = '';
    const c: DomainContext = {
      domain,
      rng,
      emit: zones.emit,
      mxHosts: [],
      msKey: () => (key ??= microsoft.key(domain)),
      tenant: () => (tenant ||= microsoft.tenant(domain)),
    };
    variant.build(c);

    files.csv.write(domain);
    files.txt.write(domain);
    files.truth.write(`${domain},${variant.expected}`);
    files.detail.write(
      [domain, variant.expected, variant.id, c.mxHosts.join(';'), tenant].join(
        ',',
      ),
    );
    for (const [prefix, type] of PLAN)
      files.queries.write(`${prefix}${domain} ${type}`);
    const first = c.mxHosts[0];
    if (first) {
      files.queries.write(`${first} A`);
      files.queries.write(`${first} AAAA`);
    }
    bump(families, family);
    bump(variantCounts, variant.id);
    bump(expected, variant.expected);
  }
  for (const f of Object.values(files)) f.close();
  const sorted = (o: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(o).sort(([a], [b]) => a.localeCompare(b)),
    );
  const manifest: Manifest = {
    generator: 'exoscope portfolio',
    count,
    seed,
    families: sorted(families),
    variants: sorted(variantCounts),
    expected: sorted(expected),
    queries_per_domain: Number((files.queries.lines / count).toFixed(2)),
    records: zones.close(),
  };
  writeFileSync(
    join(out, 'manifest.json'),
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
  return manifest;
}

const USAGE =
  'usage: generate.js --out DIR [--count N (100000)] [--seed S (1)]';

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`portfolio: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const count = Number(values.count ?? 100_000);
  const seed = Number(values.seed ?? 1);
  if (
    !values.out ||
    !Number.isSafeInteger(count) ||
    count < 1 ||
    !Number.isSafeInteger(seed) ||
    seed < 0
  ) {
    process.stderr.write(
      `portfolio: --out DIR is required; --count and --seed are whole numbers\n${USAGE}\n`,
    );
    return 2;
  }
  const m = generatePortfolio({ count, seed, out: values.out });
  process.stderr.write(
    `portfolio: ${m.count} domains, ${Object.values(m.records).reduce((a, b) => a + b, 0)} records, ${m.queries_per_domain} queries/domain -> ${values.out}\n`,
  );
  return 0;
}

runAsScript(import.meta.url, 'portfolio', main);
