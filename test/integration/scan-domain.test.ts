import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaresResolver } from '../../src/adapters/dns/cares-resolver.js';
import type { CaresResolver } from '../../src/adapters/dns/cares-resolver.js';
import { classify } from '../../src/core/classify.js';
import type { AsnPort } from '../../src/core/ip-owner.js';
import { scanDomain } from '../../src/core/scan-domain.js';
import { startFakeDnsServer } from '../helpers/dns-server.js';
import type { FakeDnsServer, FakeRecord } from '../helpers/dns-server.js';

// Hand-made zones beyond what the bench generator makes, served by the fake
// server on loopback and read through the real node:dns adapter.
const mx = (name: string, exchange: string, preference = 10): FakeRecord => ({
  name,
  type: 'MX',
  data: { preference, exchange },
});
const a = (name: string, ip: string): FakeRecord => ({
  name,
  type: 'A',
  data: ip,
});
const cname = (name: string, target: string): FakeRecord => ({
  name,
  type: 'CNAME',
  data: target,
});
const txt = (name: string, data: string | string[]): FakeRecord => ({
  name,
  type: 'TXT',
  data,
});

const records: FakeRecord[] = [
  // apex CNAME to a domain with EOP MX
  cname('alias.test', 'real.test'),
  mx('real.test', 'real-test.mail.protection.outlook.com', 0),
  a('real-test.mail.protection.outlook.com', '52.101.4.4'),
  cname('autodiscover.real.test', 'autodiscover.outlook.com'),
  // MX host that is a CNAME
  mx('mxalias.test', 'mx.mxalias.test'),
  cname('mx.mxalias.test', 'mail.mxalias.test'),
  a('mail.mxalias.test', '198.18.1.1'),
  // MX is an IP literal
  mx('literal.test', '198.18.2.2'),
  // null MX mixed with a real MX: the real one is used, the null MX flagged
  mx('mixednull.test', '.', 0),
  mx('mixednull.test', 'mail.mixednull.test', 10),
  a('mail.mixednull.test', '198.18.3.3'),
  // wildcard zone: *.wild.test answers everything with the same address
  mx('wild.test', 'mail.wild.test'),
  a('mail.wild.test', '198.18.4.4'),
  a('*.wild.test', '198.18.4.99'),
  // long CNAME chain at the apex
  ...Array.from({ length: 24 }, (_, i) =>
    cname(`c${i}.chain.test`, `c${i + 1}.chain.test`),
  ),
  // hostile TXT: 64 KiB, controls, formula start
  mx('hostile.test', 'mail.hostile.test'),
  a('mail.hostile.test', '198.18.5.5'),
  txt(
    'hostile.test',
    Array.from({ length: 250 }, () => 'A'.repeat(250)),
  ),
  txt('hostile.test', '=HYPERLINK("http://x")\u0007\u001b[31m'),
  // autodiscover answer times out (dropped) while the MX is EOP
  mx('slowad.test', 'slowad-test.mail.protection.outlook.com', 0),
  a('slowad-test.mail.protection.outlook.com', '40.107.5.5'),
  // the apex exists without MX
  a('nomx.test', '198.18.6.6'),
  // query plan: Exchange Online proven by MX and autodiscover, with Teams
  mx('cloud.test', 'cloud-test.mail.protection.outlook.com', 0),
  a('cloud-test.mail.protection.outlook.com', '52.101.7.7'),
  cname('autodiscover.cloud.test', 'autodiscover.outlook.com'),
  cname('lyncdiscover.cloud.test', 'webdir.online.lync.com'),
  // query plan: own server for both, and a Teams tenant beside it
  mx('onprem.test', 'mail.onprem.test'),
  a('mail.onprem.test', '198.18.8.8'),
  cname('autodiscover.onprem.test', 'mail.onprem.test'),
  cname('lyncdiscover.onprem.test', 'webdir.online.lync.com'),
  // query plan: EOP MX, autodiscover on premises (hybrid)
  mx('split.test', 'split-test.mail.protection.outlook.com', 0),
  a('split-test.mail.protection.outlook.com', '52.101.9.9'),
  cname('autodiscover.split.test', 'mail.split.test'),
  a('mail.split.test', '198.18.9.9'),
  // query plan: Google MX settles the verdict
  mx('gmail.test', 'aspmx.l.google.com', 1),
  a('aspmx.l.google.com', '142.250.1.1'),
  // hybrid leftover: MX and autodiscover in EXO, the HCW's federation
  // record still published, the hybrid server still answering as mail.<d>
  mx('leftover.test', 'leftover-test.mail.protection.outlook.com', 0),
  a('leftover-test.mail.protection.outlook.com', '52.101.10.10'),
  cname('autodiscover.leftover.test', 'autodiscover.outlook.com'),
  txt(
    'exchangedelegation.leftover.test',
    'kF1HxWm3aZ8yJ0pQ7sT2uV5nB9cD4eG6hK1lM3oP5rS=',
  ),
  a('mail.leftover.test', '198.18.20.20'),
  cname('webmail.leftover.test', 'webmail.secureserver.net'),
  a('webmail.secureserver.net', '198.51.100.40'),
  // the same behind a wildcard: every conventional name "exists"
  mx('wildleft.test', 'wildleft-test.mail.protection.outlook.com', 0),
  a('wildleft-test.mail.protection.outlook.com', '52.101.11.11'),
  cname('autodiscover.wildleft.test', 'autodiscover.outlook.com'),
  txt(
    'exchangedelegation.wildleft.test',
    'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo=',
  ),
  a('*.wildleft.test', '198.18.21.21'),
  // Google Workspace with an own autodiscover server left behind
  mx('gleft.test', 'aspmx.l.google.com', 1),
  a('autodiscover.gleft.test', '198.18.22.22'),
  // an own server that publishes autoconfig beside autodiscover (mailcow)
  mx('mailcow.test', 'mail.mailcow.test'),
  a('mail.mailcow.test', '198.18.23.23'),
  cname('autodiscover.mailcow.test', 'mail.mailcow.test'),
  cname('autoconfig.mailcow.test', 'mail.mailcow.test'),
  // a gateway in front of Fastmail: only the provider's DKIM says so
  mx('gwfast.test', 'eu-smtp-inbound-1.mimecast.com'),
  a('eu-smtp-inbound-1.mimecast.com', '185.58.85.1'),
  cname('fm1._domainkey.gwfast.test', 'fm1.gwfast.test.dkim.fmhosted.com'),
];

