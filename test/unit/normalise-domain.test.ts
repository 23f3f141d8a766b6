import { describe, expect, it } from 'vitest';
import { normaliseDomain } from '../../src/core/normalise-domain.js';
import type {
  DomainFlag,
  InvalidReason,
} from '../../src/core/normalise-domain.js';

interface Valid {
  input: string;
  domain: string;
  flags?: DomainFlag[];
  registrable?: string | null;
  unicode?: string;
}

const label63 = 'a'.repeat(63);

const valid: Valid[] = [
  // plain names, case, white space
  { input: 'x.com', domain: 'x.com', registrable: 'x.com' },
  { input: '  x.com\t', domain: 'x.com' },
  { input: 'X.COM', domain: 'x.com', flags: ['changed'] },
  { input: ' Contoso.Com ', domain: 'contoso.com', flags: ['changed'] },
  { input: '\u00a0x.com\u00a0', domain: 'x.com' },
  { input: '\u3000x.com\u2003', domain: 'x.com' },
  { input: '\ufeffx.com', domain: 'x.com' },
  { input: '\u200bx.com', domain: 'x.com', flags: ['changed'] },
  { input: 'x\u200c.co\u200dm\u2060', domain: 'x.com', flags: ['changed'] },
  { input: 'a-b.x.com', domain: 'a-b.x.com', flags: ['subdomain'] },
  { input: 'a--b.com', domain: 'a--b.com' },
  { input: '1x.com', domain: '1x.com' },
  { input: '123.com', domain: '123.com' },
  { input: `${label63}.com`, domain: `${label63}.com` },
  // NFKC: full-width letters and dots
  {
    input: 'ＥＸＡＭＰＬＥ．ＣＯＭ',
    domain: 'example.com',
    flags: ['changed'],
  },
  { input: 'example。com', domain: 'example.com', flags: ['changed'] },
  { input: 'example｡com', domain: 'example.com', flags: ['changed'] },
  { input: 'example．com', domain: 'example.com', flags: ['changed'] },
  // trailing dot
  { input: 'x.com.', domain: 'x.com', flags: ['changed'] },
  // URLs
  // a website is scanned as its registrable domain (www.x.com has no MX)
  {
    input: 'https://www.x.com/path?q=1#top',
    domain: 'x.com',
    flags: ['from-url', 'www', 'changed'],
    registrable: 'x.com',
  },
  {
    input: 'https://www.client.de/kontakt',
    domain: 'client.de',
    flags: ['from-url', 'www', 'changed'],
    registrable: 'client.de',
  },
  {
    input: 'https://shop.client.co.uk/',
    domain: 'client.co.uk',
    flags: ['from-url', 'changed'],
    registrable: 'client.co.uk',
  },
  // a bare subdomain (no URL, no www.) may be a mail domain of its own
  { input: 'eu.client.com', domain: 'eu.client.com', flags: ['subdomain'] },
  // an e-mail address names the mail domain itself
  {
    input: 'bob@eu.client.com',
    domain: 'eu.client.com',
    flags: ['from-email', 'subdomain', 'changed'],
  },
  { input: 'www.com', domain: 'www.com', flags: [] },
  { input: 'http://x.com', domain: 'x.com', flags: ['from-url', 'changed'] },
  { input: 'HTTP://X.COM/', domain: 'x.com', flags: ['from-url', 'changed'] },
  { input: 'ftp://x.com', domain: 'x.com', flags: ['from-url', 'changed'] },
  { input: '//x.com/a', domain: 'x.com', flags: ['from-url', 'changed'] },
  {
    input: 'www.x.com/path',
    domain: 'x.com',
    flags: ['from-url', 'www', 'changed'],
  },
  { input: 'x.com/', domain: 'x.com', flags: ['from-url', 'changed'] },
  { input: 'x.com?a=b', domain: 'x.com', flags: ['from-url', 'changed'] },
  { input: 'x.com#frag', domain: 'x.com', flags: ['from-url', 'changed'] },
  { input: 'x.com:8080', domain: 'x.com', flags: ['from-url', 'changed'] },
  {
    input: 'https://x.com.:443/',
    domain: 'x.com',
    flags: ['from-url', 'changed'],
  },
  {
    input: 'http://user:pw@x.com:80/',
    domain: 'x.com',
    flags: ['from-url', 'changed'],
  },
  {
    input: 'x.com/contact@y.com',
    domain: 'x.com',
    flags: ['from-url', 'changed'],
  },
  // e-mail addresses
  { input: 'user@x.com', domain: 'x.com', flags: ['from-email', 'changed'] },
  {
    input: 'First.Last+tag@Mail.X.com',
    domain: 'mail.x.com',
    flags: ['from-email', 'subdomain', 'changed'],
    registrable: 'x.com',
  },
  {
    input: 'mailto:a@x.com',
    domain: 'x.com',
    flags: ['from-email', 'changed'],
  },
  {
    input: 'MAILTO:A@X.com?subject=hi',
    domain: 'x.com',
    flags: ['from-email', 'changed'],
  },
  { input: 'a@b@x.com', domain: 'x.com', flags: ['from-email', 'changed'] },
  // IDN
  {
    input: 'bücher.de',
    domain: 'xn--bcher-kva.de',
    unicode: 'bücher.de',
    flags: ['idn'],
    registrable: 'xn--bcher-kva.de',
  },
  {
    input: 'Bücher.DE',
    domain: 'xn--bcher-kva.de',
    unicode: 'bücher.de',
    flags: ['idn', 'changed'],
  },
  {
    input: 'xn--bcher-kva.de',
    domain: 'xn--bcher-kva.de',
    unicode: 'bücher.de',
    flags: ['idn'],
  },
  {
    input: 'XN--BCHER-KVA.DE',
    domain: 'xn--bcher-kva.de',
    unicode: 'bücher.de',
    flags: ['idn', 'changed'],
  },
  { input: '☃.com', domain: 'xn--n3h.com', unicode: '☃.com', flags: ['idn'] },
  {
    input: 'münchen.xn--p1ai',
    domain: 'xn--mnchen-3ya.xn--p1ai',
    unicode: 'münchen.рф',
    flags: ['idn', 'changed'],
  },
  {
    input: 'пример.рф',
    domain: 'xn--e1afmkfd.xn--p1ai',
    unicode: 'пример.рф',
    flags: ['idn'],
  },
  {
    input: 'https://bücher.de/shop',
    domain: 'xn--bcher-kva.de',
    unicode: 'bücher.de',
    flags: ['from-url', 'idn', 'changed'],
  },
  {
    input: 'info@bücher.de',
    domain: 'xn--bcher-kva.de',
    unicode: 'bücher.de',
    flags: ['from-email', 'idn', 'changed'],
  },
  {
    input: 'faß.de',
    domain: 'xn--fa-hia.de',
    unicode: 'faß.de',
    flags: ['idn'],
  },
  { input: 'a\u00adb.com', domain: 'ab.com', flags: ['changed'] },
  // public suffixes and registrable domains (ICANN rules only)
  {
    input: 'co.uk',
    domain: 'co.uk',
    flags: ['public-suffix'],
    registrable: null,
  },
  {
    input: 'com.au',
    domain: 'com.au',
    flags: ['public-suffix'],
    registrable: null,
  },
  { input: 'x.co.uk', domain: 'x.co.uk', registrable: 'x.co.uk' },
  {
    input: 'www.x.co.uk',
    domain: 'x.co.uk',
    flags: ['www', 'changed'],
    registrable: 'x.co.uk',
  },
  {
    input: 'a.b.x.com.au',
    domain: 'a.b.x.com.au',
    flags: ['subdomain'],
    registrable: 'x.com.au',
  },
  // private-section suffixes are ignored: blogspot.com is registrable
  {
    input: 'foo.blogspot.com',
    domain: 'foo.blogspot.com',
    flags: ['subdomain'],
    registrable: 'blogspot.com',
  },
  { input: 'github.io', domain: 'github.io', registrable: 'github.io' },
  // reserved test names: valid, no suffix flags
  { input: 'x.test', domain: 'x.test', registrable: 'x.test' },
  { input: 'x.co.test', domain: 'x.co.test', registrable: 'co.test' },
  // unknown suffix: only the www. label goes (x.co.test stays itself)
  {
    input: 'www.x.test',
    domain: 'x.test',
    flags: ['www', 'changed'],
    registrable: 'x.test',
  },
  {
    input: 'https://www.x.co.test/a',
    domain: 'x.co.test',
    flags: ['from-url', 'www', 'changed'],
  },
  {
    input: 'https://shop.x.test/',
    domain: 'shop.x.test',
    flags: ['from-url', 'changed'],
  },
  { input: 'x.example', domain: 'x.example', registrable: 'x.example' },
  { input: 'y.invalid', domain: 'y.invalid', registrable: 'y.invalid' },
  { input: 'mail.x.local', domain: 'mail.x.local', registrable: 'x.local' },
];

