/**
 * The report reads the columns of the on-prem and probe work when a scan
 * wrote them (and a probe's requests stored beside the evidence), from a
 * hand-made JSONL file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { TempDir } from '../helpers/temp-dir.js';

let dir: TempDir;

function row(n: number, domain: string, fields: Record<string, unknown>) {
  return JSON.stringify({
    row: n,
    input: { client: 'Acme', domain },
    domain,
    classification: 'exchange-onprem',
    confidence: 'high',
    provider: '',
    gateway: '',
    tenant: '',
    reasons: ['server-mx-autodiscover-onprem'],
    status: 'ok',
    error: '',
    flags: [],
    scanned_at: '2026-12-06T10:00:00.000Z',
    onprem_exchange: 'confirmed',
    onprem_hosts: `mail.${domain}=198.18.0.1`,
    probe_status: 'ok',
    evidence: { domain, status: 'ok', queries: [] },
    ...fields,
  });
}

beforeAll(() => {
  dir = tempDir();
});
afterAll(() => dir?.remove());

describe('report with the on-prem and probe columns', () => {
  it('charts them, puts vulnerable servers first, and shows the probe requests as text', async () => {
    const results = dir.file(
      'probed.jsonl',
      [
        row(1, 'old.test', {
          exchange_build: '15.1.2106.2',
          exchange_version: 'Exchange Server 2016 CU19',
          proxylogon: 'patched',
          proxyshell: 'vulnerable',
          proxynotshell: 'vulnerable',
          exchange_current: 'no',
          probe: [
            {
              url: 'https://mail.old.test/owa/',
              header: '<script>alert(3)</script>',
            },
          ],
        }),
        row(2, 'new.test', {
          exchange_build: '15.2.1544.4',
          proxylogon: 'patched',
          proxyshell: 'patched',
          proxynotshell: 'patched',
          exchange_current: 'yes',
        }),
        row(3, 'left.test', {
          classification: 'google-workspace',
          onprem_exchange: 'possible',
          probe_status: '',
        }),
      ].join('\n') + '\n',
    );
    const out = join(dir.path, 'probed.html');
    const r = await runCli(['report', results, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('data-chart="onprem_exchange"');
    expect(html).toContain('data-chart="patch"');
    expect(html).toMatch(/data-label="vulnerable">1</);
    expect(html).toMatch(/data-label="current">1</);
    const actions = html.slice(
      html.indexOf('id="actions"'),
      html.indexOf('id="summary"'),
    );
    expect(actions.indexOf('old.test')).toBeLessThan(
      actions.indexOf('new.test'),
    );
    expect(actions).toContain('vulnerable to ProxyShell, ProxyNotShell');
    expect(actions).toContain('left.test');
    expect(actions).toContain('possibly still running');
    expect(html).toContain('&lt;script>alert(3)&lt;/script>');
    expect(html).not.toContain('<script>alert(3)');
  });
});