let server: FakeDnsServer;
let resolver: CaresResolver;
const asn: AsnPort = {
  lookup: (ip) =>
    Promise.resolve(
      ip.startsWith('52.') || ip.startsWith('40.')
        ? { asn: 8075, org: 'Microsoft', prefix: '', source: 'table' }
        : { asn: null, org: '', prefix: '', source: 'none' },
    ),
};

beforeAll(async () => {
  server = await startFakeDnsServer({
    records,
    behaviour: (name) =>
      name.toLowerCase() === 'autodiscover.slowad.test' ? 'drop' : 'answer',
  });
  resolver = createCaresResolver({
    servers: [server.address],
    timeoutMs: 300,
    retries: 1,
  });
});
afterAll(async () => {
  resolver?.close();
  await server?.close();
});

const scan = (d: string) => scanDomain(d, { dns: resolver, asn });

describe('scanDomain on hand-made zones', () => {
  // This server chases CNAMEs inside the answer, as a recursor does; the
  // bare-CNAME path (an authoritative server) is covered by the Knot e2e run.
  it('follows a CNAME at the apex', async () => {
    const ev = await scan('alias.test');
    expect(ev.status).toBe('ok');
    expect(ev.mx.map((m) => m.exchange)).toEqual([
      'real-test.mail.protection.outlook.com',
    ]);
    expect(classify(ev).classification).toBe('exchange-online');
  });

  it('follows an MX host that is an alias to its addresses', async () => {
    const ev = await scan('mxalias.test');
    expect(ev.mxHosts[0]?.addresses.map((x) => x.ip)).toEqual(['198.18.1.1']);
    expect(classify(ev).classification).toBe('self-hosted');
  });

  it('takes an IP-literal MX as its address and flags it', async () => {
    const ev = await scan('literal.test');
    expect(ev.mxHosts[0]?.ipLiteral).toBe(true);
    expect(classify(ev).reasons).toContain('mx-ip-literal');
  });

  it('ignores a null MX mixed with real MX, and says so', async () => {
    const ev = await scan('mixednull.test');
    expect(ev.status).toBe('ok');
    expect(ev.nullMx).toBe(true);
    expect(ev.mx.map((m) => m.exchange)).toEqual(['mail.mixednull.test']);
    expect(classify(ev).reasons).toContain('null-mx-mixed');
  });

  it('does not take a wildcard answer for autodiscover', async () => {
    const ev = await scan('wild.test');
    expect(ev.autodiscover?.wildcard).toBe(true);
    const v = classify(ev);
    expect(v.classification).toBe('self-hosted');
    expect(v.reasons).toContain('autodiscover-wildcard-ignored');
  });

  it('bounds a long CNAME chain', async () => {
    const ev = await scan('c0.chain.test');
    expect(ev.status).toBe('cname-loop');
    expect(ev.error).toMatch(/^CNAME chain longer than 16 aliases/);
    expect(classify(ev).classification).toBe('unresolved');
    // 16 aliases and the one past them, asked one by one
    expect(
      ev.queries.filter(
        (q) => q.type === 'CNAME' && q.name.endsWith('.chain.test'),
      ),
    ).toHaveLength(17);
  });

  it('caps and keeps hostile TXT text, and still classifies', async () => {
    const ev = await scan('hostile.test');
    expect(ev.status).toBe('ok');
    expect(Math.max(...ev.txt.map((t) => t.length))).toBeLessThan(5000);
    expect(classify(ev).classification).toBe('self-hosted');
  });

  it('reports a timed-out autodiscover as unresolved, not as "no autodiscover"', async () => {
    const ev = await scan('slowad.test');
    expect(ev.autodiscover?.status).toBe('timeout');
    expect(ev.status).toBe('timeout');
    expect(ev.error).toMatch(/^autodiscover\.slowad\.test: timeout/);
    expect(classify(ev).classification).toBe('unresolved');
  });

  it('tells NXDOMAIN from no MX', async () => {
    expect((await scan('nomx.test')).status).toBe('no-mx');
    expect((await scan('absent.test')).status).toBe('nxdomain');
  });
});

