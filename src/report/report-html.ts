/**
 * The HTML report, rendered with preact-render-to-string from htm tagged
 * templates: every interpolated value is a text node or an attribute value,
 * escaped by the renderer. Nothing here builds HTML from strings. The page
 * carries no script; a Content-Security-Policy allows only its own inline
 * stylesheet (by hash), so even markup that slipped through could not run,
 * load or send anything.
 */
import { createHash } from 'node:crypto';
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';
import { ATTENTION_KINDS } from '../core/attention.js';
import type { AttentionKind } from '../core/attention.js';
import { reasonText } from '../core/reason-text.js';
import type { ResultRecord } from '../core/result-record.js';
import { OPTIONAL_COLUMNS } from '../core/result-record.js';
import type { Change } from '../core/scan-diff.js';
import { classificationLabel, plural } from '../core/labels.js';
import { safeText } from '../core/untrusted-text.js';
import { REPORT_CSS } from './report-css.js';
import type { Chart, Entry, Group, ReportModel } from './report-model.js';

/** Longest piece of DNS or server text shown as it is. */
const MAX_TEXT = 4096;

/** The scan's record and the file's facts, as the metadata section shows them. */
export interface ReportMeta {
  /** Name and SHA-256 of the results file the report was made from. */
  results: { name: string; sha256: string; format: string; bytes: number };
  generated: string;
  exoscope: string;
  /** The sidecar `<results>.meta.json`, when it was there. */
  record: Record<string, unknown> | null;
  /** Resolvers seen in the evidence (every query names its resolver). */
  resolversSeen: string[];
  /** First and last `scanned_at` of the rows. */
  firstScanned: string;
  lastScanned: string;
  group: string | null;
}

export interface Baseline {
  name: string;
  changes: Change[];
  summary: string[];
}

export interface ReportInput {
  model: ReportModel;
  meta: ReportMeta;
  baseline: Baseline | null;
  evidence: (index: number) => unknown;
  /** The main file's name: pages are `<stem>-<n>.html` beside it. */
  fileName: string;
}

/** One output file of the report. */
export interface ReportFile {
  name: string;
  html: string;
}

const CSS_HASH = createHash('sha256').update(REPORT_CSS).digest('base64');

/** The page's policy: its own stylesheet and nothing else (no script at all). */
export const CSP = `default-src 'none'; style-src 'sha256-${CSS_HASH}'; img-src 'none'; script-src 'none'; connect-src 'none'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'`;

const t = (s: string): string => safeText(s, MAX_TEXT);

function document(title: string, body: VNode): string {
  return `<!DOCTYPE html>\n${render(
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content=${CSP} />
        <meta name="referrer" content="no-referrer" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          ${REPORT_CSS}
        </style>
      </head>
      <body>
        ${body}
      </body>
    </html>`,
  )}\n`;
}

function pageName(fileName: string, page: number): string {
  if (page === 0) return fileName;
  const stem = fileName.replace(/\.html?$/i, '');
  return `${stem}-${page}.html`;
}

/** Where a domain's evidence is: an anchor on this page or another. */
function link(input: ReportInput, e: Entry, from: number): string {
  const anchor = `#row-${e.record.row}`;
  return e.page === from
    ? anchor
    : `${pageName(input.fileName, e.page)}${anchor}`;
}

