import { describe, expect, it } from 'vitest';
import { classify, RULES, STATUS_RULES } from '../../src/core/classify.js';
import type { Classification, Confidence } from '../../src/core/classify.js';
import type { Evidence } from '../../src/core/evidence.js';
import {
  autodiscoverA,
  autodiscoverCname,
  evidence,
  host,
} from '../helpers/evidence.js';

const D = 'contoso.test';
const eop = host(
  'contoso-test.mail.protection.outlook.com',
  ['52.101.1.1', '40.107.2.2'],
  {
    priority: 0,
    asn: 8075,
    msRange: 'eop-v4-52.100',
  },
);
const own = host(`mail.${D}`, ['198.18.0.10']);
const google = host('aspmx.l.google.com', ['142.250.1.1'], {
  priority: 1,
  asn: 15169,
});
const mimecast = host('eu-smtp-inbound-1.mimecast.com', ['185.58.85.1'], {
  asn: 30031,
});
const dkimExo = [
  {
    name: `selector1._domainkey.${D}`,
    status: 'ok' as const,
    target: `selector1-contoso-test._domainkey.contosoltd.onmicrosoft.com`,
  },
];

interface Case {
  name: string;
  ev: Evidence;
  classification: Classification;
  rule: string;
  confidence?: Confidence;
  tenant?: string;
  gateway?: string;
  provider?: string;
  signals?: string[];
}

