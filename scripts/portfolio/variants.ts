/**
 * What a portfolio is made of, as data: families (the class mix, in shares
 * of the whole) and, within each family, variants (a DNS shape, its weight
 * in the family and the verdict exoscope must give for it).
 *
 * To add a hard case (say a hybrid leftover with federation records, a
 * cPanel host answering autodiscover, Google mail with an own autodiscover):
 * add a Variant to VARIANTS in its family with a weight, a `build` that
 * writes its records through the helpers below, and the `expected` verdict.
 * The family's share of the portfolio does not move, so benchmark figures
 * stay comparable; the end-to-end test then checks the new verdict on every
 * domain of that variant (and a unit test that each variant occurs there).
 */
import type { Classification } from '../../src/core/classify.js';
import type { Emit, FilterVendor, OtherHost } from './providers.js';
import {
  FILTER_SPF,
  FILTER_VENDORS,
  GOOGLE_MX,
  OTHER_HOSTS,
  address,
  filterMx,
} from './providers.js';
import { BASE64, DIGITS } from './rng.js';
import type { Rng } from './rng.js';

export const FAMILIES = [
  'exchange-online',
  'exchange-onprem',
  'hybrid',
  'google-workspace',
  'third-party-filter',
  'other-hosted',
  'self-hosted',
  'broken',
] as const;
export type Family = (typeof FAMILIES)[number];

/** Each family's share of the portfolio, in percent (sums to 100). */
export const FAMILY_SHARES: Record<Family, number> = {
  'exchange-online': 38,
  'exchange-onprem': 18,
  hybrid: 10,
  'google-workspace': 14,
  'third-party-filter': 10,
  'other-hosted': 3,
  'self-hosted': 2,
  broken: 5,
};

/** One domain being built: its name, the random source, where records go. */
export interface DomainContext {
  readonly domain: string;
  readonly rng: Rng;
  /** Writes a record; its zone is found from the owner name. */
  readonly emit: Emit;
  /** MX hosts, most preferred first (the query plan asks the first one's A/AAAA). */
  readonly mxHosts: string[];
  /** Microsoft's label for the domain (dots to dashes, made unique). */
  msKey(): string;
  /** The domain's Microsoft 365 tenant (sometimes shared with another domain). */
  tenant(): string;
}

export interface Variant {
  /** Stable id, kept in ground-truth-detail.csv. */
  readonly id: string;
  readonly family: Family;
  /** Relative weight within the family. */
  readonly weight: number;
  /** The verdict exoscope must give. */
  readonly expected: Classification;
  /** One line: what the DNS looks like. */
  readonly what: string;
  /** The domain lives under `.invalid`, which no server serves (REFUSED / SERVFAIL). */
  readonly unserved?: true;
  build(c: DomainContext): void;
}

// ------------------------------------------------------------------ helpers

const txt = (text: string): string => `"${text}"`;

function mx(c: DomainContext, preference: number, host: string): void {
  c.emit(c.domain, 3600, 'MX', `${preference} ${host}.`);
  c.mxHosts.push(host);
}

function spf(c: DomainContext, mechanisms: string): void {
  c.emit(c.domain, 3600, 'TXT', txt(`v=spf1 ${mechanisms}`));
}

/** Exchange Online Protection: `<key>.mail.protection.outlook.com`, or the newer `mx.microsoft`. */
function exoMx(c: DomainContext, modern = false): void {
  const r = c.rng;
  if (modern) {
    const host = `${c.msKey()}.o-v1.mx.microsoft`;
    mx(c, 0, host);
    for (let i = 0; i < 2; i++) c.emit(host, 10, 'A', address.eop(r));
    c.emit(host, 10, 'AAAA', address.eop6(r));
    return;
  }
  const host = `${c.msKey()}.mail.protection.outlook.com`;
  mx(c, 0, host);
  const n = r.weighted([
    [2, 60],
    [3, 25],
    [4, 15],
  ] as const);
  for (let i = 0; i < n; i++) c.emit(host, 10, 'A', address.eop(r));
}

interface OwnHost {
  host: string;
  ip: string;
}

function ownHost(c: DomainContext, label?: string): OwnHost {
  const r = c.rng;
  const name =
    label ??
    r.weighted([
      ['mail', 70],
      ['mx', 10],
      ['exchange', 8],
      ['owa', 6],
      ['smtp', 6],
    ] as const);
  const host = `${name}.${c.domain}`;
  const ip = address.own(r);
  c.emit(host, 3600, 'A', ip);
  return { host, ip };
}

