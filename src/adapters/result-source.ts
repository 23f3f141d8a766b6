/**
 * Reads a finished scan back (what `report` and `diff` take): a JSONL file
 * (one result record a line, with evidence) or a CSV file (the result
 * columns after the input's own), chosen by the first byte.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import {
  OPTIONAL_COLUMNS,
  ResultRecordError,
  csvReader,
  fromJsonRecord,
} from '../core/result-record.js';
import type { ResultRecord } from '../core/result-record.js';
import { RESULT_COLUMNS } from '../core/output-row.js';
import { escapeControls } from '../core/untrusted-text.js';

/** A results file that cannot be read. */
export class ResultsError extends Error {
  override readonly name = 'ResultsError';
  constructor(
    readonly code: 'EXO_RESULTS_UNREADABLE' | 'EXO_RESULTS_INVALID',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ScanResults {
  path: string;
  format: 'csv' | 'jsonl';
  /** The CSV header, or the union of the JSONL records' input columns. */
  inputColumns: string[];
  records: ResultRecord[];
  /**
   * The evidence of record `i`, parsed when asked (a JSONL line kept as
   * text costs a third of the parsed object); null for a CSV.
   */
  evidence(i: number): unknown;
  /** Every resolver the evidence names (JSONL only), sorted. */
  resolvers: string[];
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
  bytes: number;
}

/**
 * Reads a whole results file. With `keepEvidence` false, the JSONL evidence
 * is dropped as it is read (`diff` needs none).
 * @throws {ResultsError} for a missing file or a line that is not a result.
 */
export async function readResults(
  path: string,
  keepEvidence: boolean,
): Promise<ScanResults> {
  const name = escapeControls(path);
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) {
      throw new ResultsError(
        'EXO_RESULTS_UNREADABLE',
        `${name}: is a directory, not a results file`,
      );
    }
    size = s.size;
  } catch (err) {
    if (err instanceof ResultsError) throw err;
    throw new ResultsError(
      'EXO_RESULTS_UNREADABLE',
      `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
  const hash = createHash('sha256');
  const first = await firstByte(path);
  const open = () => {
    const s = createReadStream(path);
    s.on('data', (chunk) => hash.update(chunk));
    return s;
  };
  try {
    const read =
      first === '{'
        ? await readJsonl(open(), keepEvidence, name)
        : await readCsvResults(open(), name);
    return {
      path,
      bytes: size,
      sha256: hash.digest('hex'),
      ...read,
    };
  } catch (err) {
    if (err instanceof ResultsError) throw err;
    if (err instanceof ResultRecordError) {
      throw new ResultsError('EXO_RESULTS_INVALID', `${name}: ${err.message}`);
    }
    throw new ResultsError(
      'EXO_RESULTS_UNREADABLE',
      `cannot read ${name}: ${err instanceof Error ? escapeControls(err.message) : String(err)}`,
      { cause: err },
    );
  }
}

async function firstByte(path: string): Promise<string> {
  for await (const chunk of createReadStream(path, { start: 0, end: 4095 })) {
    const text = (chunk as Buffer).toString('utf8').replace(/^\ufeff/, '');
    const c = text.trimStart().charAt(0);
    if (c) return c;
  }
  return '';
}

type Read = Pick<
  ScanResults,
  'format' | 'inputColumns' | 'records' | 'evidence' | 'resolvers'
>;

/** The keys of a JSONL result that are not evidence (and a few CSV-only names). */
const RECORD_KEYS = new Set<string>([
  'row',
  'input',
  'domain',
  'scanned_at',
  'evidence',
  ...RESULT_COLUMNS,
  ...OPTIONAL_COLUMNS,
]);

/**
 * A record's evidence, with any further field of the record that is not a
 * known column (a newer scan's, e.g. probe requests kept beside the
 * evidence) added under its own name, so the report shows it too.
 */
function evidenceOf(o: Record<string, unknown>): unknown {
  const ev = o.evidence;
  const more = Object.entries(o).filter(([k]) => !RECORD_KEYS.has(k));
  if (more.length === 0) return ev ?? null;
  const base =
    typeof ev === 'object' && ev !== null && !Array.isArray(ev)
      ? (ev as Record<string, unknown>)
      : {};
  return { ...Object.fromEntries(more), ...base };
}

/** Adds the resolvers a record's queries name to `into`. */
function addResolvers(evidence: unknown, into: Set<string>): void {
  const queries = (evidence as { queries?: unknown } | null)?.queries;
  if (!Array.isArray(queries)) return;
  for (const q of queries) {
    const r = (q as { resolver?: unknown } | null)?.resolver;
    if (typeof r === 'string' && r) into.add(r);
  }
}

async function readJsonl(
  stream: NodeJS.ReadableStream,
  keepEvidence: boolean,
  name: string,
): Promise<Read> {
  const records: ResultRecord[] = [];
  const lines: string[] = [];
  const columns = new Set<string>();
  const resolvers = new Set<string>();
  let n = 0;
  for await (const line of createInterface({
    input: stream,
    crlfDelay: Infinity,
  })) {
    n++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ResultsError(
        'EXO_RESULTS_INVALID',
        `${name}: line ${n} is not JSON (a JSONL results file has one record a line)`,
      );
    }
    const r = fromJsonRecord(value, n);
    for (const c of Object.keys(r.input)) columns.add(c);
    addResolvers(r.evidence, resolvers);
    r.evidence = null;
    records.push(r);
    if (keepEvidence) lines.push(line);
  }
  return {
    format: 'jsonl',
    inputColumns: [...columns],
    resolvers: [...resolvers].sort(),
    records,
    evidence: (i) => {
      const line = lines[i];
      if (line === undefined) return null;
      return evidenceOf(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

async function readCsvResults(
  stream: NodeJS.ReadableStream,
  name: string,
): Promise<Read> {
  const parser = stream.pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true }),
  );
  const records: ResultRecord[] = [];
  let read: ReturnType<typeof csvReader> | null = null;
  let header: string[] = [];
  for await (const cells of parser as AsyncIterable<string[]>) {
    if (read === null) {
      header = cells;
      read = csvReader(cells);
      continue;
    }
    records.push(read(cells, records.length + 1));
  }
  if (read === null) {
    throw new ResultsError(
      'EXO_RESULTS_INVALID',
      `${name}: empty (no header): not an exoscope result file`,
    );
  }
  const known = new Set(Object.keys(records[0]?.input ?? {}));
  return {
    format: 'csv',
    resolvers: [],
    inputColumns: header.filter((h) => known.has(h)),
    records,
    evidence: () => null,
  };
}