const cases: Case[] = [
  {
    name: 'EOP MX + autodiscover at outlook.com',
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
      dkim: dkimExo,
      txt: ['v=spf1 include:spf.protection.outlook.com -all', 'MS=ms12345678'],
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    confidence: 'high',
    tenant: 'contosoltd',
    provider: 'microsoft',
    signals: [
      'mx-eop',
      'autodiscover-exo',
      'spf-exo',
      'dkim-exo',
      'ms-verification',
    ],
  },
  {
    name: 'EOP MX, no autodiscover',
    ev: evidence(D, { mxHosts: [eop] }),
    classification: 'exchange-online',
    rule: 'exo-mx',
    confidence: 'medium',
  },
  {
    name: 'newer *.mx.microsoft inbound',
    ev: evidence(D, {
      mxHosts: [
        host('contoso-test.o-v1.mx.microsoft', ['52.101.9.9'], { priority: 0 }),
      ],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    signals: ['mx-eop-mx-microsoft'],
  },
  {
    name: 'GCC High inbound',
    ev: evidence(D, {
      mxHosts: [
        host('contoso-test.mail.protection.office365.us', ['20.1.1.1'], {
          priority: 0,
        }),
      ],
      autodiscover: autodiscoverCname(D, 'autodiscover-s.office365.us'),
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    signals: ['mx-eop-gcc-high', 'autodiscover-exo-gcc-high'],
  },
  {
    name: '21Vianet inbound',
    ev: evidence(D, {
      mxHosts: [
        host(
          'contoso-test.mail.protection.partner.outlook.cn',
          ['42.159.1.1'],
          { priority: 0 },
        ),
      ],
    }),
    classification: 'exchange-online',
    rule: 'exo-mx',
    signals: ['mx-eop-21vianet'],
  },
  {
    name: 'custom MX name whose address is in EOP',
    ev: evidence(D, {
      mxHosts: [
        host('inbound.contoso.test', ['40.107.1.1'], {
          msRange: 'eop-v4-40.107',
        }),
      ],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    signals: ['mx-ip-eop'],
  },
  {
    name: 'EOP MX + on-prem autodiscover (A record) = hybrid',
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscover: autodiscoverA(D, ['198.18.0.10']),
    }),
    classification: 'hybrid',
    rule: 'exo-mx-autodiscover-onprem',
    confidence: 'high',
    signals: ['autodiscover-onprem'],
  },
  {
    name: 'EOP MX + on-prem autodiscover via SRV only = hybrid',
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscoverSrv: {
        status: 'ok',
        records: [{ name: `mail.${D}`, port: 443, priority: 0, weight: 0 }],
      },
    }),
    classification: 'hybrid',
    rule: 'exo-mx-autodiscover-onprem',
    signals: ['autodiscover-srv-onprem'],
  },
  {
    name: 'EOP primary MX + own backup MX = hybrid',
    ev: evidence(D, { mxHosts: [eop, { ...own, priority: 20 }] }),
    classification: 'hybrid',
    rule: 'exo-mx-and-server-mx',
  },
  {
    name: 'own MX + autodiscover at outlook.com = hybrid',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
    }),
    classification: 'hybrid',
    rule: 'server-mx-autodiscover-exo',
  },
  {
    name: 'own MX + own autodiscover = on-prem Exchange',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverA(D, ['198.18.0.10']),
      txt: ['MS=ms1234'],
    }),
    classification: 'exchange-onprem',
    rule: 'server-mx-autodiscover-onprem',
    confidence: 'high',
    signals: ['mx-own-host', 'ms-verification'],
  },
  {
    name: 'own MX + autodiscover CNAME to the mail host = on-prem',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverCname(D, `mail.${D}`),
    }),
    classification: 'exchange-onprem',
    rule: 'server-mx-autodiscover-onprem',
  },
  {
    name: 'Exchange on an Azure VM is on-prem, not EXO',
    ev: evidence(D, {
      mxHosts: [host(`mail.${D}`, ['20.50.1.1'], { asn: 8075 })],
      autodiscover: autodiscoverA(D, ['20.50.1.1']),
    }),
    classification: 'exchange-onprem',
    rule: 'server-mx-autodiscover-onprem',
    signals: ['mx-microsoft-asn-not-eop'],
  },
  {
    name: 'hosted Exchange at a foreign provider host = on-prem Exchange',
    ev: evidence(D, {
      mxHosts: [host('mx.hoster.example', ['198.51.100.7'])],
      autodiscover: autodiscoverCname(D, 'autodiscover.hoster.example'),
    }),
    classification: 'exchange-onprem',
    rule: 'server-mx-autodiscover-onprem',
    signals: ['mx-foreign-host'],
  },
  {
    name: 'own MX, EXO DKIM, no autodiscover = hybrid (low)',
    ev: evidence(D, { mxHosts: [own], dkim: dkimExo }),
    classification: 'hybrid',
    rule: 'server-mx-m365-dkim',
    confidence: 'low',
  },
  {
    name: 'own MX, nothing Microsoft = self-hosted',
    ev: evidence(D, { mxHosts: [own], txt: ['v=spf1 mx -all'] }),
    classification: 'self-hosted',
    rule: 'own-server-mx',
  },
  {
    name: 'own MX with a wildcard autodiscover answer = self-hosted',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverA(D, ['198.18.0.99'], true),
    }),
    classification: 'self-hosted',
    rule: 'own-server-mx',
    signals: ['autodiscover-wildcard-ignored'],
  },
  {
    name: 'foreign MX, nothing Microsoft = other-hosted (low)',
    ev: evidence(D, { mxHosts: [host('mx.hoster.example', ['198.51.100.7'])] }),
    classification: 'other-hosted',
    rule: 'foreign-server-mx',
    confidence: 'low',
  },
  {
    name: 'Google MX with an unused MS= tenant = Google',
    ev: evidence(D, {
      mxHosts: [google],
      txt: ['v=spf1 include:_spf.google.com ~all', 'MS=ms87654321'],
    }),
    classification: 'google-workspace',
    rule: 'google-mx',
    provider: 'google',
  },
  {
    name: 'Mimecast + autodiscover at outlook.com = EXO behind a gateway',
    ev: evidence(D, {
      mxHosts: [mimecast],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
    }),
    classification: 'exchange-online',
    rule: 'gateway-autodiscover-exo',
    gateway: 'mimecast',
    confidence: 'medium',
  },
  {
    name: 'Proofpoint + own autodiscover = on-prem behind a gateway',
    ev: evidence(D, {
      mxHosts: [host('mx0a-123.pphosted.com', ['148.163.130.1'])],
      autodiscover: autodiscoverA(D, ['198.18.3.3']),
    }),
    classification: 'exchange-onprem',
    rule: 'gateway-autodiscover-onprem',
    gateway: 'proofpoint',
  },
  {
    name: 'Barracuda + EXO DKIM only = EXO (low)',
    ev: evidence(D, {
      mxHosts: [host('d123a.ess.barracudanetworks.com', ['209.222.81.1'])],
      dkim: dkimExo,
    }),
    classification: 'exchange-online',
    rule: 'gateway-m365-outbound',
    confidence: 'low',
    gateway: 'barracuda',
  },
  {
    name: 'Sophos and nothing behind = unknown',
    ev: evidence(D, {
      mxHosts: [host('mx-01-eu-west-1.prod.hydra.sophos.com', ['35.176.1.1'])],
      txt: ['v=spf1 include:_spf.prod.hydra.sophos.com ~all'],
    }),
    classification: 'unknown',
    rule: 'gateway-opaque',
    gateway: 'sophos',
    signals: ['spf-gateway-sophos'],
  },
  {
    name: 'Fastmail = other-hosted',
    ev: evidence(D, {
      mxHosts: [host('in1-smtp.messagingengine.com', ['103.168.172.1'])],
    }),
    classification: 'other-hosted',
    rule: 'provider-mx',
    provider: 'fastmail',
  },
  {
    name: 'a failed side query lowers the confidence',
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
      failures: ['_autodiscover._tcp.contoso.test SRV: timeout'],
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    confidence: 'low',
    signals: ['partial-evidence'],
  },
  {
    name: 'autodiscover that timed out is not "no autodiscover"',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: {
        name: `autodiscover.${D}`,
        status: 'timeout',
        cname: null,
        addresses: [],
        wildcard: false,
      },
      failures: ['autodiscover.contoso.test CNAME: timeout'],
    }),
    classification: 'unresolved',
    rule: 'autodiscover-failed',
  },
];

