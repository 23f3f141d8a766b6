import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type {
  DnsPort,
  QueryResult,
  QueryStatus,
  QueryType,
} from '../../src/core/dns.js';
import { createCymruAsnSource } from '../../src/adapters/asn/cymru-asn-source.js';
import {
  AsnSourceError,
  createFileAsnSource,
} from '../../src/adapters/asn/file-asn-source.js';
import { createPackagedAsnSource } from '../../src/adapters/asn/packaged-asn-source.js';

const NONE = { asn: null, org: '', prefix: '', source: 'none' };

describe('packaged source (@ip-location-db/asn)', () => {
  const source = createPackagedAsnSource({ cacheDir: null });

  const cases: [string, number, RegExp][] = [
    ['52.101.40.26', 8075, /Microsoft/],
    ['52.101.8.1', 8075, /Microsoft/],
    ['40.107.22.33', 8075, /Microsoft/],
    ['40.107.255.1', 8075, /Microsoft/],
    ['142.250.102.27', 15169, /Google/],
    ['142.250.150.26', 15169, /Google/],
    ['185.58.84.10', 42427, /Mimecast/],
    ['185.58.85.200', 42427, /Mimecast/],
    ['148.163.128.5', 13916, /Proofpoint/],
    ['209.222.80.5', 15324, /Barracuda/],
    ['209.222.81.250', 15324, /Barracuda/],
    ['35.176.92.5', 16509, /Amazon/],
    ['2a01:111:f400:7e8b::5', 8075, /Microsoft/],
    ['2a00:1450:400c:c0a::1b', 15169, /Google/],
  ];
  it.each(cases)('%s → AS%d', async (ip, asn, org) => {
    const owner = await source.lookup(ip);
    expect(owner).toMatchObject({ asn, source: 'table' });
    expect(owner.org).toMatch(org);
    expect(owner.prefix).toMatch(/\/\d+$/);
  });

  it.each(['198.18.0.0', '198.18.1.1', '198.19.255.255', '10.1.2.3', 'bogus'])(
    '%s has no owner',
    async (ip) => {
      expect(await source.lookup(ip)).toEqual(NONE);
    },
  );

  it('loads once for concurrent callers, without warnings', async () => {
    const fresh = createPackagedAsnSource();
    expect(fresh.size()).toBe(0);
    expect(fresh.load()).toBe(fresh.load());
    const owners = await Promise.all([
      fresh.lookup('142.250.1.1'),
      fresh.lookup('40.107.1.1'),
      fresh.load(),
    ]);
    expect(owners[0]).toMatchObject({ asn: 15169 });
    expect(owners[1]).toMatchObject({ asn: 8075 });
    expect(fresh.size()).toBeGreaterThan(400_000);
    expect(fresh.warnings()).toEqual([]);
  });

  it('keeps the built table in the cache folder and reads it back on the next run', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'exoscope-asn-cache-'));
    try {
      const first = createPackagedAsnSource({ cacheDir });
      const built = await first.lookup('52.101.40.26');
      const files = await readdir(cacheDir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^asn-2\.3\.\d+-.*\.bin$/);
      const second = createPackagedAsnSource({ cacheDir });
      expect(await second.lookup('52.101.40.26')).toEqual(built);
      expect(await second.lookup('2a00:1450:400c:c0a::1b')).toMatchObject({
        asn: 15169,
      });
      // a damaged cache is rebuilt from the dataset, not trusted
      await writeFile(join(cacheDir, files[0] as string), 'EXOASN01 garbage');
      const third = createPackagedAsnSource({ cacheDir });
      expect(await third.lookup('52.101.40.26')).toEqual(built);
      expect(third.warnings()).toEqual([]);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('keeps one cache file per dataset content: a rewritten dataset (npm ci) reuses it, a new version replaces it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'exoscope-asn-key-'));
    const dataDir = join(root, 'data');
    const cacheDir = join(root, 'cache');
    try {
      await mkdir(dataDir);
      const packaged = dirname(
        createRequire(import.meta.url).resolve(
          '@ip-location-db/asn/package.json',
        ),
      );
      const csvs = ['asn-ipv4-num.csv', 'asn-ipv6-num.csv'];
      for (const f of [...csvs, 'package.json']) {
        await copyFile(join(packaged, f), join(dataDir, f));
      }
      const load = async (): Promise<string[]> => {
        const source = createPackagedAsnSource({ dataDir, cacheDir });
        expect(await source.lookup('52.101.40.26')).toMatchObject({
          asn: 8075,
        });
        return readdir(cacheDir);
      };
      const first = await load();
      expect(first).toHaveLength(1);

      // the same bytes written again, as npm ci does: same cache file
      const later = new Date(Date.now() + 86_400_000);
      for (const f of csvs) await utimes(join(dataDir, f), later, later);
      expect(await load()).toEqual(first);

      // a new version of the dataset: its own file, the old one removed
      const pkgPath = join(dataDir, 'package.json');
      const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as {
        version: string;
      };
      await writeFile(pkgPath, JSON.stringify({ ...pkg, version: '9.9.9' }));
      const updated = await load();
      expect(updated).toHaveLength(1);
      expect(updated[0]).toMatch(/^asn-9\.9\.9-/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('answers none with one warning when the data is missing', async () => {
    const broken = createPackagedAsnSource({
      dataDir: join(tmpdir(), 'exoscope-no-such-dir'),
    });
    await expect(broken.load()).resolves.toBeUndefined();
    expect(await broken.lookup('142.250.1.1')).toEqual(NONE);
    expect(await broken.lookup('40.107.1.1')).toEqual(NONE);
    expect(broken.warnings()).toHaveLength(1);
    expect(broken.warnings()[0]).toMatch(/@ip-location-db\/asn/);
  });
});

describe('file source (--asn-db)', () => {
  let dir: string;
  const file = (name: string): string => join(dir, name);

  const csv = [
    '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
    '8.8.8.0,8.8.8.255,15169,Google LLC',
    '2.26.200.0,2.26.215.255,201907,"LLC ""SPUTNIK"""',
    '2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC',
    '',
  ].join('\n');
  const tsv = [
    '1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET',
    '1.0.1.0\t1.0.3.255\t0\tNone\tNot routed',
    '8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE',
    '2001:4860::\t2001:4860:ffff:ffff:ffff:ffff:ffff:ffff\t15169\tUS\tGOOGLE',
    '',
  ].join('\r\n');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exoscope-asn-'));
    await writeFile(file('asn.csv'), csv);
    await writeFile(file('ip2asn-combined.tsv'), tsv);
    await writeFile(file('asn.csv.gz'), gzipSync(csv));
    await writeFile(file('ip2asn.tsv.gz'), gzipSync(tsv));
    await writeFile(
      file('asn-ipv4-num.csv'),
      '134744064,134744319,15169,Google LLC\n',
    );
    await writeFile(
      file('asn-ipv6-num.csv'),
      '0,65535,64512,Low\n42541956101370907050197289607612071936,42541956180599069564461627201156022271,15169,Google LLC\n',
    );
    await writeFile(
      file('header.csv'),
      'ip_range_start,ip_range_end,asn,org\n# comment\n8.8.8.0,8.8.8.255,15169,Google LLC\n',
    );
    await writeFile(
      file('bad-range.csv'),
      '8.8.8.0,8.8.8.255,15169,G\nnot,an,ip\n',
    );
    await writeFile(
      file('bad-asn.csv'),
      '8.8.8.0,8.8.8.255,AS-GOOGLE,Google\n',
    );
    await writeFile(file('inverted.csv'), '8.8.8.255,8.8.8.0,15169,Google\n');
    await writeFile(file('empty.csv'), '# nothing here\n\n');
    await writeFile(file('short.csv'), '8.8.8.0,8.8.8.255\n');
    await writeFile(file('bad.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3, 4]));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['asn.csv', 'asn.csv.gz'])(
    'reads ip-location-db CSV (%s)',
    async (name) => {
      const source = createFileAsnSource(file(name));
      await source.load();
      expect(await source.lookup('1.0.0.1')).toEqual({
        asn: 13335,
        org: 'Cloudflare, Inc.',
        prefix: '1.0.0.0/24',
        source: 'user-db',
      });
      expect(await source.lookup('2.26.200.1')).toMatchObject({
        asn: 201907,
        org: 'LLC "SPUTNIK"',
      });
      expect(await source.lookup('2001:4860:4860::8888')).toMatchObject({
        asn: 15169,
        prefix: '2001:4860::/32',
      });
      expect(await source.lookup('9.9.9.9')).toEqual(NONE);
      expect(source.size()).toBe(4);
    },
  );

  it.each(['ip2asn-combined.tsv', 'ip2asn.tsv.gz'])(
    'reads iptoasn.com TSV (%s)',
    async (name) => {
      const source = createFileAsnSource(file(name));
      await source.load();
      expect(await source.lookup('1.0.0.1')).toMatchObject({
        asn: 13335,
        org: 'CLOUDFLARENET',
        source: 'user-db',
      });
      // AS 0 rows are unrouted space
      expect(await source.lookup('1.0.2.1')).toEqual(NONE);
      expect(await source.lookup('8.8.8.8')).toMatchObject({
        asn: 15169,
        org: 'GOOGLE',
      });
      expect(await source.lookup('2001:4860::1')).toMatchObject({
        asn: 15169,
      });
      expect(source.size()).toBe(3);
    },
  );

  it('reads the numeric -num files by their names', async () => {
    const v4 = createFileAsnSource(file('asn-ipv4-num.csv'));
    expect(await v4.lookup('8.8.8.8')).toMatchObject({
      asn: 15169,
      prefix: '8.8.8.0/24',
    });
    const v6 = createFileAsnSource(file('asn-ipv6-num.csv'));
    expect(await v6.lookup('::1')).toMatchObject({ asn: 64512 });
    expect(await v6.lookup('0.0.0.1')).toEqual(NONE);
    expect(await v6.lookup('2001:4860::1')).toMatchObject({
      asn: 15169,
      prefix: '2001:4860::/32',
    });
  });

  it('skips a header and comments', async () => {
    const source = createFileAsnSource(file('header.csv'));
    await source.load();
    expect(await source.lookup('8.8.8.8')).toMatchObject({ asn: 15169 });
  });

  it.each([
    ['missing.csv', undefined],
    ['bad-range.csv', 2],
    ['bad-asn.csv', 1],
    ['inverted.csv', 1],
    ['empty.csv', undefined],
    ['short.csv', 1],
    ['bad.gz', undefined],
  ])('rejects %s with EXO_ASN_DB', async (name, line) => {
    const source = createFileAsnSource(file(name));
    const err: unknown = await source.load().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AsnSourceError);
    expect(err).toMatchObject({ code: 'EXO_ASN_DB', path: file(name), line });
    // the error is kept: a second load rejects the same way, lookups answer none
    await expect(source.load()).rejects.toMatchObject({ code: 'EXO_ASN_DB' });
    expect(await source.lookup('8.8.8.8')).toEqual(NONE);
    expect(source.warnings()).toHaveLength(1);
  });
});

describe('Team Cymru source', () => {
  type Canned = { status: QueryStatus; records?: string[] };

  function fakeDns(answers: Record<string, Canned>): DnsPort & {
    asked: string[];
  } {
    const asked: string[] = [];
    return {
      asked,
      query<T extends QueryType>(name: string, type: T) {
        asked.push(name);
        const canned = answers[name] ?? { status: 'nxdomain' };
        const result: QueryResult<T> = {
          name,
          type,
          status: canned.status,
          records: (canned.records ?? []) as QueryResult<T>['records'],
          resolver: '127.0.0.1:53',
          ms: 1,
        };
        return Promise.resolve(result);
      },
    };
  }

  const microsoft = {
    '26.40.101.52.origin.asn.cymru.com': {
      status: 'ok',
      records: ['8075 | 52.96.0.0/12 | US | arin | 2015-08-10'],
    },
    'AS8075.asn.cymru.com': {
      status: 'ok',
      records: [
        '8075 | US | arin | 2000-03-27 | MICROSOFT-CORP-MSN-AS-BLOCK - Microsoft Corporation, US',
      ],
    },
  } satisfies Record<string, Canned>;

  it('reads origin and AS name for IPv4', async () => {
    const dns = fakeDns(microsoft);
    const source = createCymruAsnSource(dns);
    expect(await source.lookup('52.101.40.26')).toEqual({
      asn: 8075,
      org: 'MICROSOFT-CORP-MSN-AS-BLOCK - Microsoft Corporation, US',
      prefix: '52.96.0.0/12',
      source: 'cymru',
    });
    expect(dns.asked).toEqual([
      '26.40.101.52.origin.asn.cymru.com',
      'AS8075.asn.cymru.com',
    ]);
  });

  it('caches per /24 and names per AS', async () => {
    const dns = fakeDns(microsoft);
    const source = createCymruAsnSource(dns);
    await source.lookup('52.101.40.26');
    const again = await source.lookup('52.101.40.99');
    expect(again).toMatchObject({ asn: 8075, prefix: '52.96.0.0/12' });
    expect(dns.asked).toHaveLength(2);
  });

  it('forgets the least recently used blocks beyond maxCacheEntries', async () => {
    const dns = fakeDns({});
    const source = createCymruAsnSource(dns, { maxCacheEntries: 4 });
    for (let block = 1; block <= 10; block++) {
      await source.lookup(`${20 + block}.0.0.1`);
    }
    expect(dns.asked).toHaveLength(10);
    await source.lookup('30.0.0.2');
    expect(dns.asked).toHaveLength(10);
    await source.lookup('21.0.0.2');
    expect(dns.asked).toHaveLength(11);
  });

  it('does not share an answer for a prefix longer than /24', async () => {
    const dns = fakeDns({
      '1.0.0.203.origin.asn.cymru.com': {
        status: 'ok',
        records: ['64500 | 203.0.0.0/25 | ZZ | apnic | 2020-01-01'],
      },
      '200.0.0.203.origin.asn.cymru.com': {
        status: 'ok',
        records: ['64501 | 203.0.0.128/25 | ZZ | apnic | 2020-01-01'],
      },
    });
    const source = createCymruAsnSource(dns);
    expect(await source.lookup('203.0.0.1')).toMatchObject({ asn: 64500 });
    expect(await source.lookup('203.0.0.200')).toMatchObject({
      asn: 64501,
      org: '',
    });
  });

  it('reads IPv6 through origin6 with nibbles reversed', async () => {
    const name =
      'b.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.a.0.c.0.c.0.0.4.0.5.4.1.0.0.a.2.origin6.asn.cymru.com';
    const dns = fakeDns({
      [name]: {
        status: 'ok',
        records: ['15169 | 2a00:1450::/32 | IE | ripencc | 2009-10-05'],
      },
      'AS15169.asn.cymru.com': {
        status: 'ok',
        records: ['15169 | US | arin | 2000-03-30 | GOOGLE - Google LLC, US'],
      },
    });
    const source = createCymruAsnSource(dns);
    expect(await source.lookup('2a00:1450:400c:c0a::1b')).toEqual({
      asn: 15169,
      org: 'GOOGLE - Google LLC, US',
      prefix: '2a00:1450::/32',
      source: 'cymru',
    });
    expect(dns.asked[0]).toBe(name);
  });

  it('takes the first of several origin ASes', async () => {
    const dns = fakeDns({
      '1.1.168.192.origin.asn.cymru.com': { status: 'nxdomain' },
      '8.8.8.8.origin.asn.cymru.com': {
        status: 'ok',
        records: ['15169 64500 | 8.8.8.0/24 | US | arin | 2023-12-28'],
      },
    });
    const source = createCymruAsnSource(dns);
    expect(await source.lookup('8.8.8.8')).toMatchObject({
      asn: 15169,
      prefix: '8.8.8.0/24',
    });
  });

  it('answers none on timeout, and asks again next time', async () => {
    const dns = fakeDns({
      '8.8.8.8.origin.asn.cymru.com': { status: 'timeout' },
    });
    const source = createCymruAsnSource(dns);
    expect(await source.lookup('8.8.8.8')).toEqual(NONE);
    expect(await source.lookup('8.8.8.8')).toEqual(NONE);
    expect(dns.asked).toHaveLength(2);
  });

  it.each([
    ['not a cymru answer'],
    ['| | |'],
    ['abc | 8.8.8.0/24 | US | arin | 2023-12-28'],
    ['99999999999 | 8.8.8.0/24 | US | arin |'],
    ['15169 | 8.8.8.0/33 | US | arin |'],
    ['15169 | 9.9.9.0/24 | US | arin | 2023-12-28'],
    ['15169 | 2001:db8::/32 | US | arin |'],
    ['15169'],
  ])('answers none for garbage %j', async (text) => {
    const dns = fakeDns({
      '8.8.8.8.origin.asn.cymru.com': { status: 'ok', records: [text] },
    });
    expect(await createCymruAsnSource(dns).lookup('8.8.8.8')).toEqual(NONE);
  });

  it('keeps the AS when its name is unreadable, and sanitises names', async () => {
    const origin = {
      '8.8.8.8.origin.asn.cymru.com': {
        status: 'ok',
        records: ['15169 | 8.8.8.0/24 | US | arin | 2023-12-28'],
      },
    } satisfies Record<string, Canned>;
    const timedOut = fakeDns({
      ...origin,
      'AS15169.asn.cymru.com': { status: 'timeout' },
    });
    expect(await createCymruAsnSource(timedOut).lookup('8.8.8.8')).toEqual({
      asn: 15169,
      org: '',
      prefix: '8.8.8.0/24',
      source: 'cymru',
    });
    const hostile = fakeDns({
      ...origin,
      'AS15169.asn.cymru.com': {
        status: 'ok',
        records: [
          `15169 | US | arin | 2000 | EVIL\u001b[2J\r\n${'x'.repeat(300)}`,
        ],
      },
    });
    const owner = await createCymruAsnSource(hostile).lookup('8.8.8.8');
    expect(owner.org.startsWith('EVIL [2J x')).toBe(true);
    expect(owner.org).toHaveLength(128);
    // eslint-disable-next-line no-control-regex
    expect(owner.org).not.toMatch(/[\u0000-\u001f]/);
  });

  it('asks nothing for private, reserved or invalid addresses', async () => {
    const dns = fakeDns({});
    const source = createCymruAsnSource(dns);
    for (const ip of ['10.0.0.1', '198.18.0.1', '127.0.0.1', 'fe80::1', 'x']) {
      expect(await source.lookup(ip)).toEqual(NONE);
    }
    expect(dns.asked).toEqual([]);
  });

  it('never rejects when the port throws', async () => {
    const dns: DnsPort = {
      query: () => Promise.reject(new Error('boom')),
    };
    expect(await createCymruAsnSource(dns).lookup('8.8.8.8')).toEqual(NONE);
  });
});
