import { getDomain } from 'tldts';

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
  {
    id: 'mx-eop-legacy',
    kind: 'microsoft',
    name: 'microsoft',
    // Microsoft Learn, "External Domain Name System records for Office 365"
    // (older tenants' MX <tenant>.mail.eo.outlook.com, still met in portfolios).
    suffixes: ['mail.eo.outlook.com'],
    cloud: 'worldwide',
    description:
      'MX at the legacy Exchange Online inbound (*.mail.eo.outlook.com)',
  },
  // Gateways: each vendor's published MX host names (admin guides).
  // Mimecast: "Mimecast Inbound MX records" (community.mimecast.com).
  gateway('mimecast', [
    'mimecast.com',
    'mimecast.co.za',
    'mimecast-offshore.com',
  ]),
  // Proofpoint Essentials / Enterprise: pphosted.com, ppe-hosted.com.
  gateway('proofpoint', ['pphosted.com', 'ppe-hosted.com', 'ppops.net']),
  // Barracuda Email Security Service: <id>.ess.barracudanetworks.com.
  gateway('barracuda', ['barracudanetworks.com', 'barracuda.com']),
  // Sophos Central Email: mx-01-<region>.prod.hydra.sophos.com.
  gateway('sophos', ['hydra.sophos.com', 'sophos.com']),
  // Symantec / Broadcom Email Security.cloud: cluster*.messagelabs.com.
  gateway('broadcom', ['messagelabs.com']),
  // Cisco Secure Email (IronPort cloud): mx*.iphmx.com.
  gateway('cisco', ['iphmx.com']),
  // Trend Micro Email Security: *.tmes.trendmicro.com / .eu.
  gateway('trendmicro', ['tmes.trendmicro.com', 'tmes.trendmicro.eu']),
  // Forcepoint Email Security Cloud: *.mailcontrol.com.
  gateway('forcepoint', ['mailcontrol.com']),
  // Hornetsecurity: mx-*.hornetsecurity.com.
  gateway('hornetsecurity', ['hornetsecurity.com']),
  // SpamExperts / N-able Mail Assure: mx.*.antispamcloud.com.
  gateway('spamexperts', ['antispamcloud.com', 'spamexperts.com']),
  // Trustwave MailMarshal Cloud: *.trustwave.com.
  gateway('trustwave', ['trustwave.com']),
  // FortiMail Cloud: *.fortimail.com.
  gateway('fortinet', ['fortimail.com']),
  // Check Point Harmony Email: *.checkpointcloudsec.com.
  gateway('checkpoint', ['checkpointcloudsec.com']),
  // Libraesva ESG cloud: *.libraesva.com.
  gateway('libraesva', ['libraesva.com']),
  // Retarus Secure Email Platform: *.retarus.com.
  gateway('retarus', ['retarus.com']),
  // TopSec Cloud: *.topsec.com.
  gateway('topsec', ['topsec.com']),
  // AppRiver (now Zix / OpenText) SecureTide: mx*.appriver.com, arsmtp.com.
  gateway('appriver', ['appriver.com', 'arsmtp.com']),
  // Trellix (FireEye) Email Security Cloud: *.fireeyecloud.com, *.trellix.com.
  gateway('trellix', ['fireeyecloud.com', 'trellix.com']),
  // SpamHero: mx*.spamhero.com.
  gateway('spamhero', ['spamhero.com']),
  // GreenviewData SpamStopsHere: *.spamstopshere.net.
  gateway('greenviewdata', ['spamstopshere.net', 'greenviewdata.com']),
  // MailChannels Inbound Filtering: mx*.mailchannels.net.
  gateway('mailchannels', ['mailchannels.net']),
  // Zix / OpenText Email Threat Protection: *.zixmail.net.
  gateway('zix', ['zixmail.net']),
  // Avanan (Check Point) inbound: *.avanan.net.
  gateway('avanan', ['avanan.net']),
  // Vade Secure / Hornetsecurity Vade Cloud: *.vadesecure.com.
  gateway('vade', ['vadesecure.com']),
  // Hosted mailbox providers, from each provider's published MX settings.
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
  // Strato: smtpin.rzone.de (strato.de "MX-Records").
  provider('strato', ['rzone.de', 'strato.de']),
  provider('yandex', ['yandex.net', 'yandex.ru']),
  provider('icloud', ['icloud.com']),
  provider('yahoo', ['yahoodns.net']),
  provider('proton', ['protonmail.ch']),
  // Amazon SES inbound: inbound-smtp.<region>.amazonaws.com (AWS docs
  // "Publishing an MX record for Amazon SES email receiving"). WorkMail
  // receives through the same SES host, so the MX cannot tell them apart:
  // SES receiving is the general case.
  provider('amazon-ses', ['amazonaws.com']),
  // WorkMail's own mail domains: <org>.awsapps.com (AWS WorkMail docs).
  provider('amazon-workmail', ['awsapps.com']),
  provider('rackspace', ['emailsrvr.com']),
  provider('namecheap', ['privateemail.com', 'registrar-servers.com']),
  provider('hostinger', ['hostinger.com']),
  provider('one.com', ['one.com']),
  provider('gandi', ['gandi.net']),
  provider('mailbox.org', ['mailbox.org']),
  provider('mail.ru', ['mail.ru']),
  // Mailgun inbound routes: mxa.mailgun.org / mxb.mailgun.org (Mailgun docs).
  provider('mailgun', ['mailgun.org']),
  // SendGrid Inbound Parse: mx.sendgrid.net (Twilio SendGrid docs).
  provider('sendgrid', ['sendgrid.net']),
  // Cloudflare Email Routing: route1..3.mx.cloudflare.net (Cloudflare docs).
  provider('cloudflare', ['mx.cloudflare.net']),
  // ImprovMX forwarding: mx1/mx2.improvmx.com (ImprovMX setup guide).
  provider('improvmx', ['improvmx.com']),
  // Migadu: aspmx1/2.migadu.com (Migadu DNS configuration guide).
  provider('migadu', ['migadu.com']),
  // Purelymail: mx.purelymail.com (Purelymail domain setup).
  provider('purelymail', ['purelymail.com']),
  // SiteGround: mx10/mx20.mailspamprotection.com (SiteGround KB).
  provider('siteground', ['mailspamprotection.com', 'siteground.net']),
  // Hetzner: mail.your-server.de and wwwNNN.your-server.de (Hetzner docs).
  provider('hetzner', ['your-server.de']),
  // Aruba.it: mx.aruba.it and mx*.aruba.it (Aruba guida DNS).
  provider('aruba', ['aruba.it']),
  // Tencent Exmail: mxbiz1/2.qq.com (exmail.qq.com setup guide).
  provider('tencent-exmail', [
    'mxbiz1.qq.com',
    'mxbiz2.qq.com',
    'exmail.qq.com',
  ]),
  // NetEase enterprise mail: *.qiye.163.com (qiye.163.com help).
  provider('netease', ['qiye.163.com', 'ym.163.com']),
  // Alibaba Mail: mxn.mxhichina.com (Alibaba Cloud Mail docs).
  provider('alibaba-mail', ['mxhichina.com']),
  // Infomaniak: mta-gw.infomaniak.ch (Infomaniak FAQ "MX records").
  provider('infomaniak', ['infomaniak.ch']),
  // Hostpoint: mx1.mail.hostpoint.ch (Hostpoint support "DNS für E-Mail").
  provider('hostpoint', ['hostpoint.ch']),
  // DreamHost: mx1/mx2.dreamhost.com (DreamHost KB "MX records").
  provider('dreamhost', ['dreamhost.com']),
  // Titan (Hostinger, Namecheap resellers): mx1/mx2.titan.email (Titan docs).
  provider('titan', ['titan.email']),
  // ALL-INKL.COM: w0NNNNNN.kasserver.com (all-inkl.com FAQ).
  provider('all-inkl', ['kasserver.com']),
  // netcup: mxXXXX.netcup.net (netcup wiki "E-Mail").
  provider('netcup', ['netcup.net']),
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
  // Mimecast hosted SPF: redirect=<id>._spf._d.mim.ec (Mimecast "Hosted SPF").
  spfGateway('mimecast', [
    '_netblocks.mimecast.com',
    'mimecast.com',
    '_d.mim.ec',
  ]),
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

