/**
 * `scan --probe` against real HTTPS servers on loopback addresses, in zones
 * that point every host the probe may contact there. Runs only in a
 * loopback-only network namespace (scripts/loopback-only.sh): the probe follows DNS
 * answers, and nothing but these servers may be reachable.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDnsServer } from '../helpers/dns-server.js';
import type { FakeDnsServer, FakeRecord } from '../helpers/dns-server.js';
import {
  assertLoopbackOnly,
  selfSigned,
  startServer,
} from '../helpers/https-fixture.js';
import type { FixtureServer, Handler } from '../helpers/https-fixture.js';
import { runCli } from '../helpers/cli.js';
import { readCsv } from '../helpers/output-checks.js';
import { REDIS_URL, freshPrefix } from '../helpers/queue-world.js';

assertLoopbackOnly();

const VERSION = (
  JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
).version;

const LOGON = '/owa/auth/logon.aspx?url=https%3a%2f%2fmail%2fowa%2f&reason=0';

/** Exchange: /owa/ redirects to the logon page; `opts` says what it tells. */
function exchange(opts: {
  header?: string;
  pageBuild?: string;
  exportTool?: string;
}): Handler {
  return (req, res) => {
    const headers: Record<string, string> = { 'X-FEServer': 'EXCH01' };
    if (opts.header) headers['X-OWA-Version'] = opts.header;
    if (req.url === '/owa/') {
      res.writeHead(302, { ...headers, Location: LOGON }).end();
    } else if (req.url?.startsWith('/owa/auth/logon.aspx')) {
      const icon = opts.pageBuild
        ? `<link rel="shortcut icon" href="/owa/auth/${opts.pageBuild}/themes/resources/favicon.ico" type="image/x-icon">`
        : '';
      res
        .writeHead(200, { ...headers, 'Content-Type': 'text/html' })
        .end(`<html><head><title>Outlook</title>${icon}</head></html>`);
    } else if (
      req.url?.startsWith('/ecp/Current/exporttool/') &&
      opts.exportTool
    ) {
      res
        .writeHead(200, { 'Content-Type': 'application/x-ms-application' })
        .end(
          `<?xml version="1.0" encoding="utf-8"?><asmv1:assembly xmlns:asmv1="urn:schemas-microsoft-com:asm.v1"><assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="${opts.exportTool}" publicKeyToken="b03f5f7f11d50a3a" language="neutral" processorArchitecture="msil" xmlns="urn:schemas-microsoft-com:asm.v1" /></asmv1:assembly>`,
        );
    } else {
      res.writeHead(404, headers).end();
    }
  };
}

const webmail: Handler = (_req, res) => {
  res
    .writeHead(200, { 'Content-Type': 'text/html', Server: 'nginx' })
    .end('<html><title>Roundcube Webmail :: Welcome</title></html>');
};

const redirectAway: Handler = (_req, res) => {
  res.writeHead(302, { Location: 'https://elsewhere.test/owa/' }).end();
};

const endless: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  const chunk = Buffer.alloc(16 * 1024, 'a');
  const push = (): void => {
    while (res.write(chunk));
  };
  res.on('drain', push);
  res.on('error', () => undefined);
  push();
};

/** Host → [address, server behaviour]. */
const HOSTS = {
  ex16: '127.0.0.11',
  ex19: '127.0.0.12',
  ex13: '127.0.0.13',
  webmail: '127.0.0.14',
  silent: '127.0.0.15',
  redirect: '127.0.0.16',
  elsewhere: '127.0.0.17',
  endless: '127.0.0.18',
  plain: '127.0.0.19',
  shared: '127.0.0.20',
  refused: '127.0.0.21',
} as const;

const DOMAINS = [
  'ex16.test',
  'ex19.test',
  'ex13.test',
  'webmail.test',
  'silent.test',
  'redirect.test',
  'endless.test',
  'plain.test',
  'shared1.test',
  'shared2.test',
  'refused.test',
  'data.test',
];

