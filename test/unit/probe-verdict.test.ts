import { describe, expect, it } from 'vitest';
import { classify } from '../../src/core/classify.js';
import { emptyEvidence } from '../../src/core/evidence.js';
import type { Evidence } from '../../src/core/evidence.js';
import {
  buildFromExportTool,
  buildFromLogonPage,
  buildFromOwaHeader,
} from '../../src/core/exchange-probe.js';
import type { ProbeStatus, ProbedHost } from '../../src/core/exchange-probe.js';
import { probeColumns } from '../../src/core/probe-verdict.js';
import { sameHostPath } from '../../src/adapters/https-prober.js';

function host(status: ProbeStatus, build = ''): ProbedHost {
  return {
    host: 'mail.example.test',
    address: '192.0.2.10',
    port: 443,
    status,
    error: '',
    build,
    builds: [],
    certificate: null,
    requests: [],
    sources: ['mx'],
  };
}

/** An own MX server; with `autodiscover`, an own autodiscover too. */
function ownServer(opts: { autodiscover?: boolean; spfExo?: boolean } = {}) {
  const ev: Evidence = emptyEvidence('example.test');
  ev.mx = [{ priority: 10, exchange: 'mail.example.test' }];
  ev.mxHosts = [
    {
      host: 'mail.example.test',
      priority: 10,
      ipLiteral: false,
      cnameChain: [],
      loop: false,
      status: 'ok',
      addresses: [
        {
          ip: '192.0.2.10',
          owner: { asn: null, org: '', prefix: '', source: 'none' },
          microsoftRange: null,
        },
      ],
    },
  ];
  ev.txtStatus = 'ok';
  if (opts.spfExo) ev.txt = ['v=spf1 include:spf.protection.outlook.com -all'];
  ev.autodiscover = {
    name: 'autodiscover.example.test',
    status: opts.autodiscover ? 'ok' : 'nxdomain',
    cname: null,
    addresses: opts.autodiscover ? ['192.0.2.10'] : [],
    wildcard: false,
  };
  return ev;
}

describe('the probe and the verdict', () => {
  it('confirmed Exchange turns self-hosted into exchange-onprem, one step surer', () => {
    const ev = ownServer();
    expect(classify(ev)).toMatchObject({
      classification: 'self-hosted',
      confidence: 'medium',
    });
    ev.exchangeProbe = [host('ok', '15.1.2176.2')];
    const v = classify(ev);
    expect(v).toMatchObject({
      classification: 'exchange-onprem',
      confidence: 'high',
      onpremExchange: 'confirmed',
    });
    expect(v.reasons[0]).toBe('probe-exchange-confirmed');
  });

  it('confirmed Exchange with Exchange Online evidence is hybrid', () => {
    const ev = ownServer({ spfExo: true });
    ev.exchangeProbe = [host('ok')];
    expect(classify(ev)).toMatchObject({
      classification: 'hybrid',
      provider: 'microsoft',
    });
  });

  it('every candidate not Exchange undoes an exchange-onprem guess', () => {
    const ev = ownServer({ autodiscover: true });
    expect(classify(ev).classification).toBe('exchange-onprem');
    ev.exchangeProbe = [host('not-exchange'), host('not-exchange')];
    const v = classify(ev);
    expect(v.classification).toBe('self-hosted');
    expect(v.onpremExchange).toBe('none-seen');
    expect(v.reasons[0]).toBe('probe-exchange-none-seen');
  });

  it.each<ProbeStatus>([
    'timeout',
    'refused',
    'tls-error',
    'blocked-address',
    'redirected',
  ])('a host that did not answer (%s) changes nothing', (status) => {
    const ev = ownServer({ autodiscover: true });
    const before = classify(ev);
    ev.exchangeProbe = [host('not-exchange'), host(status)];
    expect(classify(ev)).toEqual(before);
  });

  it('columns: empty unprobed, no-candidate, the worst family of several servers', () => {
    expect(probeColumns(null, '2026-01-01').probe_status).toBe('');
    expect(probeColumns([], '2026-01-01').probe_status).toBe('no-candidate');
    const cols = probeColumns(
      [host('ok', '15.2.1748.49'), host('ok', '15.1.2176.2'), host('timeout')],
      '2026-01-01',
    );
    expect(cols).toMatchObject({
      exchange_build: '15.2.1748.49;15.1.2176.2',
      proxylogon: 'vulnerable',
      exchange_current: 'no',
      exchange_support: 'unsupported',
      probe_status: 'ok',
    });
    expect(probeColumns([host('ok')], '2026-01-01')).toMatchObject({
      proxylogon: 'unknown',
      exchange_version: '',
    });
  });
});

describe('reading builds from hostile responses', () => {
  it('takes a 4-part X-OWA-Version only', () => {
    expect(buildFromOwaHeader('15.01.2106.013')).toBe('15.1.2106.13');
    expect(buildFromOwaHeader('15.1.2106')).toBeNull();
    expect(buildFromOwaHeader('=HYPERLINK("x")')).toBeNull();
    expect(buildFromOwaHeader(undefined)).toBeNull();
  });

  it('takes the most frequent OWA path build of a logon page', () => {
    const page =
      '<link href="/owa/auth/15.1.2176/themes/a.css"><img src="/owa/auth/15.1.2176/b.gif"><a href="/owa/auth/15.0.1497/x">';
    expect(buildFromLogonPage(page)).toBe('15.1.2176');
    expect(
      buildFromLogonPage('<img src="/owa/14.3.513.0/themes/base/x.gif">'),
    ).toBe('14.3.513.0');
    expect(buildFromLogonPage('<html>Roundcube</html>')).toBeNull();
  });

  it('takes the exporttool manifest assemblyIdentity version', () => {
    expect(
      buildFromExportTool(
        '<assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="15.2.1118.7" publicKeyToken="b03f5f7f11d50a3a"/>',
      ),
    ).toBe('15.2.1118.7');
    expect(buildFromExportTool('<assemblyIdentity version="1.0"/>')).toBeNull();
  });
});

describe('sameHostPath', () => {
  it.each([
    ['/owa/auth/logon.aspx?x=1', '/owa/auth/logon.aspx?x=1'],
    ['https://MAIL.example.test/owa/', '/owa/'],
    ['auth/logon.aspx', '/owa/auth/logon.aspx'],
    ['https://other.example.test/owa/', null],
    ['http://mail.example.test/owa/', null],
    ['https://mail.example.test:8443/owa/', null],
    ['//evil.test/owa/', null],
    ['https://mail.example.test@evil.test/', null],
  ])('%s → %s', (location, expected) => {
    expect(sameHostPath(location, 'mail.example.test', 443, '/owa/')).toBe(
      expected,
    );
  });
});