function ownMx(c: DomainContext, own: OwnHost, backup: number): void {
  mx(c, 10, own.host);
  if (c.rng.chance(backup)) mx(c, 20, ownHost(c, 'mx2').host);
}

function msVerification(c: DomainContext): void {
  c.emit(c.domain, 3600, 'TXT', txt(`MS=ms${c.rng.chars(8, DIGITS)}`));
}

function exoAutodiscover(c: DomainContext): void {
  c.emit(
    `autodiscover.${c.domain}`,
    3600,
    'CNAME',
    'autodiscover.outlook.com.',
  );
}

/** Autodiscover on the own Exchange server: an A record or a CNAME, sometimes an SRV. */
function ownAutodiscover(c: DomainContext, own: OwnHost): void {
  if (c.rng.chance(0.75)) c.emit(`autodiscover.${c.domain}`, 3600, 'A', own.ip);
  else c.emit(`autodiscover.${c.domain}`, 3600, 'CNAME', `${own.host}.`);
  if (c.rng.chance(0.15)) {
    c.emit(
      `_autodiscover._tcp.${c.domain}`,
      3600,
      'SRV',
      `0 0 443 ${own.host}.`,
    );
  }
}

/** Exchange Online DKIM (when the admin turned it on): selector CNAMEs into the tenant. */
function exoDkim(c: DomainContext): void {
  const r = c.rng;
  if (!r.chance(0.6)) return;
  const tenant = c.tenant();
  for (const selector of ['selector1', 'selector2']) {
    const target = `${selector}-${c.msKey()}._domainkey.${tenant}.onmicrosoft.com`;
    c.emit(`${selector}._domainkey.${c.domain}`, 3600, 'CNAME', `${target}.`);
    // the second key is published only once rotated: some CNAMEs dangle
    if (selector === 'selector1' || r.chance(0.7)) {
      c.emit(
        target,
        3600,
        'TXT',
        txt(`v=DKIM1; k=rsa; p=${r.chars(216, BASE64)}`),
      );
    }
  }
}

/** Teams (Skype for Business) and Intune records, each with probability about `p`. */
function teamsIntune(c: DomainContext, p: number): void {
  const r = c.rng;
  const d = c.domain;
  if (r.chance(p)) {
    c.emit(`lyncdiscover.${d}`, 3600, 'CNAME', 'webdir.online.lync.com.');
    c.emit(`sip.${d}`, 3600, 'CNAME', 'sipdir.online.lync.com.');
    c.emit(
      `_sipfederationtls._tcp.${d}`,
      3600,
      'SRV',
      '100 1 5061 sipfed.online.lync.com.',
    );
  }
  if (r.chance(p * 0.8)) {
    c.emit(
      `enterpriseregistration.${d}`,
      3600,
      'CNAME',
      'enterpriseregistration.windows.net.',
    );
    c.emit(
      `enterpriseenrollment.${d}`,
      3600,
      'CNAME',
      'enterpriseenrollment.manage.microsoft.com.',
    );
  }
}

/** What most domains have whatever their mail: sometimes DMARC, mostly a web site. */
function common(c: DomainContext): void {
  const r = c.rng;
  if (r.chance(0.55)) {
    const policy = r.pick(['none', 'none', 'quarantine', 'reject']);
    c.emit(
      `_dmarc.${c.domain}`,
      3600,
      'TXT',
      txt(`v=DMARC1; p=${policy}; rua=mailto:dmarc@${c.domain}`),
    );
  }
  if (r.chance(0.8)) c.emit(c.domain, 3600, 'A', address.own(r));
}

const spfAll = (r: Rng): string => r.pick(['-all', '-all', '~all']);

// ------------------------------------------------------------------ variants

function exchangeOnline(c: DomainContext, modern: boolean): void {
  exoMx(c, modern);
  exoAutodiscover(c);
  spf(c, `include:spf.protection.outlook.com ${spfAll(c.rng)}`);
  msVerification(c);
  exoDkim(c);
  teamsIntune(c, 0.7);
  common(c);
}

