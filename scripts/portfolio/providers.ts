/**
 * The providers a portfolio's domains point at, served as zones of their own
 * beside the portfolio: host names spelled as the real ones, addresses in
 * the providers' real ranges (so a real IP-to-ASN table recognises them),
 * own hosts in 198.18.0.0/15 (RFC 2544, owned by nobody). The addresses are
 * data: nothing may ever connect to them.
 */
import type { Rng } from './rng.js';
import { HEX } from './rng.js';

/** Writes one record; the zone is found from the owner name. */
export type Emit = (
  name: string,
  ttl: number,
  type: RecordType,
  data: string,
) => void;

export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'TXT' | 'SRV';

/** Zones served besides the portfolio's own (`test`, `example`). */
export const PROVIDER_ZONES = [
  'outlook.com',
  'office.com',
  'onmicrosoft.com',
  'mx.microsoft',
  'lync.com',
  'windows.net',
  'microsoft.com',
  'google.com',
  'mimecast.com',
  'pphosted.com',
  'barracudanetworks.com',
  'sophos.com',
  'messagingengine.com',
  'ovh.net',
  'secureserver.net',
  'asn.cymru.com',
] as const;

const octet = (rng: Rng): number => rng.int(1, 254);
const byte = (rng: Rng): number => rng.int(0, 255);

export const address = {
  /** Exchange Online Protection's inbound hosts (AS8075). */
  eop: (rng: Rng): string =>
    rng.chance(0.5)
      ? `52.101.${byte(rng)}.${octet(rng)}`
      : `40.107.${byte(rng)}.${octet(rng)}`,
  eop6: (rng: Rng): string =>
    `2a01:111:f403:${rng.chars(4, HEX)}::${rng.chars(1, HEX)}`,
  /** A customer's own host: RFC 2544 space, no owner in any ASN table. */
  own: (rng: Rng): string =>
    `198.${rng.int(18, 19)}.${byte(rng)}.${octet(rng)}`,
  proofpoint: (rng: Rng): string =>
    `148.163.${rng.int(128, 159)}.${octet(rng)}`,
  barracuda: (rng: Rng): string => `209.222.${rng.int(80, 87)}.${octet(rng)}`,
};

/** Inbound filtering services: MX hosts and the SPF include they ask for. */
export type FilterVendor = 'mimecast' | 'proofpoint' | 'barracuda' | 'sophos';

export const FILTER_VENDORS: ReadonlyArray<readonly [FilterVendor, number]> = [
  ['mimecast', 45],
  ['proofpoint', 30],
  ['barracuda', 15],
  ['sophos', 10],
];

const MIMECAST_REGIONS = ['eu', 'us', 'uk', 'de', 'au', 'za'] as const;

export const FILTER_SPF: Record<FilterVendor, string> = {
  mimecast: 'include:_netblocks.mimecast.com',
  proofpoint: 'include:_spf.pphosted.com',
  barracuda: 'include:spf.ess.barracudanetworks.com',
  sophos: 'include:_spf.prod.hydra.sophos.com',
};

/**
 * The MX records (preference, host) a domain gets from a filter vendor; the
 * per-customer hosts (Proofpoint, Barracuda) are written with their address.
 */
export function filterMx(
  vendor: FilterVendor,
  rng: Rng,
  emit: Emit,
): Array<[number, string]> {
  switch (vendor) {
    case 'mimecast': {
      const region = rng.pick(MIMECAST_REGIONS);
      return [1, 2].map((k) => [
        10,
        `${region}-smtp-inbound-${k}.mimecast.com`,
      ]);
    }
    case 'proofpoint': {
      const id = rng.chars(8, '0123456789');
      return ['a', 'b'].map((ab) => {
        const host = `mx0${ab}-${id}.pphosted.com`;
        emit(host, 300, 'A', address.proofpoint(rng));
        return [10, host];
      });
    }
    case 'barracuda': {
      const id = `d${rng.chars(6, '0123456789')}`;
      return ['a', 'b'].map((ab) => {
        const host = `${id}${ab}.ess.barracudanetworks.com`;
        emit(host, 300, 'A', address.barracuda(rng));
        return [10, host];
      });
    }
    case 'sophos':
      return [1, 2].map((k) => [
        k * 10,
        `mx-0${k}-eu-west-1.prod.hydra.sophos.com`,
      ]);
  }
}

/** Mail hosts with nothing Exchange about them. */
export type OtherHost = 'fastmail' | 'ovh' | 'godaddy';

export const OTHER_HOSTS: Record<
  OtherHost,
  { mx: ReadonlyArray<readonly [number, string]>; spf: string; net: string }
