/**
 * A small portfolio for the report and diff tests, served by the fake DNS
 * server: one domain per verdict that matters, a hostile TXT record, and a
 * second state of the zone ("three months later") with known changes.
 */
import { startFakeDnsServer } from './dns-server.js';
import type { FakeDnsServer, FakeRecord } from './dns-server.js';

const EOP = (domain: string): FakeRecord[] => [
  {
    name: domain,
    type: 'MX',
    data: {
      preference: 0,
      exchange: `${domain.replace(/\./g, '-')}.mail.protection.outlook.com`,
    },
  },
  {
    name: `${domain.replace(/\./g, '-')}.mail.protection.outlook.com`,
    type: 'A',
    data: '52.101.1.1',
  },
];

const OWN_MX = (domain: string, ip: string): FakeRecord[] => [
  {
    name: domain,
    type: 'MX',
    data: { preference: 10, exchange: `mail.${domain}` },
  },
  { name: `mail.${domain}`, type: 'A', data: ip },
];

const AUTODISCOVER_EXO = (domain: string): FakeRecord => ({
  name: `autodiscover.${domain}`,
  type: 'CNAME',
  data: 'autodiscover.outlook.com',
});

const AUTODISCOVER_OWN = (domain: string, ip: string): FakeRecord => ({
  name: `autodiscover.${domain}`,
  type: 'A',
  data: ip,
});

/** Text a hostile zone publishes, to be shown as text and never run. */
export const HOSTILE_TXT = '<img src=x onerror=alert(1)>';
export const HOSTILE_SCRIPT = '</script><script>alert(2)</script>';
export const HOSTILE_CLIENT = '<b id=evil>Evil & Co</b>';

/** The input: client, domain. */
export const WORLD_INPUT =
  'client,domain\n' +
  'Alpha,exo.test\n' +
  'Alpha,onprem.test\n' +
  'Beta,hybrid.test\n' +
  'Beta,google.test\n' +
  'Gamma,gw.test\n' +
  'Gamma,broken.test\n' +
  `"${HOSTILE_CLIENT}",hostile.test\n` +
  'Delta,gone.test\n';

/** The zone at the first scan. */
export function worldBefore(): FakeRecord[] {
  return [
    ...EOP('exo.test'),
    AUTODISCOVER_EXO('exo.test'),
    ...OWN_MX('onprem.test', '198.18.0.7'),
    AUTODISCOVER_OWN('onprem.test', '198.18.0.7'),
    ...EOP('hybrid.test'),
    AUTODISCOVER_OWN('hybrid.test', '198.18.0.8'),
    {
      name: 'google.test',
      type: 'MX',
      data: { preference: 1, exchange: 'aspmx.l.google.com' },
    },
    { name: 'aspmx.l.google.com', type: 'A', data: '142.250.1.27' },
    {
      name: 'gw.test',
      type: 'MX',
      data: { preference: 10, exchange: 'gw-test.pphosted.com' },
    },
    { name: 'gw-test.pphosted.com', type: 'A', data: '148.163.1.1' },
    ...EOP('hostile.test'),
    AUTODISCOVER_EXO('hostile.test'),
    { name: 'hostile.test', type: 'TXT', data: HOSTILE_TXT },
    { name: 'hostile.test', type: 'TXT', data: HOSTILE_SCRIPT },
  ];
}

/** Domains the fake server answers SERVFAIL for. */
export const BROKEN = new Set(['broken.test']);

/** What the report's action list must hold for {@link worldBefore}. */
export const EXPECTED_ACTIONS = [
  'broken.test',
  'gw.test',
  'hybrid.test',
  'onprem.test',
];

/**
 * The zone three months later: onprem.test moved to Exchange Online,
 * exo.test's tenant DKIM appeared (a tenant), gw.test changed gateway
 * (Proofpoint to Mimecast), hybrid.test unchanged; the input also lost
 * gone.test... (see {@link WORLD_INPUT_AFTER}).
 */
export function worldAfter(): FakeRecord[] {
  return [
    ...worldBefore().filter(
      (r) =>
        !r.name.endsWith('onprem.test') &&
        !r.name.startsWith('gw') &&
        r.name !== 'gw.test',
    ),
    ...EOP('onprem.test'),
    AUTODISCOVER_EXO('onprem.test'),
    {
      name: 'gw.test',
      type: 'MX',
      data: { preference: 10, exchange: 'eu-smtp-inbound-1.mimecast.com' },
    },
    { name: 'eu-smtp-inbound-1.mimecast.com', type: 'A', data: '91.220.42.1' },
    {
      name: 'selector1._domainkey.exo.test',
      type: 'CNAME',
      data: 'selector1-exo-test._domainkey.contosoexo.onmicrosoft.com',
    },
    ...OWN_MX('new.test', '198.18.0.9'),
    AUTODISCOVER_OWN('new.test', '198.18.0.9'),
  ];
}

/** The input of the second scan: gone.test removed, new.test added. */
export const WORLD_INPUT_AFTER = WORLD_INPUT.replace(
  'Delta,gone.test\n',
  'Delta,new.test\n',
);

/** The fake DNS server serving {@link worldBefore}, SERVFAIL for {@link BROKEN}. */
export function startWorldServer(): Promise<FakeDnsServer> {
  return startFakeDnsServer({
    records: worldBefore(),
    behaviour: (name) =>
      [...BROKEN].some((b) => name === b || name.endsWith(`.${b}`))
        ? 'servfail'
        : 'answer',
  });
}

/** The scan flags for the world's server: no retries, a short timeout. */
export function worldDnsFlags(server: FakeDnsServer): string[] {
  return [
    '--resolver',
    server.address,
    '--asn-source',
    'none',
    '--retries',
    '0',
    '--timeout',
    '500',
  ];
}
