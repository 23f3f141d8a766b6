/**
 * The signatures the classifier recognises, as data. Each row has an id (what
 * the `reasons` column shows), the host-name suffixes or SPF include domains
 * that identify it, and one line saying what it proves. docs/classification.md
 * is generated from these tables (`npm run docs`), and a test checks it is
 * current.
 */

/** Microsoft's sovereign clouds; the verdict is the same, the evidence differs. */
export type MicrosoftCloud = 'worldwide' | 'gcc-high' | '21vianet';

/** What kind of service a signature identifies. */
export type SignatureKind =
  /** Exchange Online Protection: where inbound mail for an EXO tenant enters. */
  | 'microsoft'
  /** Google Workspace (Gmail) inbound. */
  | 'google'
  /** A filtering gateway: accepts mail and relays it to what stands behind. */
  | 'gateway'
  /** A hosted mailbox provider that is not Exchange. */
  | 'provider';

export interface HostSignature {
  id: string;
  kind: SignatureKind;
  /** Provider (microsoft, google, zoho, ...) or gateway vendor name. */
  name: string;
  /** Matched as the whole host name or a suffix at a label boundary. */
  suffixes: readonly string[];
  cloud?: MicrosoftCloud;
  description: string;
}

/** MX host signatures, most specific first. */
export const MX_SIGNATURES: readonly HostSignature[] = [
  {
    id: 'mx-eop',
    kind: 'microsoft',
    name: 'microsoft',
    suffixes: ['mail.protection.outlook.com'],
    cloud: 'worldwide',
    description: 'MX at Exchange Online Protection (worldwide)',
  },
  {
    id: 'mx-eop-mx-microsoft',
    kind: 'microsoft',
    name: 'microsoft',
    suffixes: ['mx.microsoft'],
    cloud: 'worldwide',
    description: 'MX at the DNSSEC-capable EOP inbound (*.mx.microsoft)',
  },
  {
    id: 'mx-eop-gcc-high',
    kind: 'microsoft',
    name: 'microsoft',
    suffixes: ['mail.protection.office365.us'],
    cloud: 'gcc-high',
    description: 'MX at Exchange Online Protection, GCC High / DoD',
  },
  {
    id: 'mx-eop-21vianet',
    kind: 'microsoft',
    name: 'microsoft',
    suffixes: ['mail.protection.partner.outlook.cn'],
    cloud: '21vianet',
    description: 'MX at Exchange Online Protection operated by 21Vianet',
  },
  {
    id: 'mx-google',
    kind: 'google',
    name: 'google',
    suffixes: ['google.com', 'googlemail.com'],
    description: 'MX at Google Workspace (aspmx.l.google.com, smtp.google.com)',
  },
  gateway('mimecast', [
    'mimecast.com',
    'mimecast.co.za',
    'mimecast-offshore.com',
  ]),
  gateway('proofpoint', ['pphosted.com', 'ppe-hosted.com', 'ppops.net']),
  gateway('barracuda', ['barracudanetworks.com', 'barracuda.com']),
  gateway('sophos', ['hydra.sophos.com', 'sophos.com']),
  gateway('broadcom', ['messagelabs.com']),
  gateway('cisco', ['iphmx.com']),
  gateway('trendmicro', ['tmes.trendmicro.com', 'tmes.trendmicro.eu']),
  gateway('forcepoint', ['mailcontrol.com']),
  gateway('hornetsecurity', ['hornetsecurity.com']),
  gateway('spamexperts', ['antispamcloud.com', 'spamexperts.com']),
  gateway('trustwave', ['trustwave.com']),
  gateway('fortinet', ['fortimail.com']),
  gateway('checkpoint', ['checkpointcloudsec.com']),
  gateway('libraesva', ['libraesva.com']),
  gateway('retarus', ['retarus.com']),
  gateway('topsec', ['topsec.com']),
  provider('zoho', ['zoho.com', 'zoho.eu', 'zoho.in', 'zohomail.com']),
  provider('fastmail', ['messagingengine.com']),
  provider('ovh', ['ovh.net']),
  provider('godaddy', ['secureserver.net']),
  provider('ionos', [
    'ionos.com',
    'ionos.de',
    'ionos.co.uk',
    'kundenserver.de',
  ]),
  provider('strato', ['rzone.de']),
  provider('yandex', ['yandex.net', 'yandex.ru']),
  provider('icloud', ['icloud.com']),
  provider('yahoo', ['yahoodns.net']),
  provider('proton', ['protonmail.ch']),
  provider('amazon-workmail', ['amazonaws.com', 'awsapps.com']),
  provider('rackspace', ['emailsrvr.com']),
  provider('namecheap', ['privateemail.com', 'registrar-servers.com']),
  provider('hostinger', ['hostinger.com']),
  provider('one.com', ['one.com']),
  provider('gandi', ['gandi.net']),
  provider('mailbox.org', ['mailbox.org']),
  provider('mail.ru', ['mail.ru']),
];

/** Autodiscover CNAME / SRV targets that mean Exchange Online answers it. */
export const AUTODISCOVER_SIGNATURES: readonly HostSignature[] = [
  {
    id: 'autodiscover-exo',
    kind: 'microsoft',
    name: 'microsoft',
    suffixes: ['outlook.com', 'office365.com', 'office.com'],
    cloud: 'worldwide',
    description:
      'Autodiscover points at Exchange Online (autodiscover.outlook.com)',
  },
  {
    id: 'autodiscover-exo-gcc-high',
    kind: 'microsoft',
    name: 'microsoft',
    suffixes: ['office365.us'],
    cloud: 'gcc-high',
    description: 'Autodiscover points at Exchange Online GCC High',
  },
  {
    id: 'autodiscover-exo-21vianet',
    kind: 'microsoft',
    name: 'microsoft',
    suffixes: ['partner.outlook.cn'],
    cloud: '21vianet',
    description: 'Autodiscover points at Exchange Online operated by 21Vianet',
  },
];