describe('the query plan asks only what can add to the evidence', () => {
  const asked = async (d: string) => {
    const ev = await scan(d);
    const names = ev.queries.map(
      (q) => `${q.type} ${q.name.replace(`.${d}`, '')}`,
    );
    return { ev, names };
  };

  it('Exchange Online proven by MX and autodiscover: no Teams/Intune probes; of the federation records only exchangedelegation', async () => {
    const { ev, names } = await asked('cloud.test');
    expect(classify(ev).classification).toBe('exchange-online');
    expect(classify(ev).onpremExchange).toBe('none-seen');
    expect(names).toContain('CNAME autodiscover');
    expect(names).toContain('CNAME selector1._domainkey');
    expect(names).not.toContain('CNAME selector2._domainkey');
    expect(
      names.filter((n) =>
        /lyncdiscover|sip|enterprise|exchangedelegation|autodiscover\.service/.test(
          n,
        ),
      ),
    ).toEqual(['TXT exchangedelegation']);
    expect(ev.services).toEqual([]);
  });

  it('own servers for MX and autodiscover: Teams/Intune asked (a tenant is news), and the tenant makes federation records worth asking', async () => {
    const { ev, names } = await asked('onprem.test');
    const v = classify(ev);
    expect(v.classification).toBe('exchange-onprem');
    expect(v.reasons).toContain('teams-lyncdiscover');
    expect(names).toContain('CNAME lyncdiscover');
    expect(names).not.toContain('CNAME sip');
    expect(names).toEqual(
      expect.arrayContaining([
        'CNAME enterpriseregistration',
        'CNAME enterpriseenrollment',
      ]),
    );
    expect(names).toContain('TXT exchangedelegation');
    expect(names).toContain('CNAME autoconfig');
  });

  it('MX and autodiscover disagree: federation records and Teams/Intune asked', async () => {
    const { ev, names } = await asked('split.test');
    expect(classify(ev).classification).toBe('hybrid');
    expect(names).toEqual(
      expect.arrayContaining([
        'TXT exchangedelegation',
        'CNAME autodiscover.service',
        'CNAME lyncdiscover',
        'CNAME sip',
        'CNAME enterpriseregistration',
      ]),
    );
  });

  it('Google MX: MX, its address, the apex TXT and autodiscover (for a server left behind), nothing Microsoft', async () => {
    const { ev, names } = await asked('gmail.test');
    expect(classify(ev).classification).toBe('google-workspace');
    expect(classify(ev).onpremExchange).toBe('none-seen');
    expect(names.sort()).toEqual([
      'A aspmx.l.google.com',
      'CNAME autodiscover',
      'MX gmail.test',
      'TXT gmail.test',
    ]);
  });
});

