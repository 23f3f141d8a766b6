/**
 * Turns one raw input cell (a domain, a URL, an e-mail address, whatever a
 * spreadsheet holds) into the ASCII host name exoscope will ask DNS about, or
 * says precisely why it cannot. Pure: no I/O; IDNA via Node's WHATWG
 * `domainToASCII`, public suffixes via tldts.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { parse as parseHost } from 'tldts';

/** Why an input cell is not a usable mail domain. */
export type InvalidReason =
  | 'empty'
  | 'ip-address'
  | 'cidr'
  | 'not-a-hostname'
  | 'single-label'
  | 'wildcard'
  | 'underscore-label'
  | 'label-too-long'
  | 'name-too-long'
  | 'bad-label-hyphen'
  | 'idn-invalid'
  | 'numeric-tld'
  | 'url-without-host';

/**
 * What normalisation noticed about a valid input.
 * - `from-url`: the host was taken from a URL (scheme, path, query or port)
 * - `from-email`: the domain was taken from an e-mail address or `mailto:`
 * - `idn`: an internationalised name; `unicode` holds its Unicode form
 * - `www`: the name started with `www.`: a website, scanned as its
 *   registrable domain (a URL's host is too, flagged `from-url`)
 * - `subdomain`: the name is below its registrable domain (`eu.x.com`), and
 *   is scanned as given: it may be a mail domain of its own
 * - `public-suffix`: the name is itself an ICANN public suffix (`co.uk`)
 * - `changed`: the result differs from the trimmed input (case, dots, URL...)
 */
export type DomainFlag =
  | 'from-url'
  | 'from-email'
  | 'www'
  | 'idn'
  | 'subdomain'
  | 'public-suffix'
  | 'changed';

/** The outcome of {@link normaliseDomain}: a domain or a reason, never a throw. */
export type NormalisedDomain =
  | {
      ok: true;
      /** ASCII (punycode for IDN), lower-case, no trailing dot. */
      domain: string;
      /** The Unicode form, present only for an IDN. */
      unicode?: string;
      /** In the order of {@link DomainFlag}'s declaration. */
      flags: DomainFlag[];
      /**
       * The registrable domain (`x.co.uk` for `www.x.co.uk`); the last two
       * labels when the suffix is unknown to the ICANN list (`x.test`); null
       * when the name is itself a public suffix.
       */
      registrable: string | null;
    }
  | {
      ok: false;
      reason: InvalidReason;
      /** One short line for humans, e.g. "label 'xxx…' is 70 characters (max 63)". */
      detail: string;
    };

const FLAG_ORDER: readonly DomainFlag[] = [
  'from-url',
  'from-email',
  'www',
  'idn',
  'subdomain',
  'public-suffix',
  'changed',
];

const MAX_LABEL = 63;
const MAX_NAME = 253;

// Format characters that survive copy-paste from web pages and spreadsheets
// but are invisible; String.prototype.trim does not remove U+200B–U+200D/U+2060.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/g;
// U+3002 IDEOGRAPHIC FULL STOP is a label separator in UTS #46 but NFKC keeps it.
const IDEOGRAPHIC_DOT = /\u3002/g;
const SCHEME = /^(?:[a-z][a-z0-9+.-]*:)?\/\//;
const NAMED_ADDRESS = /^[^<>@]*<((?:mailto:)?[^<>\s@]+@[^<>\s@]+)>$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV4_CIDR = /^\d{1,3}(?:\.\d{1,3}){0,3}\/\d{1,2}$/;
const IPV6_CIDR = /^[0-9a-f:.]*:[0-9a-f:.]*\/\d{1,3}$/;
const IPV6_CHARS = /^[0-9a-f:.]+$/;
const PORT = /:\d*$/;
const LABEL_CHARS = /^[a-z0-9_-]+$/;
const NOT_LABEL_CHAR = /[^a-z0-9_-]/;
const NON_ASCII = /[\u0080-\uffff]/;
// An ASCII character no host name can contain (after lower-casing).
const FORBIDDEN_ASCII = /[^a-z0-9._\u0080-\uffff-]/;