> = {
  fastmail: {
    mx: [
      [10, 'in1-smtp.messagingengine.com'],
      [20, 'in2-smtp.messagingengine.com'],
    ],
    spf: 'include:spf.messagingengine.com',
    net: '103.168.172',
  },
  ovh: {
    mx: [
      [1, 'mx1.mail.ovh.net'],
      [5, 'mx2.mail.ovh.net'],
      [100, 'mx3.mail.ovh.net'],
    ],
    spf: 'include:_spf.mail.ovh.net',
    net: '188.165.36',
  },
  godaddy: {
    mx: [
      [0, 'mx1.secureserver.net'],
      [10, 'mx2.secureserver.net'],
    ],
    spf: 'include:secureserver.net',
    net: '68.178.213',
  },
};

export const GOOGLE_MX: ReadonlyArray<readonly [number, string]> = [
  [1, 'aspmx.l.google.com'],
  [5, 'alt1.aspmx.l.google.com'],
  [5, 'alt2.aspmx.l.google.com'],
  [10, 'alt3.aspmx.l.google.com'],
  [10, 'alt4.aspmx.l.google.com'],
];

const txt = (text: string): string => `"${text}"`;

/** The providers' shared hosts, SPF records and endpoints (once per portfolio). */
export function emitProviders(rng: Rng, emit: Emit): void {
  // Exchange Online, Teams, Intune
  emit(
    'autodiscover.outlook.com',
    300,
    'CNAME',
    'autod.ms-acdc-autod.office.com.',
  );
  for (let i = 0; i < 4; i++) {
    emit(
      'autod.ms-acdc-autod.office.com',
      60,
      'A',
      `52.97.${byte(rng)}.${octet(rng)}`,
    );
  }
  emit(
    'autod.ms-acdc-autod.office.com',
    60,
    'AAAA',
    `2603:1026:${rng.chars(4, HEX)}::${rng.chars(2, HEX)}`,
  );
  emit(
    'spf.protection.outlook.com',
    3600,
    'TXT',
    txt(
      'v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip4:52.102.0.0/16 ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 include:spfd.protection.outlook.com -all',
    ),
  );
  emit(
    'spfd.protection.outlook.com',
    3600,
    'TXT',
    txt(
      'v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 ip6:2a01:4180:4051:0800::/64 -all',
    ),
  );
  emit('webdir.online.lync.com', 3600, 'CNAME', 'webdir.cloudapp.lync.com.');
  for (const host of [
    'webdir.cloudapp.lync.com',
    'sipdir.online.lync.com',
    'sipfed.online.lync.com',
  ]) {
    emit(host, 300, 'A', `52.112.${byte(rng)}.${octet(rng)}`);
  }
  emit(
    'enterpriseregistration.windows.net',
    3600,
    'CNAME',
    'enterpriseregistration.trafficmanager.windows.net.',
  );
  emit(
    'enterpriseregistration.trafficmanager.windows.net',
    60,
    'A',
    `20.190.${rng.int(128, 191)}.${octet(rng)}`,
  );
  emit(
    'enterpriseenrollment.manage.microsoft.com',
    3600,
    'CNAME',
    'enterpriseenrollment-s.manage.microsoft.com.',
  );
  emit(
    'enterpriseenrollment-s.manage.microsoft.com',
    300,
    'A',
    `20.${rng.int(40, 49)}.${byte(rng)}.${octet(rng)}`,
  );

  // Google Workspace
  for (const host of [...GOOGLE_MX.map(([, h]) => h), 'smtp.google.com']) {
    emit(host, 300, 'A', `142.250.${byte(rng)}.${octet(rng)}`);
    emit(
      host,
      300,
      'AAAA',
      `2607:f8b0:4004:c${rng.chars(2, HEX)}::${rng.chars(2, HEX)}`,
    );
  }
  emit(
    '_spf.google.com',
    300,
    'TXT',
    txt(
      'v=spf1 include:_netblocks.google.com include:_netblocks2.google.com ~all',
    ),
  );
  emit(
    '_netblocks.google.com',
    3600,
    'TXT',
    txt(
      'v=spf1 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ip4:74.125.0.0/16 ip4:142.250.0.0/15 ip4:209.85.128.0/17 ~all',
    ),
  );
  emit(
    '_netblocks2.google.com',
    3600,
    'TXT',
    txt(
      'v=spf1 ip6:2001:4860:4000::/36 ip6:2607:f8b0:4000::/36 ip6:2a00:1450:4000::/36 ~all',
    ),
  );

  // Filters (Proofpoint's and Barracuda's hosts are per customer: filterMx)
  for (const region of MIMECAST_REGIONS) {
    for (const k of [1, 2]) {
      for (let i = 0; i < 2; i++) {
        emit(
          `${region}-smtp-inbound-${k}.mimecast.com`,
          300,
          'A',
          `185.58.${rng.int(84, 87)}.${octet(rng)}`,
        );
      }
    }
  }
  emit(
    '_netblocks.mimecast.com',
    3600,
    'TXT',
    txt('v=spf1 ip4:185.58.84.0/22 ip4:195.130.217.0/24 ~all'),
  );
  emit(
    '_spf.pphosted.com',
    3600,
    'TXT',
    txt('v=spf1 ip4:148.163.128.0/19 ip4:67.231.144.0/20 ~all'),
  );
  emit(
    'spf.ess.barracudanetworks.com',
    3600,
    'TXT',
    txt('v=spf1 ip4:64.235.144.0/20 ip4:209.222.80.0/21 ~all'),
  );
  for (let k = 1; k <= 2; k++) {
    emit(
      `mx-0${k}-eu-west-1.prod.hydra.sophos.com`,
      300,
      'A',
      `35.${rng.int(176, 179)}.${byte(rng)}.${octet(rng)}`,
    );
  }
  emit(
    '_spf.prod.hydra.sophos.com',
    3600,
    'TXT',
    txt('v=spf1 ip4:35.176.0.0/14 ~all'),
  );

  // Other mail hosts
  for (const host of Object.values(OTHER_HOSTS)) {
    for (const [, name] of host.mx)
      emit(name, 300, 'A', `${host.net}.${octet(rng)}`);
  }
  emit(
    'spf.messagingengine.com',
    3600,
    'TXT',
    txt('v=spf1 ip4:103.168.172.0/24 ~all'),
  );
  emit(
    '_spf.mail.ovh.net',
    3600,
    'TXT',
    txt('v=spf1 ip4:188.165.36.0/24 ~all'),
  );
  emit('secureserver.net', 3600, 'TXT', txt('v=spf1 ip4:68.178.213.0/24 ~all'));

  emitCymru(rng, emit);
}