function mx(domain: string, host: string): FakeRecord {
  return { name: domain, type: 'MX', data: { preference: 10, exchange: host } };
}
const a = (name: string, data: string): FakeRecord => ({
  name,
  type: 'A',
  data,
});

const RECORDS: FakeRecord[] = [
  mx('ex16.test', 'mail.ex16.test'),
  a('mail.ex16.test', HOSTS.ex16),
  mx('ex19.test', 'mail.ex19.test'),
  a('mail.ex19.test', HOSTS.ex19),
  { name: 'autodiscover.ex19.test', type: 'CNAME', data: 'mail.ex19.test' },
  mx('ex13.test', 'mail.ex13.test'),
  a('mail.ex13.test', HOSTS.ex13),
  {
    name: 'ex13.test',
    type: 'TXT',
    data: 'v=spf1 include:spf.protection.outlook.com -all',
  },
  mx('webmail.test', 'mail.webmail.test'),
  a('mail.webmail.test', HOSTS.webmail),
  a('autodiscover.webmail.test', HOSTS.webmail),
  mx('silent.test', 'mail.silent.test'),
  a('mail.silent.test', HOSTS.silent),
  mx('redirect.test', 'mail.redirect.test'),
  a('mail.redirect.test', HOSTS.redirect),
  a('elsewhere.test', HOSTS.elsewhere),
  mx('endless.test', 'mail.endless.test'),
  a('mail.endless.test', HOSTS.endless),
  mx('plain.test', 'mail.plain.test'),
  a('mail.plain.test', HOSTS.plain),
  mx('shared1.test', 'exchange.hoster.test'),
  mx('shared2.test', 'exchange.hoster.test'),
  a('exchange.hoster.test', HOSTS.shared),
  mx('refused.test', 'mail.refused.test'),
  a('mail.refused.test', HOSTS.refused),
  // A "data" address: never contacted, --probe-allow 127.0.0.0/8 or not.
  mx('data.test', 'mail.data.test'),
  a('mail.data.test', '198.51.100.7'),
];

let dns: FakeDnsServer;
let dir: string;
let input: string;
let port: number;
const servers: FixtureServer[] = [];

