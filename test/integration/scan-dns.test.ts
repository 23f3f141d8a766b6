/**
 * A scan against DNS that fails, lies, stays silent or sends hostile
 * answers: the built CLI against fake DNS servers on loopback.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CELL_CHARS, RESULT_COLUMNS } from '../../src/core/output-row.js';
import { classify } from '../../src/core/classify.js';
import type { DnsPort, QueryResult, QueryType } from '../../src/core/dns.js';
import { noOwner } from '../../src/core/ip-owner.js';
import { DEFAULT_SCAN_LIMITS, scanDomain } from '../../src/core/scan-domain.js';
import {
  MAX_RECORD_CHARS,
  MAX_RECORDS,
} from '../../src/core/untrusted-text.js';
import { startBlackHole, startFakeDnsServer } from '../helpers/dns-server.js';
import type {
  Behaviour,
  FakeDnsServer,
  FakeRecord,
} from '../helpers/dns-server.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  readCsv,
  expectNoFormula,
  expectOneLineError,
  tempFiles,
} from '../helpers/output-checks.js';
import { mx, a, cname, txt, askedNames } from '../helpers/fake-dns.js';

const EOP_HOST = 'contoso-test.mail.protection.outlook.com';

const records: FakeRecord[] = [
  // the ways a domain receives no mail
  a('nomx.test', '198.18.1.1'),
  mx('nullmx.test', '.', 0),
  mx('mixednull.test', '.', 0),
  mx('mixednull.test', 'mail.mixednull.test', 10),
  a('mail.mixednull.test', '198.18.1.2'),
  // a healthy domain, answered by every good server
  mx('fine.test', 'mail.fine.test'),
  a('mail.fine.test', '198.18.1.3'),
  // domains whose queries misbehave (see `faults`)
  ...['trunc', 'garbage', 'wrongid', 'formerr', 'silent', 'garbagetxt'].flatMap(
    (n) => [
      mx(`${n}.test`, `mail.${n}.test`),
      a(`mail.${n}.test`, '198.18.1.4'),
    ],
  ),
  // bystanders of garbage replies
  ...Array.from({ length: 60 }, (_, i) => [
    mx(`ok${i}.test`, `mail.ok${i}.test`),
    a(`mail.ok${i}.test`, `198.18.9.${i}`),
  ]).flat(),
  // MX targets
  mx('literal.test', '198.18.2.2'),
  mx('mxalias.test', 'mx.mxalias.test'),
  cname('mx.mxalias.test', 'mail.mxalias.test'),
  a('mail.mxalias.test', '198.18.2.3'),
  mx('dangling.test', 'nowhere.dangling.test'),
  mx('mxloop.test', 'mx.mxloop.test'),
  cname('mx.mxloop.test', 'mx2.mxloop.test'),
  cname('mx2.mxloop.test', 'mx.mxloop.test'),
  cname('loop.test', 'loop2.test'),
  cname('loop2.test', 'loop.test'),
  ...Array.from({ length: 24 }, (_, i) =>
    cname(`c${i}.chain.test`, `c${i + 1}.chain.test`),
  ),
  mx('c24.chain.test', 'mail.fine.test'),
  // wildcards, as web hosters set them up: every name under the domain
  // answers, autodiscover included, which would read as an own server
  mx('wild.test', 'mail.wild.test'),
  a('mail.wild.test', '198.18.3.1'),
  cname('*.wild.test', 'wild.test'),
  mx('wilda.test', 'mail.wilda.test'),
  a('mail.wilda.test', '198.18.3.3'),
  a('*.wilda.test', '198.18.3.99'),
  mx('wildeop.test', 'wildeop-test.mail.protection.outlook.com', 0),
  a('wildeop-test.mail.protection.outlook.com', '52.101.1.2'),
  cname('*.wildeop.test', 'parking.hoster.test'),
  mx('wildtxt.test', 'mail.wildtxt.test'),
  a('mail.wildtxt.test', '198.18.3.4'),
  txt('*.wildtxt.test', 'v=spf1 -all'),
  // hostile answers
  mx('bigtxt.test', 'mail.bigtxt.test'),
  a('mail.bigtxt.test', '198.18.4.1'),
  txt(
    'bigtxt.test',
    Array.from({ length: 256 }, (_, i) =>
      String.fromCharCode(65 + (i % 26)).repeat(250),
    ),
  ),
  mx('manytxt.test', 'mail.manytxt.test'),
  a('mail.manytxt.test', '198.18.4.2'),
  ...Array.from({ length: 300 }, (_, i) =>
    txt('manytxt.test', `v=spf1 include:_spf${i}.manytxt.test -all`),
  ),
  ...Array.from({ length: 300 }, (_, i) =>
    mx('manymx.test', `mx${i}.manymx.test`, i),
  ),
  ...Array.from({ length: 300 }, (_, i) =>
    a('mx0.manymx.test', `198.18.${5 + Math.floor(i / 250)}.${i % 250}`),
  ),
  mx('controls.test', 'mail.controls.test'),
  a('mail.controls.test', '198.18.4.3'),
  txt(
    'controls.test',
    'v=spf1 \u0007\u001b[31mred\r\n=cmd|x \u202egnp.exe\u202c ip4:198.18.4.3 -all',
  ),
  mx('bytes.test', 'mail.bytes.test'),
  a('mail.bytes.test', '198.18.4.4'),
  {
    name: 'bytes.test',
    type: 'TXT',
    data: [
      Buffer.from([
        0x76, 0x3d, 0x73, 0x70, 0x66, 0x31, 0x20, 0xff, 0x80, 0x00, 0x41,
      ]),
    ] as unknown as string[],
  },
  txt('bytes.test', 'note: café ✓'),
  mx('formula.test', '=cmd.formula.test', 0),
  mx('formula.test', EOP_HOST, 10),
  a(EOP_HOST, '52.101.1.1'),
  txt('formula.test', '=HYPERLINK("http://evil.test")'),
  txt('formula.test', '+1-1'),
  cname('autodiscover.formula.test', 'autodiscover.outlook.com'),
  // an Exchange Online domain, for the owner-data tests
  mx('exo.test', EOP_HOST, 0),
  cname('autodiscover.exo.test', 'autodiscover.outlook.com'),
];

/** Misbehaviour by name: every query about these names, over UDP and TCP. */
function faults(name: string, type: string, proto: 'udp' | 'tcp'): Behaviour {
  if (name === 'trunc.test' || name === 'trunc-notcp.test') return 'truncate';
  if (name === 'garbage.test') return 'garbage';
  if (name === 'wrongid.test') return 'wrong-id';
  if (name === 'formerr.test') return 'formerr';
  if (name === 'garbagetxt.test' && type === 'TXT') return 'garbage';
  if (name.endsWith('silent.test')) return 'drop';
  if (name.endsWith('.cymru.com')) return 'servfail';
  void proto;
  return 'answer';
}