export interface SpfSignature {
  id: string;
  kind: SignatureKind;
  name: string;
  /** Matched against `include:` / `redirect=` domains, whole or as a suffix. */
  domains: readonly string[];
  description: string;
}

/** SPF include / redirect targets. Outbound evidence only: SPF says who may send. */
export const SPF_SIGNATURES: readonly SpfSignature[] = [
  {
    id: 'spf-exo',
    kind: 'microsoft',
    name: 'microsoft',
    domains: [
      'spf.protection.outlook.com',
      'spf.protection.office365.us',
      'spf.protection.partner.outlook.cn',
    ],
    description: 'SPF includes Exchange Online: the tenant sends through EXO',
  },
  {
    id: 'spf-google',
    kind: 'google',
    name: 'google',
    domains: ['_spf.google.com'],
    description: 'SPF includes Google Workspace',
  },
  spfGateway('mimecast', ['_netblocks.mimecast.com', 'mimecast.com']),
  spfGateway('proofpoint', ['pphosted.com']),
  spfGateway('barracuda', ['spf.ess.barracudanetworks.com']),
  spfGateway('sophos', ['_spf.prod.hydra.sophos.com', 'hydra.sophos.com']),
  spfGateway('broadcom', ['spf.messagelabs.com']),
  spfGateway('cisco', ['iphmx.com']),
];

/**
 * DKIM selector CNAME targets of Exchange Online. The tenant name is the
 * label captured by `tenant`.
 */
export const DKIM_PATTERNS: readonly {
  id: string;
  pattern: RegExp;
  cloud: MicrosoftCloud;
  description: string;
}[] = [
  {
    id: 'dkim-exo',
    // selector1-contoso-com._domainkey.contoso.onmicrosoft.com
    pattern: /\._domainkey\.(?<tenant>[a-z0-9-]+)\.onmicrosoft\.com$/,
    cloud: 'worldwide',
    description: 'DKIM selector CNAME to <tenant>.onmicrosoft.com (EXO signs)',
  },
  {
    id: 'dkim-exo-mail-microsoft',
    // selector1-contoso-com._domainkey.contoso.n-v1.dkim.mail.microsoft
    pattern:
      /\._domainkey\.(?<tenant>[a-z0-9-]+)\.[a-z0-9]+-v1\.dkim\.mail\.microsoft$/,
    cloud: 'worldwide',
    description: 'DKIM selector CNAME to the newer *.dkim.mail.microsoft form',
  },
  {
    id: 'dkim-exo-gcc-high',
    pattern: /\._domainkey\.(?<tenant>[a-z0-9-]+)\.onmicrosoft\.us$/,
    cloud: 'gcc-high',
    description: 'DKIM selector CNAME to <tenant>.onmicrosoft.us (GCC High)',
  },
  {
    id: 'dkim-exo-21vianet',
    pattern: /\._domainkey\.(?<tenant>[a-z0-9-]+)\.partner\.onmschina\.cn$/,
    cloud: '21vianet',
    description: 'DKIM selector CNAME to <tenant>.partner.onmschina.cn',
  },
];

/** Microsoft 365 service records: a tenant exists, nothing about mail. */
export const SERVICE_SIGNATURES: readonly {
  id: string;
  label: string;
  suffixes: readonly string[];
  description: string;
}[] = [
  {
    id: 'teams-lyncdiscover',
    label: 'lyncdiscover',
    suffixes: ['lync.com', 'teams.microsoft.com'],
    description:
      'lyncdiscover CNAME to Microsoft Teams / Skype for Business Online',
  },
  {
    id: 'teams-sip',
    label: 'sip',
    suffixes: ['lync.com', 'teams.microsoft.com'],
    description: 'sip CNAME to Microsoft Teams / Skype for Business Online',
  },
  {
    id: 'entra-registration',
    label: 'enterpriseregistration',
    suffixes: ['windows.net', 'microsoftonline.com'],
    description: 'enterpriseregistration CNAME to Entra ID device registration',
  },
  {
    id: 'intune-enrollment',
    label: 'enterpriseenrollment',
    suffixes: ['manage.microsoft.com'],
    description: 'enterpriseenrollment CNAME to Intune',
  },
];

function gateway(name: string, suffixes: string[]): HostSignature {
  return {
    id: `mx-gateway-${name}`,
    kind: 'gateway',
    name,
    suffixes,
    description: `MX at the ${name} filtering gateway: mail is relayed onwards`,
  };
}

function provider(name: string, suffixes: string[]): HostSignature {
  return {
    id: `mx-provider-${name}`,
    kind: 'provider',
    name,
    suffixes,
    description: `MX at ${name}, a hosted mail provider that is not Exchange`,
  };
}

function spfGateway(name: string, domains: string[]): SpfSignature {
  return {
    id: `spf-gateway-${name}`,
    kind: 'gateway',
    name,
    domains,
    description: `SPF includes the ${name} gateway`,
  };
}

/** True when `host` is `suffix` or ends with `.suffix`. */
export function hasSuffix(host: string, suffix: string): boolean {
  return (
    host === suffix ||
    (host.length > suffix.length &&
      host.endsWith(suffix) &&
      host.charCodeAt(host.length - suffix.length - 1) === 46) // '.'
  );
}

/** The first signature whose suffixes match `host`, or null. */
export function matchHost<S extends { suffixes: readonly string[] }>(
  table: readonly S[],
  host: string,
): S | null {
  for (const sig of table) {
    for (const s of sig.suffixes) if (hasSuffix(host, s)) return sig;
  }
  return null;
}