beforeAll(async () => {
  dns = await startFakeDnsServer({ records: RECORDS });
  dir = mkdtempSync(join(tmpdir(), 'exoscope-probe-'));
  input = join(dir, 'domains.csv');
  writeFileSync(input, `domain\n${DOMAINS.join('\n')}\n`);
  const tls = selfSigned([
    'mail.ex16.test',
    'mail.ex19.test',
    'autodiscover.test',
  ]);
  const behaviours = [
    [
      HOSTS.ex16,
      { kind: 'https', handler: exchange({ header: '15.1.2176.2' }) },
    ],
    [
      HOSTS.ex19,
      { kind: 'https', handler: exchange({ pageBuild: '15.2.1118' }) },
    ],
    [
      HOSTS.ex13,
      {
        kind: 'https',
        handler: exchange({
          pageBuild: '15.0.1497',
          exportTool: '15.0.1497.44',
        }),
      },
    ],
    [HOSTS.webmail, { kind: 'https', handler: webmail }],
    [HOSTS.silent, { kind: 'silent' }],
    [HOSTS.redirect, { kind: 'https', handler: redirectAway }],
    [
      HOSTS.elsewhere,
      { kind: 'https', handler: exchange({ header: '15.2.1748.49' }) },
    ],
    [HOSTS.endless, { kind: 'https', handler: endless }],
    [HOSTS.plain, { kind: 'http', handler: webmail }],
    [
      HOSTS.shared,
      { kind: 'https', handler: exchange({ header: '15.2.1748.49' }) },
    ],
  ] as const;
  port = 0;
  for (const [address, behaviour] of behaviours) {
    const s = await startServer(address, port, behaviour, tls);
    port = s.port;
    servers.push(s);
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await dns?.close();
  rmSync(dir, { recursive: true, force: true });
});

// Each test starts with fresh counters, except the one that reads what
// the run before it sent.
beforeEach((ctx) => {
  if (ctx.task.name.startsWith('sent only GETs')) return;
  for (const s of servers) {
    s.connections = 0;
    s.requests = [];
  }
});

const server = (address: string): FixtureServer =>
  servers.find((s) => s.address === address) as FixtureServer;
const connections = (): number =>
  servers.reduce((n, s) => n + s.connections, 0);

const base = (): string[] => [
  'scan',
  input,
  '--resolver',
  dns.address,
  '--asn-source',
  'none',
  '-q',
];
const probe = (): string[] => [
  '--probe',
  '--probe-allow',
  '127.0.0.0/8',
  '--probe-port',
  String(port),
  '--probe-timeout',
  '1500',
];

async function scanCsv(extra: string[], env: NodeJS.ProcessEnv = {}) {
  const run = await runCli([...base(), ...extra], { env });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { text: run.stdout, rows: readCsv(run.stdout) };
}

function byDomain(rows: Record<string, string>[]) {
  return Object.fromEntries(rows.map((r) => [r.scanned_domain, r]));
}

describe('scan --probe', () => {
  it('contacts no server without --probe, and leaves the columns empty', async () => {
    const { rows } = await scanCsv([]);
    expect(connections()).toBe(0);
    expect(rows).toHaveLength(DOMAINS.length);
    for (const r of rows) {
      expect(r.probe_status).toBe('');
      expect(r.exchange_build).toBe('');
    }
  });

  it('refuses special-purpose addresses unless allowed: no connection at all', async () => {
    const { rows } = await scanCsv(['--probe', '--probe-port', String(port)]);
    expect(connections()).toBe(0);
    for (const r of rows) expect(r.probe_status).toBe('blocked-address');
    // A host that was not asked changes nothing.
    expect(byDomain(rows)['ex16.test']?.classification).toBe('self-hosted');
  });

  let probed: string;
  it('reads each server right with --probe-allow 127.0.0.0/8', async () => {
    const { text, rows } = await scanCsv(probe());
    probed = text;
    const d = byDomain(rows);

    expect(d['ex16.test']).toMatchObject({
      classification: 'exchange-onprem',
      confidence: 'high',
      onprem_exchange: 'confirmed',
      exchange_hosts: `mail.ex16.test=${HOSTS.ex16}`,
      exchange_build: '15.1.2176.2',
      exchange_version: 'Exchange Server 2016 CU19',
      proxylogon: 'vulnerable',
      proxyshell: 'vulnerable',
      proxynotshell: 'vulnerable',
      exchange_support: 'unsupported',
      exchange_current: 'no',
      probe_status: 'ok',
    });
    expect(d['ex16.test']?.reasons).toMatch(
      /^probe-exchange-confirmed;own-server-mx/,
    );

    expect(d['ex19.test']).toMatchObject({
      classification: 'exchange-onprem',
      confidence: 'high',
      exchange_build: '15.2.1118',
      exchange_version: 'Exchange Server 2019 CU12',
      proxylogon: 'patched',
      proxyshell: 'patched',
      proxynotshell: 'unknown',
      exchange_current: 'unknown',
      probe_status: 'ok',
    });

    expect(d['ex13.test']).toMatchObject({
      classification: 'hybrid',
      exchange_build: '15.0.1497.44',
      exchange_version: 'Exchange Server 2013 CU23 Nov22SU',
      proxylogon: 'patched',
      proxyshell: 'patched',
      proxynotshell: 'patched',
      exchange_support: 'unsupported',
      exchange_current: 'no',
    });

    // Every candidate answered as something else: DNS's guess is undone.
    expect(d['webmail.test']).toMatchObject({
      classification: 'self-hosted',
      onprem_exchange: 'none-seen',
      probe_status: 'not-exchange',
      exchange_build: '',
    });
    expect(d['webmail.test']?.reasons).toMatch(
      /^probe-exchange-none-seen;server-mx-autodiscover-onprem/,
    );

    // No answer, or no usable one: the verdict stays DNS's.
    for (const [domain, status] of [
      ['silent.test', 'timeout'],
      ['redirect.test', 'redirected'],
      ['plain.test', 'tls-error'],
      ['refused.test', 'refused'],
      ['data.test', 'blocked-address'],
    ]) {
      expect(d[domain as string]).toMatchObject({
        classification: 'self-hosted',
        confidence: 'medium',
        probe_status: status,
      });
    }
    expect(d['endless.test']?.probe_status).toBe('not-exchange');
    expect(d['shared1.test']?.exchange_build).toBe('15.2.1748.49');
    expect(d['shared2.test']?.exchange_current).toBe('yes');
  });

  it('sent only GETs, to the resolved address, with the name as SNI and Host', () => {
    const ex16 = server(HOSTS.ex16).requests;
    // The header gave a 4-part build: the export tool is not asked.
    expect(ex16.map((r) => r.path)).toEqual(['/owa/', LOGON]);
    for (const s of servers) {
      for (const r of s.requests) {
        expect(r.method).toBe('GET');
        expect(r.userAgent).toContain(`exoscope/${VERSION}`);
        if (s.address !== HOSTS.plain) {
          expect(r.servername).toBe(r.host.replace(/:\d+$/, ''));
        }
      }
    }
    expect(ex16[0]?.host).toBe(`mail.ex16.test:${port}`);
    expect(server(HOSTS.ex13).requests.map((r) => r.path)).toContain(
      '/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application',
    );
    // A redirect to another host is never followed.
    expect(server(HOSTS.elsewhere).connections).toBe(0);
    // One host shared by two domains is probed once per run.
    expect(
      server(HOSTS.shared).requests.filter((r) => r.path === '/owa/'),
    ).toHaveLength(1);
    // mail.ex19.test is both MX and autodiscover target: probed once.
    expect(
      server(HOSTS.ex19).requests.filter((r) => r.path === '/owa/'),
    ).toHaveLength(1);
  });

  it('gives the same rows with --threads 2', async () => {
    const { text } = await scanCsv([...probe(), '--threads', '2']);
    expect(text).toBe(probed);
  });

  it('gives the same rows on BullMQ workers (--redis)', async () => {
    const { text } = await scanCsv([...probe(), '--redis', REDIS_URL], {
      EXOSCOPE_PREFIX: freshPrefix(),
    });
    expect(text).toBe(probed);
  });

  it('puts every request, the headers used and the certificate in the JSONL', async () => {
    const run = await runCli([...base(), ...probe(), '-f', 'jsonl']);
    expect(run.code).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const ex16 = records.find((r) => r.domain === 'ex16.test');
    const host = ex16?.evidence.exchangeProbe[0];
    expect(host).toMatchObject({
      host: 'mail.ex16.test',
      address: HOSTS.ex16,
      status: 'ok',
      sources: ['mx'],
      builds: [{ source: 'x-owa-version', build: '15.1.2176.2' }],
      certificate: {
        subject: expect.stringContaining('CN=mail.ex16.test'),
        sans: expect.arrayContaining(['DNS:mail.ex16.test']),
        selfSigned: true,
      },
    });
    expect(host.requests[0]).toMatchObject({
      method: 'GET',
      path: '/owa/',
      httpStatus: 302,
      headers: { 'x-owa-version': '15.1.2176.2', location: LOGON },
    });
    expect(ex16?.exchange.servers[0].info.families.proxylogon).toBe(
      'vulnerable',
    );
    const endlessHost = records.find((r) => r.domain === 'endless.test')
      ?.evidence.exchangeProbe[0];
    expect(endlessHost.requests[0]).toMatchObject({
      truncated: true,
      bytes: 256 * 1024,
    });
    const plain = records.find((r) => r.domain === 'plain.test')?.evidence
      .exchangeProbe[0];
    expect(plain.requests[0].outcome).toBe('tls-error');
  });

  it('refuses a bad --probe-allow and a --probe-* option without --probe', async () => {
    const bad = await runCli([...base(), '--probe', '--probe-allow', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--probe-allow/);
    const stray = await runCli([...base(), '--probe-port', '8443']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--probe-port needs --probe/);
    expect(connections()).toBe(0);
  });
});
