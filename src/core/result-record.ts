/**
 * A row of a finished scan as `report` and `diff` read it back, from either
 * output format: a JSONL record (with its evidence) or a CSV row (without).
 * Columns added later (`onprem_exchange`, the probe's `exchange_*`) are
 * optional: a file written before them reads with those fields empty.
 */
import { LATER_COLUMNS, RESULT_COLUMNS } from './output-row.js';

/** Result columns a scan may or may not write, read when present. */
export const OPTIONAL_COLUMNS = LATER_COLUMNS;
export type OptionalColumn = (typeof OPTIONAL_COLUMNS)[number];

/** One result row, format-independent. Every field is plain text. */
export interface ResultRecord {
  /** 1-based data-row number in the scan's input. */
  row: number;
  /** The input's own columns, by name. */
  input: Record<string, string>;
  /** The scanned (normalised) domain; '' for an invalid input. */
  domain: string;
  classification: string;
  confidence: string;
  provider: string;
  gateway: string;
  tenant: string;
  /** Rule and signal ids, the deciding rule first. */
  reasons: string[];
  status: string;
  error: string;
  flags: string[];
  /** ISO time the row was finished; '' from a CSV. */
  scannedAt: string;
  /** The optional columns; '' when the scan did not write them. */
  extra: Record<OptionalColumn, string>;
  /** The JSONL evidence (shape of `Evidence`, untrusted); null from a CSV. */
  evidence: unknown;
}

/** A result row that cannot be read: its line and what is wrong. */
export class ResultRecordError extends Error {
  override readonly name = 'ResultRecordError';
  readonly code = 'EXO_RESULTS_INVALID';
}

/** The key two scans are compared on: the domain, or the raw input when invalid. */
export function recordKey(r: ResultRecord): string {
  if (r.domain) return r.domain;
  const values = Object.values(r.input);
  return `invalid:${values.join(',')}`;
}

const KNOWN_COLUMNS = new Set<string>(RESULT_COLUMNS);

/** Text of a JSON value: arrays joined with `;`, objects as JSON. */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(text).join(';');
  return JSON.stringify(v);
}

/**
 * A host list as its CSV cell: `name=address` pairs, `;`-separated. The
 * JSONL holds `{ name, addresses }` objects where the CSV holds the cell.
 */
function hostsText(v: unknown): string {
  if (!Array.isArray(v)) return text(v);
  return v
    .flatMap((h: unknown) => {
      const o = (typeof h === 'object' && h !== null ? h : {}) as {
        name?: unknown;
        addresses?: unknown;
      };
      if (typeof o.name !== 'string' || !Array.isArray(o.addresses))
        return [text(h)];
      const name = o.name;
      return o.addresses.length > 0
        ? o.addresses.map((a) => `${name}=${text(a)}`)
        : [name];
    })
    .join(';');
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(text);
  const t = text(v);
  return t ? t.split(';') : [];
}

function extras(get: (c: OptionalColumn) => unknown): ResultRecord['extra'] {
  const out = {} as ResultRecord['extra'];
  for (const c of OPTIONAL_COLUMNS)
    out[c] = c.endsWith('_hosts') ? hostsText(get(c)) : text(get(c));
  return out;
}

/**
 * Reads one JSONL record (as `JSON.parse` gives it).
 * @throws {ResultRecordError} when it is not a result object.
 */
export function fromJsonRecord(value: unknown, line: number): ResultRecord {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !('classification' in value)
  ) {
    throw new ResultRecordError(
      `line ${line}: not an exoscope result record (no "classification")`,
    );
  }
  const o = value as Record<string, unknown>;
  const input: Record<string, string> = {};
  if (typeof o.input === 'object' && o.input !== null) {
    for (const [k, v] of Object.entries(o.input)) input[k] = text(v);
  }
  return {
    row: typeof o.row === 'number' ? o.row : line,
    input,
    domain: text(o.domain),
    classification: text(o.classification),
    confidence: text(o.confidence),
    provider: text(o.provider),
    gateway: text(o.gateway),
    tenant: text(o.tenant),
    reasons: list(o.reasons),
    status: text(o.status),
    error: text(o.error),
    flags: list(o.flags),
    scannedAt: text(o.scanned_at),
    extra: extras((c) => o[c]),
    evidence: o.evidence ?? null,
  };
}

/**
 * Reads one CSV row given the file's header. Input columns are the ones
 * that are not result columns; a CSV cell neutralised against spreadsheet
 * formulas (a leading `'`) is read back as written.
 * @throws {ResultRecordError} when the header is not an exoscope output's.
 */
export function csvReader(
  header: readonly string[],
): (cells: readonly string[], row: number) => ResultRecord {
  const at = new Map(header.map((h, i) => [h, i]));
  for (const c of ['scanned_domain', 'classification'] as const) {
    if (!at.has(c)) {
      throw new ResultRecordError(
        `the CSV has no "${c}" column: not an exoscope result file`,
      );
    }
  }
  const inputColumns = header
    .map((h, i) => [h, i] as const)
    .filter(([h]) => !KNOWN_COLUMNS.has(h));
  return (cells, row) => {
    const get = (c: string): string => {
      const i = at.get(c);
      return i === undefined ? '' : (cells[i] ?? '');
    };
    const input: Record<string, string> = {};
    for (const [h, i] of inputColumns) input[h] = cells[i] ?? '';
    return {
      row,
      input,
      domain: get('scanned_domain'),
      classification: get('classification'),
      confidence: get('confidence'),
      provider: get('provider'),
      gateway: get('gateway'),
      tenant: get('tenant'),
      reasons: list(get('reasons')),
      status: get('status'),
      error: get('error'),
      flags: list(get('flags')),
      scannedAt: '',
      extra: extras(get),
      evidence: null,
    };
  };
}
