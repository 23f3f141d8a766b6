/**
 * The HTML report in a real browser (Debian's chromium through
 * playwright-core): made by the built CLI from a scan of the loopback DNS
 * world, opened from a file with every network request intercepted.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeDnsServer } from '../helpers/dns-server.js';
import {
  EXPECTED_ACTIONS,
  HOSTILE_CLIENT,
  HOSTILE_SCRIPT,
  HOSTILE_TXT,
  WORLD_INPUT,
  startWorldServer,
  worldDnsFlags,
} from '../helpers/report-world.js';
import { REPO, runCli } from '../helpers/cli.js';
import { readCsv } from '../helpers/output-checks.js';

/** Where the screenshot goes (kept after the run, ignored by git). */
export const OUTPUT_DIR = join(REPO, 'test-results', 'report-browser');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: FakeDnsServer;
let dir: string;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const dialogs: string[] = [];
let csvRows: Record<string, string>[];
let reportPath: string;

beforeAll(async () => {
  server = await startWorldServer();
  dir = mkdtempSync(join(tmpdir(), 'exoscope-report-'));
  const input = join(dir, 'clients.csv');
  writeFileSync(input, WORLD_INPUT);
  const dns = worldDnsFlags(server);
  const jsonl = join(dir, 'scan.jsonl');
  const csv = join(dir, 'scan.csv');
  for (const [out, format] of [
    [jsonl, 'jsonl'],
    [csv, 'csv'],
  ] as const) {
    const run = await runCli(['scan', input, '-o', out, '-f', format, ...dns]);
    expect(run.code, run.stderr).toBe(0);
  }
  csvRows = readCsv(readFileSync(csv));
  reportPath = join(dir, 'report.html');
  const run = await runCli([
    'report',
    jsonl,
    '-o',
    reportPath,
    '--group',
    'client',
  ]);
  expect(run.code, run.stderr).toBe(0);

  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  // Everything but the report file itself is counted and refused.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === pathToFileURL(reportPath).href) return route.continue();
    requests.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('request', (r) => {
    if (r.url() !== pathToFileURL(reportPath).href) requests.push(r.url());
  });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A chart's counts as its table shows them: label → number. */
async function chartCounts(id: string): Promise<Map<string, number>> {
  const cells = await page
    .locator(`figure[data-chart=${id}] td.count`)
    .evaluateAll((els) =>
      els.map(
        (e) =>
          [e.getAttribute('data-label') ?? '', Number(e.textContent)] as const,
      ),
    );
  return new Map(cells);
}

/** How many CSV rows have each value of `column` ('' shown as `empty`). */
function csvCounts(column: string, empty: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of csvRows) {
    const v = r[column] || empty;
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}

describe('exoscope report in chromium', () => {
  it('draws every summary chart with a size', async () => {
    const charts = page.locator('figure.chart svg');
    const ids = await page
      .locator('figure.chart')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-chart')));
    expect(ids).toEqual([
      'classification',
      'onprem_exchange',
      'provider',
      'gateway',
    ]);
    for (let i = 0; i < (await charts.count()); i++) {
      const box = await charts.nth(i).boundingBox();
      expect(box?.width).toBeGreaterThan(200);
      expect(box?.height).toBeGreaterThan(20);
      expect(await charts.nth(i).locator('rect').count()).toBeGreaterThan(0);
    }
  });

  it('shows the counts the CSV holds', async () => {
    const fromCsv = csvCounts('classification', '(none)');
    expect(await chartCounts('classification')).toEqual(fromCsv);
    // the bars say the same numbers
    const bars = await page
      .locator('figure[data-chart=classification] svg text.num')
      .allTextContents();
    expect(bars.map((b) => Number(b.trim())).sort()).toEqual(
      [...fromCsv.values()].sort(),
    );
    expect(await chartCounts('gateway')).toEqual(
      csvCounts('gateway', '(no gateway)'),
    );
    expect(await chartCounts('onprem_exchange')).toEqual(
      csvCounts('onprem_exchange', '(not written)'),
    );
    expect(await chartCounts('provider')).toEqual(
      csvCounts('provider', '(none)'),
    );
  });

  it('lists exactly the domains that need attention, first', async () => {
    const domains = await page
      .locator('#actions tr.action td.domain')
      .allTextContents();
    expect(domains.map((d) => d.trim()).sort()).toEqual(EXPECTED_ACTIONS);
    // the action list comes before the summary and the listing
    const order = await page.evaluate(() =>
      Array.from(document.querySelectorAll('main > section'), (s) => s.id),
    );
    expect(order.indexOf('actions')).toBeLessThan(order.indexOf('summary'));
    // its links open the domain's evidence
    const href = await page.locator('#actions a').first().getAttribute('href');
    expect(href).toMatch(/^#row-\d+$/);
    expect(await page.locator(href ?? '#none').count()).toBe(1);
  });

  it('folds every domain with its DNS evidence, grouped per client', async () => {
    expect(await page.locator('details.domain').count()).toBe(csvRows.length);
    expect(await page.locator('details.domain[open]').count()).toBe(0);
    const groups = await page
      .locator('section.group')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-group')));
    // clients in name order (a leading < sorts first)
    expect(groups).toEqual([HOSTILE_CLIENT, 'Alpha', 'Beta', 'Delta', 'Gamma']);
    const exo = page.locator('details.domain', { hasText: 'exo.test' }).first();
    await exo.locator('summary').click();
    const queries = exo.locator('table.queries tbody tr');
    expect(await queries.count()).toBeGreaterThan(3);
    expect(await exo.locator('table.queries').textContent()).toContain(
      server.address,
    );
    expect(await exo.locator('ul.reasons').textContent()).toContain(
      'MX at EOP',
    );
  });

  it('shows hostile DNS and input text as text: no element, no script, no dialog', async () => {
    const hostile = page.locator('details.domain', { hasText: 'hostile.test' });
    await hostile.locator('summary').click();
    expect(await hostile.textContent()).toContain(HOSTILE_TXT);
    expect(await hostile.textContent()).toContain(HOSTILE_SCRIPT);
    expect(
      await page.locator('section.group').first().locator('h3').textContent(),
    ).toContain(HOSTILE_CLIENT);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('#evil').count()).toBe(0);
    expect(dialogs).toEqual([]);
    const csp = await page
      .locator('meta[http-equiv=Content-Security-Policy]')
      .getAttribute('content');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
  });

  it('shows the scan metadata from the record beside the results', async () => {
    const meta = page.locator('#scan-metadata');
    expect(await meta.textContent()).toContain('clients.csv');
    expect(await meta.textContent()).toContain(server.address);
    const sha =
      (await meta
        .locator('tr', { hasText: 'Input SHA-256' })
        .locator('td')
        .textContent()) ?? '';
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
  });

  it('makes no network request, and leaves a screenshot of the summary', async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    const shot = join(OUTPUT_DIR, 'report-summary.png');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({
      path: join(OUTPUT_DIR, 'report-top.png'),
      clip: { x: 0, y: 0, width: 1280, height: 900 },
    });
    await page.locator('#summary').screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    if (process.env.EXOSCOPE_UPDATE_DOCS === '1')
      copyFileSync(shot, join(REPO, 'docs', 'report-summary.png'));
    expect(requests).toEqual([]);
  });
});