/**
 * DKIM selector CNAMEs that hosted providers have their customers publish.
 * Each is asked (one `selector`) only when the MX does not say who stands
 * behind it (an opaque gateway, an unknown foreign server): a match names
 * the provider. Amazon SES uses random per-domain tokens as selectors, so
 * its pattern can only match a target met under another selector.
 */
export const PROVIDER_DKIM: readonly {
  id: string;
  name: string;
  /** The selector asked: `<selector>._domainkey.<domain>`; null: not asked. */
  selector: string | null;
  pattern: RegExp;
  description: string;
}[] = [
  {
    id: 'dkim-provider-fastmail',
    name: 'fastmail',
    // Fastmail help "DNS for custom domains": fm1._domainkey CNAME
    // fm1.<domain>.dkim.fmhosted.com.
    selector: 'fm1',
    pattern: /\.dkim\.fmhosted\.com$/,
    description: 'DKIM fm1 CNAME to dkim.fmhosted.com: Fastmail signs',
  },
  {
    id: 'dkim-provider-migadu',
    name: 'migadu',
    // Migadu docs "DNS configuration": key1._domainkey CNAME
    // key1.<domain>._domainkey.migadu.com.
    selector: 'key1',
    pattern: /\._domainkey\.migadu\.com$/,
    description: 'DKIM key1 CNAME to _domainkey.migadu.com: Migadu signs',
  },
  {
    id: 'dkim-provider-proton',
    name: 'proton',
    // Proton support "Set up DKIM": protonmail._domainkey CNAME
    // protonmail.domainkey.<id>.domains.proton.ch.
    selector: 'protonmail',
    pattern: /\.domains\.proton\.ch$/,
    description: 'DKIM protonmail CNAME to domains.proton.ch: Proton signs',
  },
  {
    id: 'dkim-provider-mailbox-org',
    name: 'mailbox.org',
    // mailbox.org KB "Eigene Domain: DKIM": MBO0001._domainkey CNAME
    // MBO0001._domainkey.mailbox.org.
    selector: 'mbo0001',
    pattern: /\._domainkey\.mailbox\.org$/,
    description: 'DKIM MBO0001 CNAME to mailbox.org: mailbox.org signs',
  },
  {
    id: 'dkim-provider-amazon-ses',
    name: 'amazon-ses',
    // AWS docs "Easy DKIM": <token>._domainkey CNAME <token>.dkim.amazonses.com.
    selector: null,
    pattern: /\.dkim\.amazonses\.com$/,
    description: 'DKIM CNAME to dkim.amazonses.com: Amazon SES signs',
  },
];