describe('does the domain still run an Exchange server of its own', () => {
  it('hybrid leftover: MX and autodiscover in EXO, federation record present: the hybrid server found under its conventional name', async () => {
    const ev = await scan('leftover.test');
    const v = classify(ev);
    expect(v.classification).toBe('hybrid');
    expect(v.reasons[0]).toBe('exo-hybrid-leftover');
    expect(v.reasons).toContain('exchange-delegation');
    expect(v.onpremExchange).toBe('likely');
    // webmail is a CNAME to a provider: not the domain's own server.
    expect(v.onpremHosts).toEqual([
      {
        name: 'mail.leftover.test',
        addresses: ['198.18.20.20'],
        sources: ['conventional'],
      },
    ]);
  });

  it('a wildcard under the domain makes every conventional name answer: none of them is a host', async () => {
    const ev = await scan('wildleft.test');
    const v = classify(ev);
    expect(v.reasons).toContain('exchange-delegation');
    expect(ev.hostLookups.every((h) => h.wildcard)).toBe(true);
    expect(v.onpremHosts).toEqual([]);
    expect(v.onpremExchange).toBe('possible');
    expect(v.classification).toBe('exchange-online');
  });

  it('Google domain with an own autodiscover server left behind: Google Workspace, on-prem possible, the host listed', async () => {
    const ev = await scan('gleft.test');
    const v = classify(ev);
    expect(v.classification).toBe('google-workspace');
    expect(v.onpremExchange).toBe('possible');
    expect(v.onpremHosts).toEqual([
      {
        name: 'autodiscover.gleft.test',
        addresses: ['198.18.22.22'],
        sources: ['autodiscover'],
      },
    ]);
  });

  it('a gateway with nothing Microsoft behind it: provider DKIM selectors asked, Fastmail found', async () => {
    const ev = await scan('gwfast.test');
    const v = classify(ev);
    expect(ev.providerDkim.map((p) => p.name)).toContain(
      'fm1._domainkey.gwfast.test',
    );
    expect(v.classification).toBe('other-hosted');
    expect(v.provider).toBe('fastmail');
    expect(v.gateway).toBe('mimecast');
    expect(v.onpremExchange).toBe('none-seen');
  });

  it('an own server publishing autoconfig beside autodiscover is not taken for Exchange', async () => {
    const ev = await scan('mailcow.test');
    const v = classify(ev);
    expect(v.classification).toBe('self-hosted');
    expect(v.reasons).toContain('autoconfig');
    expect(v.onpremExchange).toBe('none-seen');
  });
});
