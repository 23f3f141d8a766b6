import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLASSIFICATIONS } from '../../src/core/classify.js';
import { generatePortfolio } from '../../scripts/portfolio/generate.js';
import {
  FAMILIES,
  FAMILY_SHARES,
  VARIANTS,
} from '../../scripts/portfolio/variants.js';

const dirs: string[] = [];
function generate(count: number, seed: number) {
  const out = mkdtempSync(join(tmpdir(), 'exoscope-portfolio-unit-'));
  dirs.push(out);
  return { out, manifest: generatePortfolio({ count, seed, out }) };
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every file of a portfolio directory, by relative path. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true })) {
    const path = join(dir, String(entry));
    if (String(entry).includes('.'))
      out[String(entry)] = readFileSync(path, 'utf8');
  }
  return out;
}

const lines = (text: string): string[] => text.trim().split('\n');

describe('portfolio generator', () => {
  const a = generate(1000, 7);

  it('writes the same bytes for the same count and seed, other domains for another seed', () => {
    const b = generate(1000, 7);
    const c = generate(1000, 8);
    const fa = files(a.out);
    expect(Object.keys(fa).sort()).toEqual(
      expect.arrayContaining([
        'domains.csv',
        'ground-truth.csv',
        'ground-truth-detail.csv',
        'queries.txt',
        'zones.list',
        'manifest.json',
        'zones/test.zone',
      ]),
    );
    expect(files(b.out)).toEqual(fa);
    expect(files(c.out)['domains.csv']).not.toEqual(fa['domains.csv']);
  });

  it('keeps the class mix exactly', () => {
    for (const family of FAMILIES) {
      expect(a.manifest.families[family]).toBe(
        Math.round((1000 * FAMILY_SHARES[family]) / 100),
      );
    }
    expect(Object.values(FAMILY_SHARES).reduce((x, y) => x + y)).toBe(100);
  });

  it('gives every domain a verdict of exoscope and a variant of its table', () => {
    const ids = new Map(VARIANTS.map((v) => [v.id, v]));
    expect(ids.size).toBe(VARIANTS.length);
    const detail = lines(
      readFileSync(join(a.out, 'ground-truth-detail.csv'), 'utf8'),
    );
    expect(detail[0]).toBe('domain,expected_class,variant,mx_hosts,tenant');
    const domains = lines(readFileSync(join(a.out, 'domains.csv'), 'utf8'));
    expect(domains.slice(1)).toEqual(
      detail.slice(1).map((l) => l.split(',')[0]),
    );
    expect(new Set(domains).size).toBe(domains.length);
    for (const row of detail.slice(1)) {
      const [domain, expected, variant] = row.split(',');
      expect(CLASSIFICATIONS).toContain(expected);
      expect(ids.get(variant ?? '')?.expected).toBe(expected);
      expect(domain).toMatch(/^[a-z0-9-]+\.(test|co\.test|example|invalid)$/);
    }
  });

  it('writes each record into the zone it belongs to, own hosts only in RFC 2544 space', () => {
    const list = lines(readFileSync(join(a.out, 'zones.list'), 'utf8'));
    for (const line of list) {
      const [zone = '', file = ''] = line.split(' ');
      const records = lines(readFileSync(join(a.out, 'zones', file), 'utf8'));
      for (const record of records.slice(1)) {
        const [owner = '', , , type, data] = record.split(' ');
        expect(owner === zone || owner.endsWith(`.${zone}`)).toBe(true);
        // the portfolio's own addresses are data: never anything routable
        if (type === 'A' && (zone === 'test.' || zone === 'example.')) {
          expect(data).toMatch(/^198\.(18|19)\.\d+\.\d+$/);
        }
      }
    }
  });

  it('plans about ten queries a domain, the first MX host among them', () => {
    expect(a.manifest.queries_per_domain).toBeGreaterThan(9);
    expect(a.manifest.queries_per_domain).toBeLessThan(11);
    const queries = readFileSync(join(a.out, 'queries.txt'), 'utf8');
    expect(queries).toMatch(/\.mail\.protection\.outlook\.com A\n/);
  });
});