/**
 * Autodiscover CNAME / SRV targets of systems that publish autodiscover but
 * are not Exchange: a domain pointing there is its hoster's, not on-premises
 * Exchange. Any MX provider or gateway signature counts the same way.
 */
export const AUTODISCOVER_PUBLISHERS: readonly HostSignature[] = [
  // cPanel "Mail client automatic configuration": _autodiscover._tcp SRV
  // to cpanelemaildiscovery.cpanel.net.
  publisher('cpanel', ['cpanel.net']),
  // Migadu docs: autodiscover CNAME autodiscover.migadu.com.
  publisher('migadu', ['migadu.com']),
  // Hetzner konsoleH: _autodiscover._tcp SRV to mail.your-server.de.
  publisher('hetzner', ['your-server.de']),
  // IONOS help "Autodiscover": autodiscover CNAME adsredir.ionos.info.
  publisher('ionos', ['ionos.info']),
  // OVHcloud "Configure autodiscover": SRV / CNAME to mailconfig.ovh.net.
  publisher('ovh', ['mailconfig.ovh.net']),
  // GoDaddy Workspace Email: autodiscover CNAME autodiscover.secureserver.net.
  publisher('godaddy', ['secureserver.net']),
  // Namecheap Private Email: autodiscover CNAME / SRV to privateemail.com.
  publisher('namecheap', ['privateemail.com']),
  // Rackspace Email: autodiscover CNAME autodiscover.emailsrvr.com.
  publisher('rackspace', ['emailsrvr.com']),
];

/**
 * Host names under the domain that Exchange deployments conventionally use,
 * asked when federation records show a hybrid configuration but no own host
 * is known yet (docs/onprem-exchange.md says why each is on the list).
 * `exchangeSpecific`: the name itself says Exchange (an own `owa` host is
 * Exchange-specific evidence; an own `mail` host fits any mail server).
 */
export const CONVENTIONAL_EXCHANGE_NAMES: readonly {
  label: string;
  exchangeSpecific: boolean;
  why: string;
}[] = [
  {
    label: 'mail',
    exchangeSpecific: false,
    why: "Microsoft's Exchange namespace planning and the Hybrid Configuration Wizard examples use one name, mail.<domain>, for OWA, EWS, ActiveSync and the hybrid endpoint",
  },
  {
    label: 'owa',
    exchangeSpecific: true,
    why: 'Outlook on the web (/owa) published under its own name',
  },
  {
    label: 'exchange',
    exchangeSpecific: true,
    why: 'the product name as host name, common in small deployments',
  },
  {
    label: 'hybrid',
    exchangeSpecific: false,
    why: 'a dedicated hybrid server (the endpoint Exchange Online connects to for mail flow and free/busy) named for its role',
  },
  {
    label: 'webmail',
    exchangeSpecific: false,
    why: 'the OWA name many hosting panels and migration guides use',
  },
  {
    label: 'remote',
    exchangeSpecific: false,
    why: 'Small Business Server 2008/2011 published OWA under remote.<domain> (Remote Web Workplace)',
  },
  {
    label: 'outlook',
    exchangeSpecific: false,
    why: 'Outlook Anywhere / MAPI over HTTP endpoints published under outlook.<domain>',
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

function publisher(name: string, suffixes: string[]): HostSignature {
  return {
    id: `autodiscover-publisher-${name}`,
    kind: 'provider',
    name,
    suffixes,
    description: `Autodiscover at ${name}, which publishes it for mail that is not Exchange`,
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

/**
 * A host of a known provider, gateway, Google or a non-Exchange autodiscover
 * publisher: never an on-premises server of the scanned domain.
 */
export function isProviderHost(host: string): boolean {
  if (matchHost(AUTODISCOVER_PUBLISHERS, host)) return true;
  const sig = matchHost(MX_SIGNATURES, host);
  return sig !== null && sig.kind !== 'microsoft';
}

/**
 * The registrable domain of `name` (x.co.uk for mail.x.co.uk) by the ICANN
 * public suffix list; for a suffix the list does not know (.test), the last
 * two labels; the name itself when there is none.
 */
export function registrableOf(name: string): string {
  return getDomain(name, { allowPrivateDomains: false }) ?? name;
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