/** A horizontal bar chart as inline SVG, the numbers beside the bars. */
function chart(c: Chart): VNode {
  const rowH = 22;
  const labelW = 190;
  const barW = 260;
  const max = Math.max(1, ...c.counts.map((x) => x.value));
  const total = c.counts.reduce((s, x) => s + x.value, 0);
  const h = c.counts.length * rowH + 4;
  return html`<figure class="chart" data-chart=${c.id}>
    <figcaption>${c.title}</figcaption>
    <svg
      role="img"
      aria-label=${`${c.title}: ${c.counts.map((x) => `${x.label} ${x.value}`).join(', ')}`}
      width=${labelW + barW + 80}
      height=${h}
      viewBox=${`0 0 ${labelW + barW + 80} ${h}`}
    >
      ${c.counts.map(
        (x, i) =>
          html`<g class=${`bar k-${cssKey(x.label)}`}>
            <text x=${labelW - 6} y=${i * rowH + 15} text-anchor="end">
              ${t(x.label).slice(0, 32)}
            </text>
            <rect
              x=${labelW}
              y=${i * rowH + 3}
              width=${Math.max(2, Math.round((x.value / max) * barW))}
              height=${rowH - 6}
              rx="2"
            />
            <text
              x=${labelW + Math.max(2, Math.round((x.value / max) * barW)) + 6}
              y=${i * rowH + 15}
              class="num"
            >
              ${x.value}
            </text>
          </g>`,
      )}
    </svg>
    <table class="counts">
      <tbody>
        ${c.counts.map(
          (x) =>
            html`<tr>
              <th scope="row">${t(x.label)}</th>
              <td class="count" data-label=${t(x.label)}>${x.value}</td>
              <td class="pct">
                ${((x.value / Math.max(1, total)) * 100).toFixed(1)} %
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </figure>`;
}

/** A class name for a chart value: letters, digits and dashes only. */
function cssKey(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '_')
    .slice(0, 40);
}

/** A listing table: a header row of `columns`, then `rows`. */
function listTable(
  className: string,
  columns: readonly string[],
  rows: VNode[],
): VNode {
  return html`<table class=${`list ${className}`}>
    <thead>
      <tr>
        ${columns.map((c) => html`<th>${c}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

function changesSection(b: Baseline): VNode {
  return html`<section id="changes" class="changes">
    <h2>Changes since the baseline</h2>
    <p class="note">Compared with ${t(b.name)}.</p>
    <ul class="change-summary">
      ${b.summary.map((l) => html`<li>${t(l)}</li>`)}
    </ul>
    ${
      b.changes.length > 0 &&
      html`<details>
        <summary>${plural(b.changes.length, 'change')}, one by one</summary>
        ${listTable(
          'change-list',
          ['Domain', 'Client', 'Change', 'Before', 'Now'],
          b.changes.map(
            (c) =>
              html`<tr class="change" data-change=${c.change}>
                <td>${t(c.domain)}</td>
                <td>${t(c.group)}</td>
                <td>
                  ${c.change === c.field ? c.change : `${c.change} (${c.field})`}
                </td>
                <td>${t(c.old)}</td>
                <td>${t(c.new)}</td>
              </tr>`,
          ),
        )}
      </details>`
    }
  </section>`;
}

function clientOf(meta: ReportMeta, r: ResultRecord): string {
  return meta.group === null ? '' : (r.input[meta.group] ?? '');
}

/** What each kind of action-list entry is, as the heading of its part. */
const ATTENTION_TITLES: Readonly<Record<AttentionKind, string>> = {
  vulnerable: 'Exchange servers with a known vulnerability',
  unsupported: 'Exchange servers past their end of support',
  outdated: 'Exchange servers missing the latest security update',
  onprem: 'Mail on on-premises Exchange',
  hybrid: 'Hybrid Exchange',
  'onprem-server': 'An on-premises Exchange server left running',
  'gateway-unknown': 'Unknown behind a filtering gateway',
  unresolved: 'DNS failed: nothing known',
};

/** Action lists longer than this start folded (per kind): the page opens fast. */
const OPEN_ACTIONS = 1000;

function actionList(input: ReportInput): VNode {
  const { actions } = input.model;
  const grouped = input.meta.group !== null;
  const kinds = ATTENTION_KINDS.map((k) => ({
    kind: k,
    entries: actions.filter((e) => e.attention?.kind === k),
  })).filter((k) => k.entries.length > 0);
  const open = actions.length <= OPEN_ACTIONS;
  return html`<section id="actions">
    <h2>Action list</h2>
    <p class="note">
      ${
        actions.length === 0
          ? 'No domain needs attention.'
          : `${plural(actions.length, 'row')} need${actions.length === 1 ? 's' : ''} someone's attention, most urgent first${open ? '' : ' (open each part to see its rows)'}.`
      }
    </p>
    ${kinds.map(
      (k) =>
        html`<details class="action-kind" open=${open}>
          <summary>
            ${`${ATTENTION_TITLES[k.kind]}: ${k.entries.length}`}
          </summary>
          ${listTable(
            'actions',
            grouped
              ? ['Domain', t(input.meta.group ?? ''), 'Classification', 'Why']
              : ['Domain', 'Classification', 'Why'],
            k.entries.map(
              (e) =>
                html`<tr class=${`action a-${k.kind}`}>
                  <td class="domain">
                    <a href=${link(input, e, 0)}>${t(shownDomain(e.record))}</a>
                  </td>
                  ${
                    grouped &&
                    html`<td class="client">
                      ${t(clientOf(input.meta, e.record))}
                    </td>`
                  }
                  <td>${classificationLabel(e.record.classification)}</td>
                  <td>${t(e.attention?.reason ?? '')}</td>
                </tr>`,
            ),
          )}
        </details>`,
    )}
  </section>`;
}

function shownDomain(r: ResultRecord): string {
  return r.domain || Object.values(r.input).join(', ') || `row ${r.row}`;
}

function metaSection(input: ReportInput): VNode {
  const m = input.meta;
  const rec = m.record;
  const recInput = (rec?.input ?? null) as Record<string, unknown> | null;
  const rows: [string, string][] = [
    [
      'Results file',
      `${m.results.name} (${m.results.format}, ${m.results.bytes} bytes)`,
    ],
    ['Results SHA-256', m.results.sha256],
    ['Rows in the results', String(input.model.rows)],
  ];
  if (rec) {
    rows.push(
      ['Scan started (UTC)', String(rec.started ?? '')],
      ['Scan finished (UTC)', String(rec.finished ?? '')],
      [
        'Scanned by',
        `exoscope ${String(rec.exoscope ?? '')} (${String(rec.command ?? '')})`,
      ],
      ['Input file', String(recInput?.name ?? '')],
      ['Input SHA-256', String(recInput?.sha256 ?? 'not known (stdin)')],
      [
        'Input rows',
        `${String(recInput?.rows ?? '')} (skipped: ${String(recInput?.skippedBlank ?? 0)} blank, ${String(recInput?.skippedComment ?? 0)} comment lines)`,
      ],
      [
        'Resolvers configured',
        Array.isArray(rec.resolvers) && rec.resolvers.length > 0
          ? rec.resolvers.map(String).join(', ')
          : 'not recorded (workers choose their own)',
      ],
      [
        'Options',
        Object.entries((rec.options ?? {}) as Record<string, unknown>)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', '),
      ],
    );
  } else {
    rows.push([
      'Scan record',
      `none beside the results file (${m.results.name}.meta.json); times below are from the rows`,
    ]);
  }
  rows.push(
    ['First row finished (UTC)', m.firstScanned || 'not in the file (CSV)'],
    ['Last row finished (UTC)', m.lastScanned || 'not in the file (CSV)'],
    [
      'Resolvers seen in the evidence',
      m.resolversSeen.join(', ') || 'none (CSV carries no evidence)',
    ],
    ['Grouped by', m.group ?? 'domain (no --group)'],
    ['Report made (UTC)', m.generated],
    ['Report made by', `exoscope ${m.exoscope}`],
  );
  return html`<section id="scan-metadata">
    <h2>Scan metadata</h2>
    ${factTable(rows)}
  </section>`;
}

/** Name / value rows; a row with an empty value is left out. */
function factTable(rows: readonly (readonly [string, string])[]): VNode {
  return html`<table class="meta">
    <tbody>
      ${rows
        .filter(([, v]) => v !== '')
        .map(
          ([k, v]) =>
            html`<tr>
              <th scope="row">${k}</th>
              <td>${t(v)}</td>
            </tr>`,
        )}
    </tbody>
  </table>`;
}

/** Any value from the evidence as text. */
function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** An answer record in words: MX `10 host`, SRV `0 5 443 host`, text as is. */
function answer(rec: unknown): string {
  if (typeof rec !== 'object' || rec === null) return str(rec);
  const o = obj(rec);
  if ('exchange' in o) return `${str(o.priority)} ${str(o.exchange) || '.'}`;
  if ('port' in o)
    return `${str(o.priority)} ${str(o.weight)} ${str(o.port)} ${str(o.name)}`;
  return str(rec);
}

const EVIDENCE_KEYS = new Set([
  'domain',
  'status',
  'error',
  'apexCname',
  'mx',
  'nullMx',
  'mxHosts',
  'txt',
  'txtStatus',
  'autodiscover',
  'autodiscoverSrv',
  'dkim',
  'services',
  'exchangeDelegation',
  'autodiscoverService',
  'wildcard',
  'failures',
  'queries',
]);

function evidenceBody(r: ResultRecord, evidence: unknown): VNode {
  const ev = obj(evidence);
  const verdict: [string, string][] = [
    [
      'Classification',
      `${r.classification} (${classificationLabel(r.classification)})`,
    ],
    ['Confidence', r.confidence],
    ['Provider', r.provider],
    ['Gateway', r.gateway],
    ['Tenant', r.tenant],
    ['Status', r.status],
    ['Error', r.error],
    ['Flags', r.flags.join(', ')],
    ['Row finished (UTC)', r.scannedAt],
    ...OPTIONAL_COLUMNS.map((c): [string, string] => [c, r.extra[c]]),
  ];
  // In the order of the question, not of the answer's arrival (queries run
  // in parallel): the same evidence reads the same from every mode.
  const queries = arr(ev.queries)
    .map(obj)
    .sort((a, b) =>
      `${str(a.name)} ${str(a.type)}`.localeCompare(
        `${str(b.name)} ${str(b.type)}`,
      ),
    );
  const hosts = arr(ev.mxHosts).map(obj);
  const other = Object.entries(ev).filter(([k]) => !EVIDENCE_KEYS.has(k));
  return html`<div class="evidence">
    ${factTable(verdict)}
    <h4>Why: the rules that fired</h4>
    <ul class="reasons">
      ${r.reasons.map(
        (id) => html`<li>${t(reasonText(id))} <code>${t(id)}</code></li>`,
      )}
    </ul>
    ${
      hosts.length > 0 &&
      html`<h4>MX hosts and their addresses</h4>
        ${listTable(
          'hosts',
          ['Priority', 'Host', 'Addresses (owner)'],
          hosts.map(
            (h) =>
              html`<tr>
                <td>${str(h.priority)}</td>
                <td>${t(str(h.host))}</td>
                <td>
                  ${arr(h.addresses)
                    .map(obj)
                    .map((a) => {
                      const o = obj(a.owner);
                      return t(
                        `${str(a.ip)}${o.asn ? ` AS${str(o.asn)}` : ''}${o.org ? ` ${str(o.org)}` : ''}${a.microsoftRange ? ` [${str(a.microsoftRange)}]` : ''}`,
                      );
                    })
                    .join('; ')}
                </td>
              </tr>`,
          ),
        )}`
    }
    <h4>DNS questions and answers (${queries.length})</h4>
    ${
      queries.length === 0
        ? html`<p class="note">
            ${
              evidence === null
                ? 'No evidence in a CSV file: make the report from the JSONL output (-f jsonl).'
                : 'No query was made.'
            }
          </p>`
        : listTable(
            'queries',
            ['Question', 'Outcome', 'Answer', 'Resolver', 'Time'],
            queries.map(
              (q) =>
                html`<tr>
                  <td>${t(`${str(q.name)} ${str(q.type)}`)}</td>
                  <td>
                    ${t(str(q.status))}${q.error ? t(` (${str(q.error)})`) : ''}
                  </td>
                  <td class="answer">
                    ${[
                      ...arr(q.cnames).map((c) => `CNAME ${str(c)}`),
                      ...arr(q.records).map(answer),
                    ].map((a) => html`<div>${t(a)}</div>`)}
                  </td>
                  <td>${t(str(q.resolver))}</td>
                  <td>
                    ${typeof q.ms === 'number' ? `${q.ms.toFixed(1)} ms` : t(str(q.ms))}
                  </td>
                </tr>`,
            ),
          )
    }
    ${other.map(
      ([k, v]) =>
        html`<h4>${t(k)}</h4>
          <pre>${t(JSON.stringify(v, null, 2) ?? '')}</pre>`,
    )}
  </div>`;
}

function domainEntry(input: ReportInput, e: Entry): VNode {
  const r = e.record;
  return html`<details class="domain" id=${`row-${r.row}`}>
    <summary>
      <span class="d">${t(shownDomain(r))}</span>
      <span class=${`tag c-${cssKey(r.classification)}`}>
        ${classificationLabel(r.classification)}
      </span>
      <span class="conf">${r.confidence}</span>
      ${e.attention && html`<span class="flag">needs attention</span>`}
    </summary>
    ${evidenceBody(r, input.evidence(e.index))}
  </details>`;
}

function groupSection(input: ReportInput, g: Group, entries: Entry[]): VNode {
  const counts = new Map<string, number>();
  for (const e of g.entries)
    counts.set(
      e.record.classification,
      (counts.get(e.record.classification) ?? 0) + 1,
    );
  const grouped = input.meta.group !== null;
  return html`<section class="group" data-group=${t(g.name)}>
    ${
      grouped &&
      html`<h3>
        ${g.name ? t(g.name) : `(no ${t(input.meta.group ?? '')})`}
        <small>
          ${`${plural(g.entries.length, 'domain')}: ${[...counts].map(([c, n]) => `${n} ${classificationLabel(c)}`).join(', ')}`}
        </small>
      </h3>`
    }
    ${entries.map((e) => domainEntry(input, e))}
  </section>`;
}

function listing(input: ReportInput, page: number): VNode[] {
  const out: VNode[] = [];
  for (const g of input.model.groups) {
    const entries = g.entries.filter((e) => e.page === page);
    if (entries.length > 0) out.push(groupSection(input, g, entries));
  }
  return out;
}

function pageIndex(input: ReportInput): VNode {
  const pages: { page: number; first: string; last: string; n: number }[] = [];
  for (const g of input.model.groups) {
    for (const e of g.entries) {
      const label = input.meta.group === null ? shownDomain(e.record) : g.name;
      const p = pages[e.page - 1];
      if (p) {
        p.last = label;
        p.n++;
      } else
        pages[e.page - 1] = { page: e.page, first: label, last: label, n: 1 };
    }
  }
  return html`<ul class="pages">
    ${pages.map(
      (p) =>
        html`<li>
          <a href=${pageName(input.fileName, p.page)}>
            ${pageName(input.fileName, p.page)}
          </a>
          : ${plural(p.n, 'row')}, ${t(p.first)} … ${t(p.last)}
        </li>`,
    )}
  </ul>`;
}

/**
 * Renders the report: the main file, then one file per further page, each
 * rendered when the caller asks for it (so one page at a time is in memory).
 */
export function* renderReport(input: ReportInput): Generator<ReportFile> {
  const { model, meta } = input;
  const title = `exoscope report: ${meta.results.name}`;
  const grouped = meta.group !== null;
  const main = html`<main>
    <header>
      <h1>Where the mail lives: ${t(meta.results.name)}</h1>
      <p class="note">
        ${`${plural(model.rows, 'row')} · made ${meta.generated} UTC by exoscope ${meta.exoscope}. Every domain's DNS evidence is folded under its name: open it to read every question and answer, the resolver, and the rules that fired.`}
      </p>
    </header>
    ${input.baseline && changesSection(input.baseline)} ${actionList(input)}
    <section id="summary">
      <h2>Summary</h2>
      <div class="charts">${model.charts.map(chart)}</div>
    </section>
    <section id="domains">
      <h2>${grouped ? `Per ${t(meta.group ?? '')}` : 'Per domain'}</h2>
      ${
        model.pageCount > 0
          ? html`<p class="note">
                ${plural(model.rows, 'row')} are listed on
                ${plural(model.pageCount, 'further page')} beside this file
                (kept together so each page opens fast):
              </p>
              ${pageIndex(input)}`
          : listing(input, 0)
      }
    </section>
    ${metaSection(input)}
  </main>`;
  yield { name: input.fileName, html: document(title, main) };
  for (let p = 1; p <= model.pageCount; p++) {
    const body = html`<main>
      <header>
        <h1>${t(meta.results.name)}: page ${p} of ${model.pageCount}</h1>
        <p class="note">
          <a href=${input.fileName}>Back to the summary and action list</a>
          ${p > 1 && html` · <a href=${pageName(input.fileName, p - 1)}>previous page</a>`}
          ${
            p < model.pageCount &&
            html` · <a href=${pageName(input.fileName, p + 1)}>next page</a>`
          }
        </p>
      </header>
      <section id="domains">${listing(input, p)}</section>
    </main>`;
    yield {
      name: pageName(input.fileName, p),
      html: document(`${title} (page ${p})`, body),
    };
  }
}