let server: FakeDnsServer;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  server = await startFakeDnsServer({ records, behaviour: faults });
  tmp = tempDir('dns');
});
afterAll(async () => {
  await server?.close();
  tmp?.remove();
});

function input(name: string, lines: string[]): string {
  const path = join(tmp.path, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Scans a plain list through the given resolvers; rows keyed by column. */
async function scan(
  domains: string[],
  resolvers: string[],
  extra: string[] = [],
): Promise<{ rows: Record<string, string>[]; stdout: string; stderr: string }> {
  const run = await runCli([
    'scan',
    input('domains.txt', domains),
    ...resolvers.flatMap((r) => ['--resolver', r]),
    '--asn-source',
    'none',
    ...extra,
  ]);
  expect(run.stderr).toContain(`scanned ${domains.length} rows`);
  expect(run.code).toBe(0);
  const rows = readCsv(run.stdout);
  expect(rows.map((r) => r.input)).toEqual(domains);
  return { rows, stdout: run.stdout, stderr: run.stderr };
}

const column = (rows: Record<string, string>[], name: string): string[] =>
  rows.map((r) => r[name] ?? '');

const FAST = ['--timeout', '200', '--retries', '1'];

/** A server that answers the pre-flight and `answer()`s the rest its way. */
function startFailing(kind: Behaviour): Promise<FakeDnsServer> {
  return startFakeDnsServer({
    records,
    behaviour: (name) => (name.endsWith('.invalid') ? 'answer' : kind),
  });
}

describe('a scan against failing and hostile DNS', () => {
  it('NXDOMAIN, NODATA, null MX and null MX mixed with real MX → distinct statuses', async () => {
    const { rows } = await scan(
      ['absent.test', 'nomx.test', 'nullmx.test', 'mixednull.test'],
      [server.address],
    );
    expect(column(rows, 'status')).toEqual([
      'nxdomain',
      'no-mx',
      'null-mx',
      'ok',
    ]);
    expect(column(rows, 'classification')).toEqual([
      'no-mail',
      'no-mail',
      'no-mail',
      'self-hosted',
    ]);
    expect(column(rows, 'reasons').map((r) => r.split(';')[0])).toEqual([
      'status-nxdomain',
      'status-no-mx',
      'status-null-mx',
      'own-server-mx',
    ]);
    expect(rows[3]?.reasons).toContain('null-mx-mixed');
    expect(rows[3]?.mx_hosts).toBe('mail.mixednull.test');
  });

  it('SERVFAIL or REFUSED from one resolver → answered by the next; from all → unresolved with that status', async () => {
    const servfail = await startFailing('servfail');
    const refused = await startFailing('refused');
    try {
      for (const bad of [servfail, refused]) {
        const { rows } = await scan(
          ['fine.test', 'mixednull.test'],
          [bad.address, server.address],
          ['--retries', '1'],
        );
        expect(column(rows, 'status')).toEqual(['ok', 'ok']);
        expect(column(rows, 'classification')).toEqual([
          'self-hosted',
          'self-hosted',
        ]);
        expect(column(rows, 'error')).toEqual(['', '']);
        // the failing resolver was asked (queries rotate), its answer not taken
        expect(
          askedNames(bad).filter((n) => !n.endsWith('.invalid')),
        ).not.toEqual([]);
      }

      const allServfail = await scan(['fine.test'], [servfail.address]);
      expect(allServfail.rows[0]).toMatchObject({
        classification: 'unresolved',
        status: 'servfail',
      });
      expect(allServfail.rows[0]?.error).toMatch(/fine\.test MX: servfail/);
      const allRefused = await scan(['fine.test'], [refused.address]);
      expect(allRefused.rows[0]).toMatchObject({
        classification: 'unresolved',
        status: 'refused',
      });
    } finally {
      await servfail.close();
      await refused.close();
    }
  });

  it('a black-hole resolver beside a good one: every query answered by the good one; the run finishes', async () => {
    const hole = await startBlackHole();
    try {
      const domains = ['fine.test', 'mixednull.test', 'nomx.test', 'exo.test'];
      const { rows } = await scan(
        domains,
        [hole.address, server.address],
        FAST,
      );
      expect(column(rows, 'status')).toEqual(['ok', 'ok', 'no-mx', 'ok']);
      expect(column(rows, 'error')).toEqual(['', '', '', '']);
      expect(column(rows, 'reasons').join()).not.toContain('partial-evidence');
    } finally {
      await hole.close();
    }
  });

  it('names that are never answered hit the per-query deadline: rows unresolved/timeout, the run finishes', async () => {
    const { rows } = await scan(
      ['silent.test', 'fine.test', 'also.silent.test'],
      [server.address],
      FAST,
    );
    expect(column(rows, 'classification')).toEqual([
      'unresolved',
      'self-hosted',
      'unresolved',
    ]);
    expect(column(rows, 'status')).toEqual(['timeout', 'ok', 'timeout']);
    expect(rows[0]?.error).toBe('silent.test MX: timeout');
  });

  // Each query has its deadline, each domain only the sum of its sequential
  // queries: up to ~22 (apex CNAME chain, MX host CNAME chain, autodiscover,
  // wildcard, Cymru) × (retries + 1) × --timeout. Needs a domain deadline in
  // scan-domain.ts's ScanLimits (see the report).
  it('a domain whose every answer comes just before the deadline ends at a per-domain deadline', async () => {
    // Every answer takes 900 ms of a fake clock: a slow resolver that never
    // trips the per-query deadline. The domain's own deadline stops the scan.
    let clock = 0;
    const slow: DnsPort = {
      query<T extends QueryType>(
        name: string,
        type: T,
      ): Promise<QueryResult<T>> {
        clock += 900;
        const records = (
          type === 'MX'
            ? [{ exchange: `mail.${name}`, priority: 10 }]
            : type === 'A'
              ? ['198.18.0.1']
              : []
        ) as QueryResult<T>['records'];
        return Promise.resolve({
          name,
          type,
          status: records.length ? 'ok' : 'nodata',
          records,
          resolver: 'slow',
          ms: 900,
        });
      },
    };
    const ev = await scanDomain(
      'slow.test',
      {
        dns: slow,
        asn: { lookup: () => Promise.resolve(noOwner()) },
        now: () => clock,
      },
      { ...DEFAULT_SCAN_LIMITS, domainDeadlineMs: 2000 },
    );
    const spent = ev.queries.filter((q) => q.error === 'domain deadline spent');
    expect(spent.length).toBeGreaterThan(0);
    expect(spent.every((q) => q.status === 'timeout')).toBe(true);
    // the answers that came in time still count; the rest is a stated failure
    expect(ev.mx.map((m) => m.exchange)).toEqual(['mail.slow.test']);
    expect(ev.failures.join()).toMatch(/timeout \(domain deadline spent\)/);
    // autodiscover was cut off too: the verdict is unknown, not a guess
    expect(ev.status).toBe('timeout');
    expect(classify(ev).classification).toBe('unresolved');
  });

  it('no resolver reachable → the pre-flight check fails with one message; nothing written', async () => {
    const hole = await startBlackHole();
    try {
      const out = join(tmp.path, 'unreachable.csv');
      const run = await runCli([
        'scan',
        input('many.txt', ['fine.test', 'exo.test', 'nomx.test']),
        '-o',
        out,
        '--resolver',
        hole.address,
        '--resolver',
        '127.0.0.1:9',
        ...FAST,
      ]);
      expectOneLineError(run, 1, /no DNS resolver answered \(127\.0\.0\.1:/);
      expect(run.stderr).toContain(hole.address);
      expect(run.stdout).toBe('');
      expect(tempFiles(tmp.path)).toEqual([]);
      expect(existsSync(out)).toBe(false);
    } finally {
      await hole.close();
    }
  });

  it('a truncated UDP answer is asked again over TCP; with TCP refused too → a stated error, not "no record"', async () => {
    const { rows } = await scan(['trunc.test'], [server.address]);
    expect(rows[0]).toMatchObject({
      status: 'ok',
      mx_hosts: 'mail.trunc.test',
    });
    expect(
      server.queries.map((q) => `${q.proto} ${q.type} ${q.name.toLowerCase()}`),
    ).toContain('tcp MX trunc.test');

    const udpOnly = await startFakeDnsServer({
      records,
      behaviour: faults,
      tcp: false,
    });
    try {
      const { rows: noTcp } = await scan(['trunc.test'], [udpOnly.address]);
      expect(noTcp[0]).toMatchObject({
        classification: 'unresolved',
        status: 'error',
        error: 'trunc.test MX: error (ECONNREFUSED)',
      });
    } finally {
      await udpOnly.close();
    }
  });

  it('MX to an IP literal, to a name that does not resolve; CNAME loops and long chains → flagged, bounded, classified sensibly', async () => {
    const { rows } = await scan(
      ['literal.test', 'dangling.test', 'loop.test', 'c0.chain.test'],
      [server.address],
    );
    expect(rows[0]).toMatchObject({ status: 'ok', mx_ips: '198.18.2.2' });
    expect(rows[0]?.reasons).toContain('mx-ip-literal');
    expect(rows[1]).toMatchObject({
      status: 'mx-dangling',
      classification: 'no-mail',
    });
    expect(rows[1]?.error).toContain('nowhere.dangling.test');
    expect(rows[2]).toMatchObject({
      status: 'cname-loop',
      classification: 'unresolved',
    });
    expect(rows[2]?.error).toMatch(/CNAME loop: loop\.test -> loop2\.test/);
    expect(rows[3]).toMatchObject({
      status: 'cname-loop',
      classification: 'unresolved',
    });
    // bounded: the chain is followed to 16 aliases and one past them
    expect(rows[3]?.error).toMatch(/^CNAME chain longer than 16 aliases/);
    expect((rows[3]?.error ?? '').split(' -> ').length).toBe(19);
  });

  it('an MX host that is an alias is followed to its addresses', async () => {
    const { rows } = await scan(['mxalias.test'], [server.address]);
    expect(rows[0]).toMatchObject({
      status: 'ok',
      classification: 'self-hosted',
      mx_hosts: 'mx.mxalias.test',
      mx_ips: '198.18.2.3',
    });
  });

  // A recursor (the usual resolver) answers the MX host's A query through
  // the alias, so the scan never sees the CNAME: RFC 2181 §10.3's "MX must
  // not be an alias" goes unflagged. Needs scan-domain.ts to ask the MX
  // host's CNAME too (see the report).
  it('an MX host that is an alias is flagged mx-cname behind a recursor', async () => {
    const { rows } = await scan(['mxalias.test'], [server.address]);
    expect(rows[0]?.reasons).toContain('mx-cname');
  });

  // An MX host in a CNAME loop ends as status `error` with the message
  // "MX host mx.mxloop.test: error": the loop is in the evidence but not in
  // the row. Needs scan-domain.ts to report it as `cname-loop` (see the
  // report).
  it('an MX host in a CNAME loop → unresolved, not "no mail"', async () => {
    const { rows } = await scan(['mxloop.test'], [server.address]);
    expect(rows[0]).toMatchObject({ classification: 'unresolved' });
    expect(rows[0]?.error).toContain('mx.mxloop.test');
  });
  it('an MX host in a CNAME loop is named a loop', async () => {
    const { rows } = await scan(['mxloop.test'], [server.address]);
    expect(rows[0]?.status).toBe('cname-loop');
    expect(rows[0]?.error).toMatch(/loop/i);
  });

  it('a wildcard zone: wildcard answers are not taken as autodiscover evidence', async () => {
    const { rows } = await scan(
      ['wild.test', 'wilda.test', 'wildeop.test'],
      [server.address],
    );
    // Taken as evidence, the wildcard makes EOP MX + "own" autodiscover hybrid.
    expect(column(rows, 'classification')).toEqual([
      'self-hosted',
      'self-hosted',
      'exchange-online',
    ]);
    for (const row of rows) {
      expect(row.reasons).toContain('autodiscover-wildcard-ignored');
      expect(row.reasons).not.toMatch(/autodiscover-exo|autodiscover-onprem/);
    }
  });

  // The autodiscover.service and exchangedelegation probes are answered by
  // the wildcard too, and classify takes any answer there as a signal: the
  // reasons column lists Microsoft 365 evidence that is not there. Needs
  // scan-domain.ts / classify.ts to discount probe answers that equal the
  // wildcard's (see the report).
  it('a wildcard zone: no autodiscover.service or exchange-delegation signal from wildcard answers', async () => {
    const { rows } = await scan(
      ['wild.test', 'wildtxt.test'],
      [server.address],
    );
    expect(rows[0]?.reasons).not.toContain('autodiscover-service');
    expect(rows[1]?.reasons).not.toContain('exchange-delegation');
  });

  it('hostile answers (64 KB TXT, hundreds of records, control characters, non-UTF-8 bytes, formulas) → capped, escaped, neutralised; every row still gets its verdict', async () => {
    const domains = [
      'bigtxt.test',
      'manytxt.test',
      'manymx.test',
      'controls.test',
      'bytes.test',
      'formula.test',
    ];
    const { rows, stdout } = await scan(domains, [server.address]);
    expect(column(rows, 'classification')).toEqual([
      'self-hosted',
      'self-hosted',
      'self-hosted',
      'self-hosted',
      'self-hosted',
      'exchange-online',
    ]);
    expectNoFormula(stdout);
    const marker = /…\[\+\d+\]$/;
    for (const row of rows) {
      for (const col of RESULT_COLUMNS) {
        const cell = row[col] ?? '';
        expect(cell.replace(marker, '').length).toBeLessThanOrEqual(
          MAX_CELL_CHARS,
        );
        // eslint-disable-next-line no-control-regex
        expect(cell).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
      }
    }
    // hundreds of MX hosts: capped with the marker; a host's hundreds of
    // addresses: the first 64 kept (the evidence caps them too)
    expect(rows[2]?.mx_hosts).toMatch(marker);
    expect(rows[2]?.mx_ips?.split(';')).toHaveLength(64);
    // control characters and bidi overrides escaped, visibly
    expect(rows[3]?.spf).toBe(
      'v=spf1 \\x07\\x1b[31mred\\x0d\\x0a=cmd|x \\u202egnp.exe\\u202c ip4:198.18.4.3 -all',
    );
    // bytes that are not UTF-8: one character a byte, controls escaped
    expect(rows[4]?.spf).toBe('v=spf1 ÿ\\x80\\x00A');
    // formula-looking names from DNS are neutralised where they land
    expect(rows[5]?.mx_hosts).toBe(`'=cmd.formula.test;${EOP_HOST}`);
    expect(rows[5]?.error).toMatch(/^'=cmd\.formula\.test A: error/);

    // The evidence (JSONL) keeps capped text: record count and length
    const jsonl = await runCli([
      'scan',
      input('hostile.txt', domains),
      '--resolver',
      server.address,
      '--asn-source',
      'none',
      '--format',
      'jsonl',
    ]);
    expect(jsonl.code).toBe(0);
    const evidence = jsonl.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          (
            JSON.parse(l) as {
              evidence: { txt: string[]; queries: { records: unknown[] }[] };
            }
          ).evidence,
      );
    expect(evidence).toHaveLength(domains.length);
    for (const ev of evidence) {
      expect(ev.txt.length).toBeLessThanOrEqual(MAX_RECORDS);
      for (const t of ev.txt)
        expect(t.replace(/…\[\+\d+\]$/, '').length).toBeLessThanOrEqual(
          MAX_RECORD_CHARS,
        );
      for (const q of ev.queries)
        expect(q.records.length).toBeLessThanOrEqual(MAX_RECORDS);
    }
    expect(evidence[0]?.txt[0]).toMatch(/^A{250}B{250}/);
    // UTF-8 text in a TXT record reads as text, not as mojibake
    expect(evidence[4]?.txt).toContain('note: café ✓');
  });

  it('garbage, mismatched-id and FORMERR replies → that query fails, the other rows are answered, no crash', async () => {
    const { rows, stderr } = await scan(
      [
        'garbage.test',
        'fine.test',
        'wrongid.test',
        'formerr.test',
        'garbagetxt.test',
      ],
      [server.address],
      FAST,
    );
    expect(column(rows, 'classification')).toEqual([
      'unresolved',
      'self-hosted',
      'unresolved',
      'unresolved',
      'self-hosted',
    ]);
    expect(column(rows, 'status')).toEqual([
      'error',
      'ok',
      'timeout',
      'error',
      'ok',
    ]);
    expect(rows[0]?.error).toBe('garbage.test MX: error (EBADRESP)');
    expect(rows[3]?.error).toBe('formerr.test MX: error (EFORMERR)');
    // only the TXT query failed: a verdict with lowered confidence
    expect(rows[4]?.confidence).toBe('low');
    expect(rows[4]?.reasons).toContain('partial-evidence');
    expect(rows[4]?.error).toMatch(/garbagetxt\.test TXT: error/);
    expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
  });

  it('a garbage reply fails only its own query, not the others in flight beside it', async () => {
    // c-ares ends every query on a socket that received garbage; the
    // adapter retries those alone, so only the garbage's own query fails.
    const domains = Array.from({ length: 60 }, (_, i) =>
      i % 6 === 0 ? 'garbage.test' : `ok${i}.test`,
    );
    const { rows } = await scan(domains, [server.address], FAST);
    rows.forEach((row, i) => {
      if (i % 6 === 0) {
        expect(row).toMatchObject({
          status: 'error',
          error: 'garbage.test MX: error (EBADRESP)',
        });
      } else {
        expect(row).toMatchObject({
          status: 'ok',
          error: '',
          confidence: 'medium',
        });
      }
    });
  });

  it('no IP-to-ASN data, or Team Cymru failing → the verdict still comes from DNS; owner columns say unknown', async () => {
    const none = await scan(['exo.test'], [server.address]);
    expect(none.rows[0]).toMatchObject({
      classification: 'exchange-online',
      mx_ips: '52.101.1.1',
      mx_asns: 'unknown',
      mx_orgs: '',
    });

    const before = server.queries.length;
    const run = await runCli([
      'scan',
      input('exo.txt', ['exo.test']),
      '--resolver',
      server.address,
      '--asn-source',
      'cymru',
      ...FAST,
    ]);
    expect(run.code).toBe(0);
    const rows = readCsv(run.stdout);
    expect(rows[0]).toMatchObject({
      classification: 'exchange-online',
      confidence: 'high',
      mx_asns: 'unknown',
      mx_orgs: '',
    });
    // Cymru was asked (and failed), not skipped
    expect(askedNames(server).slice(before)).toContain(
      '1.1.101.52.origin.asn.cymru.com',
    );
  });
});

/**
 * Issue 16 item 7: chains longer than a recursor follows. `deep.test` and
 * the MX host of `deepmx.test` are 24 aliases deep; `long.test` and the MX
 * host of `longmx.test` 12, which our own following resolves. One server
 * hands back the first 16 aliases and stops, as BIND did at its restart
 * limit; the other delivers whole chains of any length.
 */
describe('CNAME chains longer than a recursor follows', () => {
  const chain = (
    from: string,
    zone: string,
    hops: number,
    end: FakeRecord,
  ): FakeRecord[] => [
    ...Array.from({ length: hops }, (_, i) =>
      cname(i === 0 ? from : `h${i}.${zone}`, `h${i + 1}.${zone}`),
    ),
    { ...end, name: `h${hops}.${zone}` },
  ];
  const long: FakeRecord[] = [
    ...records,
    ...chain('deep.test', 'deep.test', 24, mx('', 'mail.fine.test')),
    mx('deepmx.test', 'h0.deepmx.test'),
    ...chain('h0.deepmx.test', 'deepmx.test', 24, a('', '198.18.7.1')),
    ...chain('long.test', 'long.test', 12, mx('', 'mail.fine.test')),
    mx('longmx.test', 'h0.longmx.test'),
    ...chain('h0.longmx.test', 'longmx.test', 12, a('', '198.18.7.2')),
  ];
  const DOMAINS = ['deep.test', 'deepmx.test', 'long.test', 'longmx.test'];
  let cut: FakeDnsServer;
  let whole: FakeDnsServer;
  beforeAll(async () => {
    cut = await startFakeDnsServer({ records: long, maxCnameHops: 16 });
    whole = await startFakeDnsServer({ records: long, maxCnameHops: 1000 });
  });
  afterAll(async () => {
    await cut?.close();
    await whole?.close();
  });

  for (const client of ['udp', 'tcp', 'cares']) {
    it(`a chain cut at the recursor's limit is unresolved, never "no mail" (--dns-client ${client})`, async () => {
      const { rows } = await scan(
        DOMAINS,
        [cut.address],
        ['--dns-client', client],
      );
      expect(rows[0]).toMatchObject({
        status: 'cname-loop',
        classification: 'unresolved',
      });
      expect(rows[0]?.error).toMatch(
        /^CNAME chain longer than 16 aliases, not followed further: deep\.test -> h1\.deep\.test -> /,
      );
      expect(rows[1]).toMatchObject({
        status: 'cname-loop',
        classification: 'unresolved',
      });
      expect(rows[1]?.error).toMatch(
        /^MX host h0\.deepmx\.test: CNAME chain longer than 16 aliases/,
      );
      // Longer than the recursor went, within our limit: followed to the end.
      expect(rows[2]).toMatchObject({
        status: 'ok',
        mx_hosts: 'mail.fine.test',
      });
      expect(rows[3]).toMatchObject({ status: 'ok', mx_ips: '198.18.7.2' });
    });

    it(`a whole chain delivered by the recursor is taken at any length (--dns-client ${client})`, async () => {
      const { rows } = await scan(
        DOMAINS,
        [whole.address],
        ['--dns-client', client],
      );
      expect(column(rows, 'status')).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(column(rows, 'mx_ips')).toEqual([
        '198.18.1.3',
        '198.18.7.1',
        '198.18.1.3',
        '198.18.7.2',
      ]);
    });
  }
});

/**
 * Issue 16 item 8: an off-path spoofer who knows the client's port and the
 * names asked floods forged replies: each the asked name in random case
 * with a forged answer of its type. The same scan through a clean server
 * gives the rows to compare with.
 */
describe('forged replies over UDP', () => {
  const domains = Array.from(
    { length: 20 },
    (_, i) => `customer-number-${i}-of-the-spoofing-test.test`,
  );
  const zone: FakeRecord[] = domains.flatMap((d, i) => [
    mx(d, `mail.${d}`),
    a(`mail.${d}`, `198.18.8.${i + 1}`),
    txt(d, 'v=spf1 -all'),
    ...(i % 2 === 0
      ? [cname(`autodiscover.${d}`, 'autodiscover.outlook.com')]
      : []),
  ]);
  const options = ['--dns-client', 'udp', '--concurrency', '2'];
  let expected: string;
  let clean: FakeDnsServer;
  beforeAll(async () => {
    clean = await startFakeDnsServer({ records: zone });
    expected = (await scan(domains, [clean.address], options)).stdout;
  });
  afterAll(async () => {
    await clean?.close();
  });

  it('300 forged replies with random ids a query change no row', async () => {
    const spoofed = await startFakeDnsServer({
      records: zone,
      spoofPerQuery: 300,
    });
    try {
      const attacked = await scan(
        domains,
        [spoofed.address],
        [...options, '--timeout', '5000'],
      );
      expect(attacked.stdout).toBe(expected);
      const udp = spoofed.queries.filter((q) => q.proto === 'udp');
      expect(udp.length).toBeGreaterThan(domains.length * 5);
    } finally {
      await spoofed.close();
    }
  }, 120_000);

  it('a forged reply that guessed the id changes no row', async () => {
    // What one of 65536 blind forgeries does: without DNS 0x20 it is taken.
    const spoofed = await startFakeDnsServer({
      records: zone,
      spoofPerQuery: 'guessed-id',
    });
    try {
      const attacked = await scan(domains, [spoofed.address], options);
      expect(attacked.stdout).toBe(expected);
      // each forgery sent its query over TCP, where no forger reaches
      const tcp = spoofed.queries.filter((q) => q.proto === 'tcp');
      expect(tcp.length).toBeGreaterThan(domains.length * 5);
    } finally {
      await spoofed.close();
    }
  });
});
