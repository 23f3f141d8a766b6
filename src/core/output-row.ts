import { onpremHostsCell } from './onprem-exchange.js';
import { exchangeHosts, probeColumns } from './probe-verdict.js';
import type { RowReport } from './report.js';
import { cap, escapeControls, safeText } from './untrusted-text.js';

/**
 * The result columns, in their fixed order, after the input's own columns.
 * README.md's column glossary documents each; changing the order is a
 * breaking change.
 */
const FIRST_COLUMNS = [
  'scanned_domain',
  'classification',
  'confidence',
  'provider',
  'gateway',
  'tenant',
  'reasons',
  'status',
  'error',
  'flags',
  'mx_hosts',
  'mx_ips',
  'mx_asns',
  'mx_orgs',
  'autodiscover',
  'spf',
] as const;

/**
 * Result columns added after the first release (on-prem Exchange, the
 * probe): `report` and `diff` read files written before them too.
 */
export const LATER_COLUMNS = [
  'onprem_exchange',
  'onprem_hosts',
  'exchange_hosts',
  'exchange_build',
  'exchange_version',
  'proxylogon',
  'proxyshell',
  'proxynotshell',
  'exchange_support',
  'exchange_current',
  'probe_status',
] as const;

export const RESULT_COLUMNS = [...FIRST_COLUMNS, ...LATER_COLUMNS] as const;
export type ResultColumn = (typeof RESULT_COLUMNS)[number];

/** Longest cell written to the CSV; DNS text beyond it is cut with a marker. */
export const MAX_CELL_CHARS = 1024;

// OWASP CSV injection: a leading = + - @ (also full-width), tab, CR or LF can
// make a spreadsheet evaluate the cell.
const FORMULA_START = /^[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]/;