interface Invalid {
  input: string;
  reason: InvalidReason;
}

const invalid: Invalid[] = [
  { input: '', reason: 'empty' },
  { input: '   ', reason: 'empty' },
  { input: '\u00a0\t', reason: 'empty' },
  { input: '\u200b\ufeff', reason: 'empty' },
  // IP literals and ranges
  { input: '1.2.3.4', reason: 'ip-address' },
  { input: '255.255.255.255', reason: 'ip-address' },
  { input: 'http://1.2.3.4/', reason: 'ip-address' },
  { input: '1.2.3.4:25', reason: 'ip-address' },
  { input: 'user@[1.2.3.4]', reason: 'ip-address' },
  { input: '::1', reason: 'ip-address' },
  { input: '2001:db8::1', reason: 'ip-address' },
  { input: '::ffff:1.2.3.4', reason: 'ip-address' },
  { input: '[2001:db8::1]', reason: 'ip-address' },
  { input: '[2001:db8::1]:443', reason: 'ip-address' },
  { input: 'http://[::1]/', reason: 'ip-address' },
  { input: '1.2.3.0/24', reason: 'cidr' },
  { input: '10.0.0.0/8', reason: 'cidr' },
  { input: '10/8', reason: 'cidr' },
  { input: '2001:db8::/32', reason: 'cidr' },
  // free text and junk
  { input: 'Acme Corp', reason: 'not-a-hostname' },
  { input: 'x.com y.com', reason: 'not-a-hostname' },
  { input: 'see x.com', reason: 'not-a-hostname' },
  { input: 'x.com,y.com', reason: 'not-a-hostname' },
  { input: 'x!.com', reason: 'not-a-hostname' },
  { input: 'bü!.de', reason: 'not-a-hostname' },
  { input: 'bü%.de', reason: 'not-a-hostname' },
  { input: 'a..b.com', reason: 'not-a-hostname' },
  { input: '.x.com', reason: 'not-a-hostname' },
  { input: 'x.com..', reason: 'not-a-hostname' },
  { input: 'a*b.com', reason: 'not-a-hostname' },
  { input: 'user@', reason: 'not-a-hostname' },
  { input: 'foo:bar', reason: 'not-a-hostname' },
  { input: '[x.com]', reason: 'not-a-hostname' },
  { input: '"x.com"', reason: 'not-a-hostname' },
  { input: 'x.com\u0001', reason: 'not-a-hostname' },
  // wildcards and service labels
  { input: '*.x.com', reason: 'wildcard' },
  { input: 'a.*.x.com', reason: 'wildcard' },
  { input: '_dmarc.x.com', reason: 'underscore-label' },
  { input: 'a_b.x.com', reason: 'underscore-label' },
  { input: '_sip._tcp.x.com', reason: 'underscore-label' },
  // lengths
  { input: `${'a'.repeat(64)}.com`, reason: 'label-too-long' },
  { input: `${`${label63}.`.repeat(4)}com`, reason: 'name-too-long' },
  // hyphens
  { input: '-x.com', reason: 'bad-label-hyphen' },
  { input: 'x-.com', reason: 'bad-label-hyphen' },
  { input: 'a.-b-.com', reason: 'bad-label-hyphen' },
  { input: 'x.com-', reason: 'bad-label-hyphen' },
  // IDN
  { input: 'xn--abc.com', reason: 'idn-invalid' },
  { input: 'xn--.com', reason: 'idn-invalid' },
  // single labels and numeric TLDs
  { input: 'localhost', reason: 'single-label' },
  { input: 'com', reason: 'single-label' },
  { input: 'http://intranet/', reason: 'single-label' },
  { input: 'user@localhost', reason: 'single-label' },
  { input: '12345', reason: 'single-label' },
  { input: 'x.123', reason: 'numeric-tld' },
  { input: '1.2.3', reason: 'numeric-tld' },
  { input: '1.2.3.4.5', reason: 'numeric-tld' },
  // URLs without a host
  { input: 'http://', reason: 'url-without-host' },
  { input: 'https:///path', reason: 'url-without-host' },
  { input: 'http://user@/', reason: 'url-without-host' },
  { input: '/path/only', reason: 'url-without-host' },
];