/**
 * Team Cymru's IP-to-ASN answers (`--asn-source cymru`) for every range
 * used above: `<reversed-ip>.origin.asn.cymru.com TXT "ASN | prefix | CC |
 * registry | date"`, wildcards per /16 or /24; the RFC 2544 space is spread
 * over the documentation ASNs 64496-64511 (RFC 5398) per /24.
 */
function emitCymru(rng: Rng, emit: Emit): void {
  const zone = 'asn.cymru.com';
  const origin = (net: string, asn: number, prefix: string, cc: string) =>
    emit(
      `*.${net.split('.').reverse().join('.')}.origin.${zone}`,
      14400,
      'TXT',
      txt(`${asn} | ${prefix} | ${cc} | arin | 2015-01-01`),
    );
  origin('52.101', 8075, '52.96.0.0/12', 'US');
  origin('52.97', 8075, '52.96.0.0/12', 'US');
  origin('40.107', 8075, '40.96.0.0/12', 'US');
  origin('52.112', 8075, '52.112.0.0/14', 'US');
  origin('20.190', 8075, '20.190.128.0/18', 'US');
  for (let o = 40; o <= 49; o++) origin(`20.${o}`, 8075, '20.32.0.0/11', 'US');
  origin('142.250', 15169, '142.250.0.0/15', 'US');
  for (let o = 84; o <= 87; o++)
    origin(`185.58.${o}`, 30031, '185.58.84.0/22', 'GB');
  for (let o = 128; o <= 159; o++)
    origin(`148.163.${o}`, 26211, '148.163.128.0/19', 'US');
  for (let o = 80; o <= 87; o++)
    origin(`209.222.${o}`, 15324, '209.222.80.0/21', 'US');
  for (let o = 176; o <= 179; o++)
    origin(`35.${o}`, 16509, '35.176.0.0/14', 'GB');
  origin('103.168.172', 19151, '103.168.172.0/24', 'AU');
  origin('188.165.36', 16276, '188.165.0.0/16', 'FR');
  origin('68.178.213', 26496, '68.178.128.0/17', 'US');
  for (const b of [18, 19]) {
    for (let c = 0; c < 256; c++) {
      origin(
        `198.${b}.${c}`,
        rng.int(64496, 64511),
        `198.${b}.${c}.0/24`,
        'ZZ',
      );
    }
  }
  const names: Record<number, string> = {
    8075: 'US | arin | 1997-03-24 | MICROSOFT-CORP-MSN-AS-BLOCK, US',
    15169: 'US | arin | 2000-03-30 | GOOGLE, US',
    30031: 'GB | ripencc | 2004-03-08 | MIMECAST-AS, GB',
    26211: 'US | arin | 2002-09-10 | PROOFPOINT-ASN-US-EAST, US',
    15324: 'US | arin | 2000-11-14 | BARRACUDA-NETWORKS, US',
    16509: 'US | arin | 2000-05-04 | AMAZON-02, US',
  };
  for (let a = 64496; a <= 64511; a++) {
    names[a] = `ZZ | other | 2010-01-01 | DOCUMENTATION-AS-${a}, ZZ`;
  }
  for (const [asn, rest] of Object.entries(names)) {
    emit(`AS${asn}.${zone}`, 14400, 'TXT', txt(`${asn} | ${rest}`));
  }
}