describe('classify: rules for a resolved MX', () => {
  it.each(cases)('$name', (c) => {
    const v = classify(c.ev);
    expect(v.classification).toBe(c.classification);
    expect(v.reasons[0]).toBe(c.rule);
    if (c.confidence) expect(v.confidence).toBe(c.confidence);
    if (c.tenant !== undefined) expect(v.tenant).toBe(c.tenant);
    if (c.gateway !== undefined) expect(v.gateway).toBe(c.gateway);
    if (c.provider !== undefined) expect(v.provider).toBe(c.provider);
    for (const s of c.signals ?? []) expect(v.reasons).toContain(s);
  });

  it('has a test case for every rule', () => {
    const tested = new Set(cases.map((c) => c.rule));
    expect(RULES.map((r) => r.id).filter((id) => !tested.has(id))).toEqual([]);
  });
});

describe('classify: verdicts decided by the status', () => {
  it.each(Object.entries(STATUS_RULES))('%s', (status, rule) => {
    const v = classify(evidence(D, { status: status as Evidence['status'] }));
    expect(v.classification).toBe(rule.classification);
    expect(v.reasons[0]).toBe(rule.id);
  });

  it('maps failures to unresolved and absence to no-mail', () => {
    expect(classify(evidence(D, { status: 'timeout' })).classification).toBe(
      'unresolved',
    );
    expect(classify(evidence(D, { status: 'servfail' })).classification).toBe(
      'unresolved',
    );
    expect(classify(evidence(D, { status: 'nxdomain' })).classification).toBe(
      'no-mail',
    );
    expect(
      classify(evidence(D, { status: 'null-mx', nullMx: true })).reasons,
    ).toContain('null-mx');
  });
});