function exchangeOnPrem(c: DomainContext, withTenant: boolean): void {
  const own = ownHost(c);
  ownMx(c, own, 0.3);
  ownAutodiscover(c, own);
  spf(c, `mx a ip4:${own.ip} ${c.rng.pick(['-all', '~all', '?all'])}`);
  if (withTenant) {
    // Teams or OneDrive in Microsoft 365, mail still on the own server
    msVerification(c);
    teamsIntune(c, 0.5);
  }
  common(c);
}

/** Mid-migration: MX and Autodiscover point to different sides. */
function hybrid(c: DomainContext, mxOnExo: boolean): void {
  const own = ownHost(c);
  if (mxOnExo) {
    exoMx(c);
    ownAutodiscover(c, own);
  } else {
    ownMx(c, own, 0);
    exoAutodiscover(c);
  }
  spf(c, `ip4:${own.ip} include:spf.protection.outlook.com -all`);
  msVerification(c);
  exoDkim(c);
  teamsIntune(c, 0.6);
  common(c);
}

function googleWorkspace(c: DomainContext, single: boolean): void {
  const r = c.rng;
  if (single) mx(c, 1, 'smtp.google.com');
  else for (const [pref, host] of GOOGLE_MX) mx(c, pref, host);
  spf(c, 'include:_spf.google.com ~all');
  const token = r.chars(43, BASE64).replace(/[+/]/g, '_');
  c.emit(c.domain, 3600, 'TXT', txt(`google-site-verification=${token}`));
  if (r.chance(0.6)) {
    c.emit(
      `google._domainkey.${c.domain}`,
      3600,
      'TXT',
      txt(`v=DKIM1; k=rsa; p=${r.chars(216, BASE64)}`),
    );
  }
  if (r.chance(0.1)) msVerification(c); // an unused Microsoft 365 trial
  common(c);
}

type Behind = 'exo' | 'onprem' | 'other';

const BEHIND: ReadonlyArray<readonly [Behind, number, Classification]> = [
  ['exo', 60, 'exchange-online'],
  ['onprem', 25, 'exchange-onprem'],
  ['other', 15, 'unknown'],
];

/** A filtering gateway in the MX; what stands behind it shows in Autodiscover, SPF, DKIM. */
function filtered(
  c: DomainContext,
  vendor: FilterVendor,
  behind: Behind,
): void {
  for (const [pref, host] of filterMx(vendor, c.rng, c.emit)) mx(c, pref, host);
  const include = FILTER_SPF[vendor];
  if (behind === 'exo') {
    exoAutodiscover(c);
    spf(c, `${include} include:spf.protection.outlook.com -all`);
    msVerification(c);
    exoDkim(c);
    teamsIntune(c, 0.6);
  } else if (behind === 'onprem') {
    const own = ownHost(c);
    ownAutodiscover(c, own);
    spf(c, `${include} ip4:${own.ip} -all`);
  } else {
    spf(c, `${include} ~all`);
  }
  common(c);
}

function otherHosted(c: DomainContext, name: OtherHost): void {
  const host = OTHER_HOSTS[name];
  for (const [pref, h] of host.mx) mx(c, pref, h);
  spf(c, `${host.spf} ~all`);
  if (c.rng.chance(0.1)) msVerification(c); // a tenant for Teams or Office only
  common(c);
}

function selfHosted(c: DomainContext): void {
  const r = c.rng;
  const own = ownHost(
    c,
    r.weighted([
      ['mail', 60],
      ['mx', 25],
      ['smtp', 15],
    ] as const),
  );
  mx(c, 10, own.host);
  spf(c, `mx ${r.pick(['-all', '~all'])}`);
  if (r.chance(0.3)) c.emit(`imap.${c.domain}`, 3600, 'CNAME', `${own.host}.`);
  common(c);
}

const filterVariants: Variant[] = FILTER_VENDORS.flatMap(([vendor, vw]) =>
  BEHIND.map(([behind, bw, expected]) => ({
    id: `filter-${vendor}-${behind}`,
    family: 'third-party-filter' as const,
    weight: vw * bw,
    expected,
    what: `MX at ${vendor}; behind it ${behind === 'other' ? 'nothing visible' : behind}`,
    build: (c: DomainContext) => filtered(c, vendor, behind),
  })),
);

const otherVariants: Variant[] = (
  [
    ['fastmail', 40],
    ['ovh', 35],
    ['godaddy', 25],
  ] as const
).map(([name, weight]) => ({
  id: `other-${name}`,
  family: 'other-hosted',
  weight,
  expected: 'other-hosted',
  what: `MX at ${name}, its SPF include`,
  build: (c: DomainContext) => otherHosted(c, name),
}));