describe('normaliseDomain: valid inputs', () => {
  it.each(valid)('$input → $domain', (c) => {
    const result = normaliseDomain(c.input);
    expect(result).toMatchObject({ ok: true, domain: c.domain });
    if (!result.ok) return;
    expect(result.flags).toEqual(c.flags ?? []);
    if (c.registrable !== undefined) {
      expect(result.registrable).toBe(c.registrable);
    }
    expect(result.unicode).toBe(c.unicode);
  });
});

describe('normaliseDomain: invalid inputs', () => {
  it.each(invalid)('$input → $reason', (c) => {
    const result = normaliseDomain(c.input);
    expect(result).toMatchObject({ ok: false, reason: c.reason });
    if (result.ok) return;
    expect(result.detail).not.toBe('');
    expect(result.detail).not.toContain('\n');
  });
});

describe('normaliseDomain: details', () => {
  it('names an over-long label, clipped, with its length', () => {
    const result = normaliseDomain(`${'x'.repeat(70)}.com`);
    expect(result).toEqual({
      ok: false,
      reason: 'label-too-long',
      detail: `label '${'x'.repeat(24)}…' is 70 characters (max 63)`,
    });
  });

  it('gives the total length of an over-long name', () => {
    const result = normaliseDomain(`${`${label63}.`.repeat(4)}com`);
    expect(result).toMatchObject({ detail: expect.stringContaining('259') });
  });

  it('accepts a name of exactly 253 characters', () => {
    const name = `${`${label63}.`.repeat(3)}${'b'.repeat(61)}`;
    expect(name).toHaveLength(253);
    expect(normaliseDomain(name)).toMatchObject({ ok: true, domain: name });
  });

  it('measures IDN lengths on the punycode form', () => {
    // 57 Greek letters: under 63 characters, but a 73-octet A-label
    const label = 'ελληνικάκαιρόςπαράδειγμαδοκιμήεπιστήμηφιλοσοφίαδημοκρατία';
    expect(label.length).toBeLessThan(63);
    const result = normaliseDomain(`${label}.gr`);
    expect(result).toMatchObject({
      ok: false,
      reason: 'label-too-long',
      detail: expect.stringContaining('73 characters'),
    });
  });

  it('never throws, whatever the input', () => {
    const odd = ['\u0000', '\ud800', '@', '.', '..', ':', '[', ']', '//', '?#'];
    for (const input of odd) {
      expect(() => normaliseDomain(input)).not.toThrow();
      expect(normaliseDomain(input).ok).toBe(false);
    }
  });
});
