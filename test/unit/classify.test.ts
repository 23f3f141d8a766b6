import { describe, expect, it } from 'vitest';
import { classify, RULES, STATUS_RULES } from '../../src/core/classify.js';
import type { Classification, Confidence } from '../../src/core/classify.js';
import type { Evidence, HostLookupEvidence } from '../../src/core/evidence.js';
import { onpremHostsCell } from '../../src/core/onprem-exchange.js';
import type { OnpremExchange } from '../../src/core/onprem-exchange.js';
import {
  AUTODISCOVER_PUBLISHERS,
  MX_SIGNATURES,
  PROVIDER_DKIM,
} from '../../src/core/signatures.js';
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
  onprem?: OnpremExchange;
  /** The onprem_hosts cell, split at ';'. */
  hosts?: string[];
}

const delegation = {
  status: 'ok' as const,
  records: ['Ab3xYZ0123456789abcdefghijklmnopqrstuvwxyzA='],
  wildcard: false,
};
const lookup = (
  name: string,
  addresses: string[],
  extra: Partial<HostLookupEvidence> = {},
): HostLookupEvidence => ({
  name,
  status: 'ok',
  cname: null,
  addresses,
  wildcard: false,
  ...extra,
});

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
    name: 'own MX + own autodiscover, nothing Exchange-specific = on-prem Exchange at medium (any mail server can publish autodiscover)',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverA(D, ['198.18.0.10']),
      txt: ['MS=ms1234'],
    }),
    classification: 'exchange-onprem',
    rule: 'server-mx-autodiscover-onprem',
    confidence: 'medium',
    signals: ['mx-own-host', 'ms-verification'],
    onprem: 'possible',
    hosts: [`mail.${D}=198.18.0.10`, `autodiscover.${D}=198.18.0.10`],
  },
  {
    name: 'own MX named exchange.<domain> + own autodiscover = on-prem Exchange at high (the name is Exchange-specific)',
    ev: evidence(D, {
      mxHosts: [host(`exchange.${D}`, ['198.18.0.11'])],
      autodiscover: autodiscoverCname(D, `exchange.${D}`),
    }),
    classification: 'exchange-onprem',
    rule: 'server-mx-autodiscover-onprem-exchange',
    confidence: 'high',
    signals: ['exchange-host-name'],
    onprem: 'likely',
    hosts: [`exchange.${D}=198.18.0.11`],
  },
  {
    name: 'own MX + own autodiscover + EXO DKIM = hybrid, as without autodiscover',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverA(D, ['198.18.0.10']),
      dkim: dkimExo,
    }),
    classification: 'hybrid',
    rule: 'server-mx-autodiscover-onprem-m365',
    confidence: 'medium',
    tenant: 'contosoltd',
    onprem: 'likely',
  },
  {
    name: 'own MX + own autodiscover + federation record = hybrid',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverA(D, ['198.18.0.10']),
      exchangeDelegation: {
        status: 'ok',
        records: ['Ab3xYZ0123456789abcdefghijklmnopqrstuvwxyzA='],
        wildcard: false,
      },
    }),
    classification: 'hybrid',
    rule: 'server-mx-autodiscover-onprem-m365',
    signals: ['exchange-delegation'],
    onprem: 'likely',
  },
  {
    name: 'own MX + own autodiscover + SPF authorising EXO = hybrid (low)',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverA(D, ['198.18.0.10']),
      txt: ['v=spf1 mx include:spf.protection.outlook.com -all'],
    }),
    classification: 'hybrid',
    rule: 'server-mx-autodiscover-onprem-spf-exo',
    confidence: 'low',
    signals: ['spf-exo'],
    onprem: 'likely',
  },
  {
    name: 'mailcow / Stalwart on an own server: autodiscover beside autoconfig = self-hosted, not Exchange',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverCname(D, `mail.${D}`),
      autoconfig: {
        name: `autoconfig.${D}`,
        status: 'ok',
        target: `mail.${D}`,
      },
    }),
    classification: 'self-hosted',
    rule: 'own-server-autodiscover-not-exchange',
    confidence: 'medium',
    signals: ['autoconfig'],
    onprem: 'none-seen',
    hosts: [`mail.${D}=198.18.0.10`],
  },
  {
    name: 'hosted Kopano / Zimbra elsewhere: foreign MX, own autodiscover, autoconfig (A record) = other-hosted',
    ev: evidence(D, {
      mxHosts: [host('mx.mailhost.example', ['198.51.100.20'])],
      autodiscover: autodiscoverA(D, ['198.51.100.21']),
      autoconfig: { name: `autoconfig.${D}`, status: 'nodata', target: null },
    }),
    classification: 'other-hosted',
    rule: 'foreign-server-autodiscover-not-exchange',
    onprem: 'none-seen',
  },
  {
    name: 'autoconfig answered only by a wildcard is no evidence against Exchange',
    ev: evidence(D, {
      mxHosts: [own],
      autodiscover: autodiscoverA(D, ['198.18.0.10']),
      autoconfig: { name: `autoconfig.${D}`, status: 'nodata', target: null },
      wildcard: {
        probe: `x.${D}`,
        present: true,
        cname: null,
        addresses: ['198.18.0.99'],
      },
    }),
    classification: 'exchange-onprem',
    rule: 'server-mx-autodiscover-onprem',
    onprem: 'possible',
  },
  {
    name: "cPanel SRV is the hoster's, not on-prem Exchange",
    ev: evidence(D, {
      mxHosts: [own],
      autodiscoverSrv: {
        status: 'ok',
        records: [
          {
            name: 'cpanelemaildiscovery.cpanel.net',
            port: 443,
            priority: 0,
            weight: 0,
          },
        ],
      },
    }),
    classification: 'self-hosted',
    rule: 'own-server-mx',
    signals: ['autodiscover-publisher-cpanel'],
    onprem: 'none-seen',
  },
  {
    name: 'Hetzner shared hosting: MX wwwNNN.your-server.de, SRV mail.your-server.de = other-hosted',
    ev: evidence(D, {
      mxHosts: [host('www123.your-server.de', ['88.198.1.1'])],
      autodiscoverSrv: {
        status: 'ok',
        records: [
          { name: 'mail.your-server.de', port: 443, priority: 0, weight: 0 },
        ],
      },
    }),
    classification: 'other-hosted',
    rule: 'provider-mx',
    provider: 'hetzner',
    signals: ['mx-provider-hetzner', 'autodiscover-publisher-hetzner'],
    onprem: 'none-seen',
  },
  {
    name: "hoster MX with an autodiscover A at the hoster's own address = the hoster's",
    ev: evidence(D, {
      mxHosts: [host('mx.hoster.example', ['198.51.100.7'])],
      autodiscover: autodiscoverA(D, ['198.51.100.7']),
    }),
    classification: 'other-hosted',
    rule: 'foreign-server-mx',
    signals: ['autodiscover-provider'],
    onprem: 'none-seen',
    hosts: [],
  },
  {
    name: "hoster MX with an autodiscover A in the hoster's network (same ASN) = the hoster's",
    ev: evidence(D, {
      mxHosts: [host('mx.hoster.example', ['198.51.100.7'], { asn: 64500 })],
      autodiscover: autodiscoverA(D, ['198.51.100.99']),
      autodiscoverAsns: [64500],
    }),
    classification: 'other-hosted',
    rule: 'foreign-server-mx',
    signals: ['autodiscover-provider'],
  },
  {
    name: "autodiscover under the MX hoster's registrable domain is the hoster's, not on-prem",
    ev: evidence(D, {
      mxHosts: [host('mx.hoster.example', ['198.51.100.7'])],
      autodiscover: autodiscoverCname(D, 'autodiscover.hoster.example'),
    }),
    classification: 'other-hosted',
    rule: 'foreign-server-mx',
    signals: ['mx-foreign-host', 'autodiscover-provider'],
    hosts: [],
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
    name: 'hybrid leftover: MX and autodiscover in EXO, federation record and an own mail host still answering',
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
      exchangeDelegation: delegation,
      hostLookups: [
        lookup(`mail.${D}`, ['198.18.7.7']),
        lookup(`owa.${D}`, [], { status: 'nxdomain' }),
      ],
    }),
    classification: 'hybrid',
    rule: 'exo-hybrid-leftover',
    confidence: 'low',
    signals: ['exchange-delegation', 'onprem-host-conventional'],
    onprem: 'likely',
    hosts: [`mail.${D}=198.18.7.7`],
  },
  {
    name: 'EXO with a federation record left but no own host answering = EXO (medium), on-prem possible',
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
      exchangeDelegation: delegation,
      hostLookups: [lookup(`mail.${D}`, [], { status: 'nxdomain' })],
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo-federation',
    confidence: 'medium',
    onprem: 'possible',
    hosts: [],
  },
  {
    name: 'a federation TXT that a wildcard gives every name is ignored',
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
      exchangeDelegation: { ...delegation, wildcard: true },
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    onprem: 'none-seen',
  },
  {
    name: "conventional names that are a wildcard's, at Microsoft or at a provider are not on-prem hosts",
    ev: evidence(D, {
      mxHosts: [eop],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
      exchangeDelegation: delegation,
      hostLookups: [
        lookup(`mail.${D}`, ['198.18.9.1'], { wildcard: true }),
        lookup(`owa.${D}`, ['40.107.1.1']),
        lookup(`webmail.${D}`, ['198.51.100.3'], {
          cname: 'webmail.secureserver.net',
        }),
      ],
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo-federation',
    onprem: 'possible',
    hosts: [],
  },
  {
    name: 'backup MX at a third-party service below EOP = EXO with a backup-MX flag, not hybrid',
    ev: evidence(D, {
      mxHosts: [
        eop,
        host('backup-mx.mxbackupservice.example', ['198.51.100.9'], {
          priority: 50,
        }),
      ],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    confidence: 'high',
    signals: ['backup-mx'],
    onprem: 'none-seen',
    hosts: [],
  },
  {
    name: 'legacy EXO inbound *.mail.eo.outlook.com',
    ev: evidence(D, {
      mxHosts: [host('contoso-test.mail.eo.outlook.com', ['40.107.3.3'])],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
    }),
    classification: 'exchange-online',
    rule: 'exo-mx-autodiscover-exo',
    signals: ['mx-eop-legacy'],
  },
  {
    name: 'Google domain with an own autodiscover server left behind keeps Google, on-prem possible with the host',
    ev: evidence(D, {
      mxHosts: [google],
      autodiscover: autodiscoverA(D, ['198.18.4.4']),
    }),
    classification: 'google-workspace',
    rule: 'google-mx',
    onprem: 'possible',
    hosts: [`autodiscover.${D}=198.18.4.4`],
  },
  {
    name: "Google domain with autodiscover at cPanel's discovery host = nothing on-prem",
    ev: evidence(D, {
      mxHosts: [google],
      autodiscover: autodiscoverCname(D, 'cpanelemaildiscovery.cpanel.net'),
    }),
    classification: 'google-workspace',
    rule: 'google-mx',
    onprem: 'none-seen',
    hosts: [],
  },
  {
    name: 'gateway + own autodiscover + EXO DKIM = hybrid behind the gateway',
    ev: evidence(D, {
      mxHosts: [mimecast],
      autodiscover: autodiscoverA(D, ['198.18.3.3']),
      dkim: dkimExo,
    }),
    classification: 'hybrid',
    rule: 'gateway-autodiscover-onprem-m365',
    confidence: 'medium',
    onprem: 'likely',
  },
  {
    name: 'gateway + own autodiscover + SPF authorising EXO = hybrid (low)',
    ev: evidence(D, {
      mxHosts: [mimecast],
      autodiscover: autodiscoverA(D, ['198.18.3.3']),
      txt: ['v=spf1 include:spf.protection.outlook.com -all'],
    }),
    classification: 'hybrid',
    rule: 'gateway-autodiscover-onprem-spf-exo',
    confidence: 'low',
  },
  {
    name: 'gateway + own autodiscover beside autoconfig = a mail server that is not Exchange',
    ev: evidence(D, {
      mxHosts: [mimecast],
      autodiscover: autodiscoverCname(D, `mail.${D}`),
      autoconfig: {
        name: `autoconfig.${D}`,
        status: 'ok',
        target: `mail.${D}`,
      },
      hostLookups: [lookup(`mail.${D}`, ['198.18.3.4'])],
    }),
    classification: 'self-hosted',
    rule: 'gateway-autodiscover-not-exchange',
    onprem: 'none-seen',
    hosts: [`mail.${D}=198.18.3.4`],
  },
  {
    name: 'gateway with Fastmail signing behind it = other-hosted at Fastmail',
    ev: evidence(D, {
      mxHosts: [mimecast],
      providerDkim: [
        {
          name: `fm1._domainkey.${D}`,
          status: 'ok',
          target: `fm1.${D}.dkim.fmhosted.com`,
        },
      ],
    }),
    classification: 'other-hosted',
    rule: 'gateway-provider-dkim',
    provider: 'fastmail',
    signals: ['dkim-provider-fastmail'],
    onprem: 'none-seen',
  },
  {
    name: 'foreign MX with Migadu signing = other-hosted at Migadu',
    ev: evidence(D, {
      mxHosts: [host('mx.relay.example', ['198.51.100.30'])],
      providerDkim: [
        {
          name: `key1._domainkey.${D}`,
          status: 'ok',
          target: `key1.${D}._domainkey.migadu.com`,
        },
      ],
    }),
    classification: 'other-hosted',
    rule: 'foreign-server-provider-dkim',
    provider: 'migadu',
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
    if (c.onprem) expect(v.onpremExchange).toBe(c.onprem);
    if (c.hosts) {
      const cell = onpremHostsCell(v.onpremHosts);
      expect(cell === '' ? [] : cell.split(';')).toEqual(c.hosts);
    }
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

describe('onprem_exchange where the classification cannot tell', () => {
  it('a gateway that hides what stands behind it gives unknown', () => {
    const v = classify(
      evidence(D, {
        mxHosts: [mimecast],
        txt: ['v=spf1 include:_netblocks.mimecast.com ~all'],
      }),
    );
    expect(v.classification).toBe('unknown');
    expect(v.onpremExchange).toBe('unknown');
  });

  it('a timeout is unknown, a domain without mail none-seen, an invalid input unknown', () => {
    expect(classify(evidence(D, { status: 'timeout' })).onpremExchange).toBe(
      'unknown',
    );
    expect(classify(evidence(D, { status: 'nxdomain' })).onpremExchange).toBe(
      'none-seen',
    );
    expect(classify(evidence('', { status: 'invalid' })).onpremExchange).toBe(
      'unknown',
    );
  });

  it('Exchange Online proven and nothing else: none-seen; with a failed federation query: unknown', () => {
    const proven = {
      mxHosts: [eop],
      autodiscover: autodiscoverCname(D, 'autodiscover.outlook.com'),
    };
    expect(classify(evidence(D, proven)).onpremExchange).toBe('none-seen');
    const failed = classify(
      evidence(D, {
        ...proven,
        exchangeDelegation: { status: 'timeout', records: [], wildcard: false },
        failures: [`exchangedelegation.${D} TXT: timeout`],
      }),
    );
    expect(failed.onpremExchange).toBe('unknown');
  });

  it('Google domain whose autodiscover timed out: still Google Workspace, but on-prem unknown, not none-seen', () => {
    const v = classify(
      evidence(D, {
        mxHosts: [google],
        autodiscover: {
          name: `autodiscover.${D}`,
          status: 'timeout',
          cname: null,
          addresses: [],
          wildcard: false,
        },
        failures: [`autodiscover.${D} CNAME: timeout`],
      }),
    );
    expect(v.classification).toBe('google-workspace');
    expect(v.onpremExchange).toBe('unknown');
  });

  it('an own mail server without autodiscover may still be Exchange: possible, with its host', () => {
    const v = classify(evidence(D, { mxHosts: [own] }));
    expect(v.onpremExchange).toBe('possible');
    expect(v.onpremHosts).toEqual([
      { name: `mail.${D}`, addresses: ['198.18.0.10'], sources: ['mx'] },
    ]);
  });

  it('EOP MX + own autodiscover (the classic hybrid): likely, the autodiscover host listed', () => {
    const v = classify(
      evidence(D, {
        mxHosts: [eop],
        autodiscover: autodiscoverA(D, ['198.18.0.10', '40.107.9.9']),
      }),
    );
    expect(v.onpremExchange).toBe('likely');
    // The Microsoft address is never a host to probe.
    expect(onpremHostsCell(v.onpremHosts)).toBe(
      `autodiscover.${D}=198.18.0.10`,
    );
  });
});

describe('signature table: each entry recognised by its own suffix', () => {
  it.each(MX_SIGNATURES.flatMap((s) => s.suffixes.map((x) => [s.id, x])))(
    'MX %s (%s)',
    (id, suffix) => {
      const v = classify(
        evidence(D, { mxHosts: [host(`mx1.${suffix}`, ['198.51.100.1'])] }),
      );
      expect(v.reasons).toContain(id);
    },
  );

  it.each(
    AUTODISCOVER_PUBLISHERS.flatMap((s) => s.suffixes.map((x) => [s.id, x])),
  )("autodiscover publisher %s (%s) is the hoster's", (id, suffix) => {
    const v = classify(
      evidence(D, {
        mxHosts: [own],
        autodiscover: autodiscoverCname(D, `autodiscover.${suffix}`),
      }),
    );
    expect(v.reasons).toContain(id);
    expect(v.classification).toBe('self-hosted');
    expect(v.onpremExchange).toBe('none-seen');
  });

  it.each([
    ['dkim-provider-fastmail', `fm1.${D}.dkim.fmhosted.com`],
    ['dkim-provider-migadu', `key1.${D}._domainkey.migadu.com`],
    ['dkim-provider-proton', 'protonmail.domainkey.dabc.domains.proton.ch'],
    ['dkim-provider-mailbox-org', 'mbo0001._domainkey.mailbox.org'],
    ['dkim-provider-amazon-ses', 'abcdef123._domainkey.dkim.amazonses.com'],
  ])('provider DKIM %s', (id, target) => {
    expect(PROVIDER_DKIM.map((p) => p.id)).toContain(id);
    const v = classify(
      evidence(D, {
        mxHosts: [mimecast],
        providerDkim: [{ name: `x._domainkey.${D}`, status: 'ok', target }],
      }),
    );
    expect(v.reasons).toContain(id);
    expect(v.classification).toBe('other-hosted');
  });

  it("Mimecast's hosted SPF (redirect=…_spf._d.mim.ec) is Mimecast SPF", () => {
    const v = classify(
      evidence(D, {
        mxHosts: [mimecast],
        txt: ['v=spf1 redirect=eu123._spf._d.mim.ec'],
      }),
    );
    expect(v.reasons).toContain('spf-gateway-mimecast');
  });

  it('Amazon SES inbound is amazon-ses, not WorkMail', () => {
    const v = classify(
      evidence(D, {
        mxHosts: [
          host('inbound-smtp.eu-west-1.amazonaws.com', ['198.51.100.2']),
        ],
      }),
    );
    expect(v.provider).toBe('amazon-ses');
  });
});
