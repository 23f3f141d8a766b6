import { describe, expect, it } from 'vitest';
import { attention, patchStatus } from '../../src/core/attention.js';
import {
  csvReader,
  fromJsonRecord,
  OPTIONAL_COLUMNS,
} from '../../src/core/result-record.js';
import type { ResultRecord } from '../../src/core/result-record.js';
import { diffScans, summariseChanges } from '../../src/core/scan-diff.js';

type Extra = Partial<ResultRecord['extra']>;

function rec(
  domain: string,
  parts: Partial<Omit<ResultRecord, 'extra'>> & { extra?: Extra } = {},
): ResultRecord {
  const extra = {} as ResultRecord['extra'];
  for (const c of OPTIONAL_COLUMNS) extra[c] = parts.extra?.[c] ?? '';
  return {
    row: 1,
    input: { client: 'Acme', domain },
    domain,
    classification: 'exchange-online',
    confidence: 'high',
    provider: 'microsoft',
    gateway: '',
    tenant: '',
    reasons: ['exo-mx'],
    status: 'ok',
    error: '',
    flags: [],
    scannedAt: '',
    evidence: null,
    ...parts,
    extra,
  };
}

describe('diffScans', () => {
  it('finds nothing between equal scans', () => {
    const a = [rec('a.test'), rec('b.test')];
    expect(diffScans(a, a)).toEqual([]);
    expect(summariseChanges([], a, a)).toEqual(['no changes']);
  });

  it('lists an added and a removed domain', () => {
    const changes = diffScans([rec('old.test')], [rec('new.test')], 'client');
    expect(changes).toEqual([
      {
        domain: 'new.test',
        group: 'Acme',
        change: 'added',
        field: 'classification',
        old: '',
        new: 'exchange-online',
      },
      {
        domain: 'old.test',
        group: 'Acme',
        change: 'removed',
        field: 'classification',
        old: 'exchange-online',
        new: '',
      },
    ]);
  });

  it('sees a change of classification, and says it in words', () => {
    const older = [
      rec('a.test', { classification: 'exchange-onprem' }),
      rec('b.test', { classification: 'hybrid', input: { client: 'Beta' } }),
    ];
    const newer = [rec('a.test'), rec('b.test', { input: { client: 'Beta' } })];
    const changes = diffScans(older, newer, 'client');
    expect(changes.map((c) => [c.domain, c.change, c.old, c.new])).toEqual([
      ['a.test', 'classification', 'exchange-onprem', 'exchange-online'],
      ['b.test', 'classification', 'hybrid', 'exchange-online'],
    ]);
    expect(summariseChanges(changes, older, newer, 'client')).toEqual([
      '2 clients moved to Exchange Online (from on-premises Exchange, hybrid Exchange)',
    ]);
  });

  it('sees a new on-prem server, only when both scans wrote the column', () => {
    const older = [rec('a.test', { extra: { onprem_exchange: 'none-seen' } })];
    const newer = [rec('a.test', { extra: { onprem_exchange: 'likely' } })];
    const changes = diffScans(older, newer);
    expect(changes).toMatchObject([
      { change: 'onprem_exchange', old: 'none-seen', new: 'likely' },
    ]);
    expect(summariseChanges(changes, older, newer)).toEqual([
      '1 new on-prem server (onprem_exchange now likely)',
    ]);
    // a scan made before the column existed is no change
    expect(diffScans([rec('a.test')], newer)).toEqual([]);
  });

  it('sees a change of gateway and of tenant', () => {
    const older = [rec('a.test', { gateway: 'proofpoint', tenant: '' })];
    const newer = [rec('a.test', { gateway: 'mimecast', tenant: 'contoso' })];
    const changes = diffScans(older, newer);
    expect(changes.map((c) => [c.change, c.old, c.new])).toEqual([
      ['gateway', 'proofpoint', 'mimecast'],
      ['tenant', '', 'contoso'],
    ]);
    expect(summariseChanges(changes, older, newer)).toEqual([
      '1 domain changed gateway',
      '1 domain changed tenant',
    ]);
  });

  it('sees a change of patch state from the probe columns', () => {
    const probed = (build: string, logon: string, current: string) =>
      rec('a.test', {
        classification: 'exchange-onprem',
        extra: {
          probe_status: 'ok',
          exchange_build: build,
          proxylogon: logon,
          exchange_current: current,
        },
      });
    const older = [probed('15.1.2106.2', 'vulnerable', 'no')];
    const newer = [probed('15.1.2242.4', 'patched', 'yes')];
    expect(patchStatus(older[0]!)).toBe('vulnerable');
    expect(patchStatus(newer[0]!)).toBe('current');
    const changes = diffScans(older, newer);
    expect(changes.map((c) => [c.change, c.field, c.old, c.new])).toEqual([
      ['patch', 'exchange_build', '15.1.2106.2', '15.1.2242.4'],
      ['patch', 'proxylogon', 'vulnerable', 'patched'],
      ['patch', 'exchange_current', 'no', 'yes'],
    ]);
    expect(summariseChanges(changes, older, newer)).toEqual([
      '1 Exchange server changed build or patch state (1 now current)',
    ]);
  });

  it('compares a domain listed twice once, and an invalid row by its input', () => {
    const bad = rec('', {
      classification: 'invalid',
      input: { domain: 'x y' },
    });
    const older = [rec('a.test'), rec('a.test'), bad];
    const newer = [rec('a.test', { classification: 'hybrid' }), bad];
    expect(diffScans(older, newer).map((c) => c.domain)).toEqual(['a.test']);
  });
});