export const VARIANTS: readonly Variant[] = [
  {
    id: 'exo',
    family: 'exchange-online',
    weight: 95,
    expected: 'exchange-online',
    what: 'MX *.mail.protection.outlook.com, autodiscover → outlook, SPF, MS=, DKIM, Teams',
    build: (c) => exchangeOnline(c, false),
  },
  {
    id: 'exo-mx-microsoft',
    family: 'exchange-online',
    weight: 5,
    expected: 'exchange-online',
    what: 'as exo, MX at *.o-v1.mx.microsoft',
    build: (c) => exchangeOnline(c, true),
  },
  {
    id: 'onprem',
    family: 'exchange-onprem',
    weight: 80,
    expected: 'exchange-onprem',
    what: 'MX mail.<domain> (198.18/15), autodiscover A/CNAME to it, SPF mx a ip4',
    build: (c) => exchangeOnPrem(c, false),
  },
  {
    id: 'onprem-with-tenant',
    family: 'exchange-onprem',
    weight: 20,
    expected: 'exchange-onprem',
    what: 'as onprem, plus MS= and Teams records (mail still on-premises)',
    build: (c) => exchangeOnPrem(c, true),
  },
  {
    id: 'hybrid-mx-exo-ad-onprem',
    family: 'hybrid',
    weight: 70,
    expected: 'hybrid',
    what: 'MX at Exchange Online, autodiscover still on the own server',
    build: (c) => hybrid(c, true),
  },
  {
    id: 'hybrid-mx-onprem-ad-exo',
    family: 'hybrid',
    weight: 30,
    expected: 'hybrid',
    what: 'MX on the own server, autodiscover already → outlook',
    build: (c) => hybrid(c, false),
  },
  {
    id: 'google-aspmx',
    family: 'google-workspace',
    weight: 75,
    expected: 'google-workspace',
    what: 'MX aspmx.l.google.com and alt1-4, Google SPF, site verification',
    build: (c) => googleWorkspace(c, false),
  },
  {
    id: 'google-smtp',
    family: 'google-workspace',
    weight: 25,
    expected: 'google-workspace',
    what: 'MX 1 smtp.google.com',
    build: (c) => googleWorkspace(c, true),
  },
  ...filterVariants,
  ...otherVariants,
  {
    id: 'self-hosted',
    family: 'self-hosted',
    weight: 1,
    expected: 'self-hosted',
    what: 'MX mail.<domain>, SPF mx, nothing Microsoft',
    build: selfHosted,
  },
  {
    id: 'broken-nxdomain',
    family: 'broken',
    weight: 30,
    expected: 'no-mail',
    what: 'the name does not exist',
    build: () => {},
  },
  {
    id: 'broken-no-mx',
    family: 'broken',
    weight: 25,
    expected: 'no-mail',
    what: 'A and SPF -all, no MX',
    build: (c) => {
      c.emit(c.domain, 3600, 'A', address.own(c.rng));
      spf(c, '-all');
    },
  },
  {
    id: 'broken-null-mx',
    family: 'broken',
    weight: 15,
    expected: 'no-mail',
    what: 'MX 0 . (RFC 7505: accepts no mail)',
    build: (c) => {
      c.emit(c.domain, 3600, 'MX', '0 .');
      spf(c, '-all');
    },
  },
  {
    id: 'broken-cname-loop',
    family: 'broken',
    weight: 10,
    expected: 'unresolved',
    what: 'the name is a CNAME to loop.<domain>, which points back',
    build: (c) => {
      c.emit(c.domain, 3600, 'CNAME', `loop.${c.domain}.`);
      c.emit(`loop.${c.domain}`, 3600, 'CNAME', `${c.domain}.`);
    },
  },
  {
    id: 'broken-mx-dangling',
    family: 'broken',
    weight: 10,
    expected: 'no-mail',
    what: 'MX to mail.<domain>, which has no address',
    build: (c) => {
      mx(c, 10, `mail.${c.domain}`);
      spf(c, 'mx -all');
    },
  },
  {
    id: 'broken-refused',
    family: 'broken',
    weight: 10,
    expected: 'unresolved',
    what: 'under .invalid, served by nobody: REFUSED (SERVFAIL through a recursor)',
    unserved: true,
    build: () => {},
  },
];