/** Makes a cell inert in a spreadsheet: a leading quote before a formula start. */
export function neutralise(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/**
 * The output header: the input columns, then the result columns. An input
 * column whose name clashes with a result column is renamed `input_<name>`;
 * an input column name that could start a formula is neutralised like a cell.
 */
export function outputHeader(inputHeader: readonly string[]): string[] {
  const taken = new Set<string>(RESULT_COLUMNS);
  return [
    ...inputHeader.map((h) => (taken.has(h) ? `input_${h}` : neutralise(h))),
    ...RESULT_COLUMNS,
  ];
}

/** The result cells of one report, keyed by column; untrusted text escaped and capped. */
export function resultCells(r: RowReport): Record<ResultColumn, string> {
  const ev = r.evidence;
  const hosts = ev?.mxHosts ?? [];
  const addresses = hosts.flatMap((h) => h.addresses);
  const orgs = [...new Set(addresses.map((a) => a.owner.org).filter(Boolean))];
  const ad = ev?.autodiscover;
  const spf = ev?.txt.find((t) => /^v=spf1(\s|$)/i.test(t)) ?? '';
  const probe = probeColumns(ev?.exchangeProbe ?? null, day(r.scannedAt));
  return {
    scanned_domain: r.domain,
    classification: r.verdict.classification,
    confidence: r.verdict.confidence,
    provider: r.verdict.provider,
    gateway: r.verdict.gateway,
    tenant: safeText(r.verdict.tenant, 63),
    reasons: r.verdict.reasons.join(';'),
    status: r.status,
    error: safeText(r.error, 512),
    flags: r.flags.join(';'),
    mx_hosts: list((ev?.mx ?? []).map((m) => m.exchange)),
    mx_ips: list(addresses.map((a) => a.ip)),
    mx_asns: list(
      addresses.map((a) =>
        a.owner.asn === null ? 'unknown' : `AS${a.owner.asn}`,
      ),
    ),
    mx_orgs: list(orgs),
    autodiscover: safeText(
      ad?.cname ?? (ad?.addresses.length ? ad.addresses.join(';') : ''),
    ),
    spf: safeText(spf, MAX_CELL_CHARS),
    onprem_exchange: r.verdict.onpremExchange,
    onprem_hosts: cap(
      escapeControls(onpremHostsCell(r.verdict.onpremHosts)),
      MAX_CELL_CHARS,
    ),
    ...probe,
    exchange_hosts: list(probe.exchange_hosts ? [probe.exchange_hosts] : []),
  };
}

/** The scan's date (UTC), for what depends on it: a product's support. */
function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The CSV cells of one report: input cells then result cells, all neutralised. */
export function csvCells(r: RowReport, width: number): string[] {
  const cells: string[] = [];
  for (let i = 0; i < width; i++) cells.push(neutralise(r.fields[i] ?? ''));
  const result = resultCells(r);
  for (const c of RESULT_COLUMNS) cells.push(neutralise(result[c]));
  return cells;
}

/**
 * The JSON record of one report: the row with its full evidence (every query,
 * its answer or error, the resolver, the time). Not spreadsheet-escaped.
 */
export function jsonRecord(
  r: RowReport,
  inputHeader: readonly string[],
): Record<string, unknown> {
  const input: Record<string, string> = {};
  inputHeader.forEach((h, i) => (input[h] = r.fields[i] ?? ''));
  return {
    row: r.index + 1,
    input,
    domain: r.domain,
    classification: r.verdict.classification,
    confidence: r.verdict.confidence,
    provider: r.verdict.provider,
    gateway: r.verdict.gateway,
    tenant: r.verdict.tenant,
    reasons: r.verdict.reasons,
    status: r.status,
    error: r.error,
    flags: r.flags,
    onprem_exchange: r.verdict.onpremExchange,
    onprem_hosts: r.verdict.onpremHosts,
    scanned_at: new Date(r.scannedAt).toISOString(),
    ...(r.evidence?.exchangeProbe
      ? {
          exchange: {
            ...probeColumns(r.evidence.exchangeProbe, day(r.scannedAt)),
            servers: exchangeHosts(r.evidence.exchangeProbe, day(r.scannedAt)),
          },
        }
      : {}),
    evidence: r.evidence,
  };
}

function list(items: string[]): string {
  return cap(escapeControls(items.join(';')), MAX_CELL_CHARS);
}

/** A row as the sink writes it: CSV cells, or a JSON record. */
export type RenderedRow = string[] | Record<string, unknown>;

/** The flag of a row with more fields than the input's header. */
export const EXTRA_FIELDS_FLAG = 'extra-fields';

/**
 * Renders one report for the chosen format (what a queue worker stores). A
 * row with more non-empty fields than the header has is flagged
 * {@link EXTRA_FIELDS_FLAG} with a note in `error`: the CSV has no column
 * for them (its header is written first), JSONL keeps them as `extra_1`...
 */
export function renderRow(
  r: RowReport,
  format: 'csv' | 'jsonl',
  inputHeader: readonly string[],
): RenderedRow {
  const width = inputHeader.length;
  const extra = r.fields.slice(width);
  if (extra.some((cell) => cell.trim() !== '')) {
    const where =
      format === 'csv'
        ? 'not in the CSV output (use -f jsonl to keep them)'
        : 'kept in input as extra_1...';
    const note = `the row has ${r.fields.length} fields, the header ${width}: the ${extra.length} extra ones are ${where}`;
    r = {
      ...r,
      flags: [...r.flags, EXTRA_FIELDS_FLAG],
      error: r.error ? `${r.error}; ${note}` : note,
    };
  }
  if (format === 'csv') return csvCells(r, width);
  const record = jsonRecord(r, inputHeader);
  if (extra.length > 0 && r.flags.includes(EXTRA_FIELDS_FLAG)) {
    const input = record.input as Record<string, string>;
    extra.forEach((cell, i) => (input[`extra_${i + 1}`] = cell));
  }
  return record;
}

/** Whether a rendered row carries the {@link EXTRA_FIELDS_FLAG}. */
export function hasExtraFields(row: RenderedRow, width: number): boolean {
  const flags = Array.isArray(row)
    ? (row[width + RESULT_COLUMNS.indexOf('flags')] ?? '').split(';')
    : (row.flags as string[] | undefined);
  return flags?.includes(EXTRA_FIELDS_FLAG) ?? false;
}