describe('attention', () => {
  it('puts each kind of trouble on the action list, with words, no rule ids', () => {
    const cases: [ResultRecord, string | null][] = [
      [rec('ok.test'), null],
      [
        rec('o.test', {
          classification: 'exchange-onprem',
          reasons: ['server-mx-autodiscover-onprem'],
        }),
        'onprem',
      ],
      [rec('h.test', { classification: 'hybrid' }), 'hybrid'],
      [
        rec('p.test', {
          classification: 'google-workspace',
          extra: {
            onprem_exchange: 'possible',
            onprem_hosts: 'autodiscover.p.test=198.18.0.1',
          },
        }),
        'onprem-server',
      ],
      [rec('n.test', { extra: { onprem_exchange: 'none-seen' } }), null],
      [
        rec('g.test', { classification: 'unknown', gateway: 'mimecast' }),
        'gateway-unknown',
      ],
      [
        rec('u.test', {
          classification: 'unresolved',
          error: 'u.test MX: timeout',
        }),
        'unresolved',
      ],
      [
        rec('v.test', {
          classification: 'exchange-onprem',
          extra: {
            proxyshell: 'vulnerable',
            exchange_version: 'Exchange Server 2016 CU19',
          },
        }),
        'vulnerable',
      ],
      [
        rec('s.test', {
          classification: 'exchange-onprem',
          extra: { exchange_support: 'unsupported' },
        }),
        'unsupported',
      ],
      [
        rec('c.test', {
          classification: 'exchange-onprem',
          extra: { exchange_current: 'no' },
        }),
        'outdated',
      ],
    ];
    for (const [r, kind] of cases) {
      const a = attention(r);
      expect(a?.kind ?? null, r.domain).toBe(kind);
      if (a) expect(a.reason).not.toMatch(/[a-z]+-[a-z]+-[a-z]+-/);
    }
    expect(attention(cases[7]![0])?.reason).toContain('ProxyShell');
    expect(attention(cases[3]![0])?.reason).toContain('autodiscover.p.test');
  });
});

describe('reading results back', () => {
  it('reads a CSV row and a JSONL record the same way', () => {
    const header = [
      'client',
      'domain',
      'scanned_domain',
      'classification',
      'gateway',
      'reasons',
      'onprem_exchange',
    ];
    const fromCsv = csvReader(header)(
      [
        'Acme',
        'a.test',
        'a.test',
        'hybrid',
        'mimecast',
        'exo-mx;mx-eop',
        'likely',
      ],
      1,
    );
    const fromJson = fromJsonRecord(
      {
        row: 1,
        input: { client: 'Acme', domain: 'a.test' },
        domain: 'a.test',
        classification: 'hybrid',
        gateway: 'mimecast',
        reasons: ['exo-mx', 'mx-eop'],
        onprem_exchange: 'likely',
        evidence: null,
      },
      1,
    );
    expect(fromCsv).toEqual(fromJson);
    // host lists: objects in the JSONL, name=address pairs in the CSV
    const hosts = fromJsonRecord(
      {
        classification: 'hybrid',
        onprem_hosts: [
          {
            name: 'owa.a.test',
            addresses: ['198.18.0.1', '198.18.0.2'],
            sources: ['conventional'],
          },
          { name: 'mail.a.test', addresses: ['198.18.0.3'], sources: ['mx'] },
        ],
      },
      1,
    );
    expect(hosts.extra.onprem_hosts).toBe(
      'owa.a.test=198.18.0.1;owa.a.test=198.18.0.2;mail.a.test=198.18.0.3',
    );
    expect(() => csvReader(['a', 'b'])).toThrow(/scanned_domain/);
    expect(() => fromJsonRecord([1], 3)).toThrow(/line 3/);
  });
});