type Invalid = Extract<NormalisedDomain, { ok: false }>;

function invalid(reason: InvalidReason, detail: string): Invalid {
  return { ok: false, reason, detail };
}

function clip(text: string, max = 24): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isIPv6(text: string): boolean {
  if (!IPV6_CHARS.test(text) || text.split(':').length < 3) return false;
  try {
    // The WHATWG host parser is the IPv6 grammar we need; no node:net in core.
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** The bare host, and the flags that say how it was found. */
interface Extracted {
  host: string;
  flags: Set<DomainFlag>;
}

/**
 * Peels `mailto:`, URL and e-mail syntax off a cleaned, lower-cased input and
 * returns the bare host, or why there is none.
 */
function extractHost(text: string): Extracted | Invalid {
  const flags = new Set<DomainFlag>();
  let rest = text;

  if (rest.startsWith('mailto:')) {
    flags.add('from-email');
    rest = rest.slice('mailto:'.length).split('?')[0] ?? '';
  }

  if (IPV4_CIDR.test(rest) || IPV6_CIDR.test(rest)) {
    return invalid('cidr', `'${clip(rest)}' is an address range, not a domain`);
  }
  if (isIPv6(rest)) {
    return invalid('ip-address', `'${clip(rest)}' is an IPv6 address`);
  }

  const scheme = SCHEME.exec(rest);
  if (scheme) {
    flags.add('from-url');
    rest = rest.slice(scheme[0].length);
  }
  const end = rest.search(/[/?#\\]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (!scheme && !flags.has('from-email')) {
    if (at !== -1) flags.add('from-email');
    else if (end !== -1) flags.add('from-url');
  }
  let host = at === -1 ? authority : authority.slice(at + 1);

  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    const inner = host.slice(1, close === -1 ? undefined : close);
    return isIPv6(inner) || IPV4.test(inner)
      ? invalid('ip-address', `'${clip(inner)}' is an IP address`)
      : invalid('not-a-hostname', `'${clip(host)}' is not a host name`);
  }
  if (isIPv6(host)) {
    return invalid('ip-address', `'${clip(host)}' is an IPv6 address`);
  }
  if (PORT.test(host)) {
    host = host.replace(PORT, '');
    if (!flags.has('from-email')) flags.add('from-url');
  }

  if (host === '') {
    if (flags.has('from-url')) {
      return invalid('url-without-host', `'${clip(text)}' has no host name`);
    }
    return invalid('not-a-hostname', `'${clip(text)}' has no domain after '@'`);
  }
  return { host, flags };
}

/**
 * Normalises one raw input cell to the ASCII domain exoscope queries.
 *
 * Removes invisible characters and surrounding (Unicode) white space, applies
 * NFKC (full-width letters and dots), lower-cases, takes the host out of a URL
 * or the domain out of an e-mail address, drops one trailing dot and converts
 * an IDN to punycode. Rejects, with a {@link InvalidReason}, anything DNS mail
 * lookups cannot use: IP literals and ranges, wildcards, service labels,
 * over-long names, single labels, numeric TLDs. Never throws.
 *
 * Public-suffix facts use the ICANN section of the list only: `subdomain` and
 * `public-suffix` are flagged only for names whose suffix the list knows, so
 * reserved names such as `x.test` or `y.invalid` are accepted and unflagged.
 */
export function normaliseDomain(raw: string): NormalisedDomain {
  const trimmed = raw.trim();
  const text = raw
    .replace(INVISIBLE, '')
    .normalize('NFKC')
    .trim()
    .replace(IDEOGRAPHIC_DOT, '.')
    .toLowerCase();

  if (text === '') return invalid('empty', 'the cell is empty');
  // `Jane Doe <jane@x.com>`, as mail clients and address books export it.
  const named = NAMED_ADDRESS.exec(text);
  if (named?.[1] !== undefined) return normaliseDomain(named[1]);
  if (/\s/.test(text)) {
    return invalid('not-a-hostname', `'${clip(trimmed)}' contains spaces`);
  }

  const extracted = extractHost(text);
  if ('ok' in extracted) return extracted;
  const { flags } = extracted;
  let host = extracted.host;

  const written = host;
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (IPV4.test(host)) {
    return invalid('ip-address', `'${host}' is an IPv4 address`);
  }

  const rawLabels = host.split('.');
  if (rawLabels.some((label) => label === '')) {
    return invalid('not-a-hostname', `'${clip(written)}' has an empty label`);
  }
  if (rawLabels.some((label) => label.includes('*'))) {
    return rawLabels.some((label) => label === '*')
      ? invalid('wildcard', `'${clip(host)}' is a wildcard pattern`)
      : invalid('not-a-hostname', `'${clip(host)}' contains '*'`);
  }

  let domain = host;
  if (NON_ASCII.test(host) || rawLabels.some((l) => l.startsWith('xn--'))) {
    domain = domainToASCII(host);
    if (domain === '') {
      const bad = FORBIDDEN_ASCII.exec(host);
      return bad
        ? invalid('not-a-hostname', `'${clip(host)}' contains '${bad[0]}'`)
        : invalid('idn-invalid', `'${clip(host)}' is not a valid IDN`);
    }
  }

  const labels = domain.split('.');
  for (const label of labels) {
    if (!LABEL_CHARS.test(label)) {
      const bad = NOT_LABEL_CHAR.exec(label)?.[0] ?? '';
      return invalid('not-a-hostname', `'${clip(host)}' contains '${bad}'`);
    }
  }
  const underscored = labels.find((label) => label.includes('_'));
  if (underscored !== undefined) {
    return invalid(
      'underscore-label',
      `label '${clip(underscored)}' contains '_' (a service name, not a mail domain)`,
    );
  }
  const long = labels.find((label) => label.length > MAX_LABEL);
  if (long !== undefined) {
    return invalid(
      'label-too-long',
      `label '${clip(long)}' is ${long.length} characters (max ${MAX_LABEL})`,
    );
  }
  if (domain.length > MAX_NAME) {
    return invalid(
      'name-too-long',
      `the name is ${domain.length} characters (max ${MAX_NAME})`,
    );
  }
  const hyphened = labels.find((l) => l.startsWith('-') || l.endsWith('-'));
  if (hyphened !== undefined) {
    return invalid(
      'bad-label-hyphen',
      `label '${clip(hyphened)}' starts or ends with '-'`,
    );
  }
  if (labels.length === 1) {
    return invalid(
      'single-label',
      `'${clip(domain)}' has no dot (a bare name)`,
    );
  }
  const tld = labels[labels.length - 1] ?? '';
  if (/^\d+$/.test(tld)) {
    return invalid('numeric-tld', `'${clip(domain)}' ends in a number`);
  }

  const info = parseHost(domain, {
    allowPrivateDomains: false,
    extractHostname: false,
    validateHostname: false,
  });
  let registrable: string | null;
  if (info.isIcann === true && info.publicSuffix === domain) {
    flags.add('public-suffix');
    registrable = null;
  } else {
    registrable = info.domain ?? labels.slice(-2).join('.');
    // A website (a URL, or a www. name) is scanned as the domain it belongs
    // to: MSP client lists are often keyed by website, and www.<x> has no MX.
    const www = labels[0] === 'www' && labels.length > 2;
    if (www) flags.add('www');
    if (registrable !== domain && (www || flags.has('from-url'))) {
      domain =
        info.isIcann === true
          ? registrable
          : www
            ? labels.slice(1).join('.')
            : domain;
    }
    if (info.isIcann === true && registrable !== domain) flags.add('subdomain');
  }

  let unicode: string | undefined;
  if (domain.split('.').some((label) => label.startsWith('xn--'))) {
    flags.add('idn');
    unicode = domainToUnicode(domain);
  }

  // An IDN typed in Unicode is not "changed" by its punycode spelling.
  if (domain !== trimmed && unicode !== trimmed) flags.add('changed');

  const ordered = FLAG_ORDER.filter((flag) => flags.has(flag));
  return unicode === undefined
    ? { ok: true, domain, flags: ordered, registrable }
    : { ok: true, domain, unicode, flags: ordered, registrable };
}
