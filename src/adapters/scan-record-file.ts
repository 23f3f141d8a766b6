/**
 * The scan's record beside its output: `<output>.meta.json`, written by
 * `scan -o FILE`, `scan --redis -o FILE` and `collect -o FILE` alike, so the
 * output itself stays the rows only (and byte-identical between the modes).
 * `report` reads it when it is there.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { writeOutputFile } from './text-output.js';

/** What a record of the scan needs beside the rows (docs/report.md). */
export interface ScanRecord {
  /** Version of exoscope that wrote the output. */
  exoscope: string;
  /** `scan`, `scan --redis` or `collect`. */
  command: string;
  /** When the scan started and the output was finished, ISO 8601 UTC. */
  started: string;
  finished: string;
  input: {
    /** File name without directories, or `stdin`. */
    name: string;
    /** SHA-256 of the input file's bytes; null for stdin. */
    sha256: string | null;
    /** Data rows read (each gave one output row). */
    rows: number;
    skippedBlank: number;
    skippedComment: number;
  };
  output: { name: string; format: 'csv' | 'jsonl'; rows: number };
  /** The resolvers asked; empty for `collect` (workers choose their own). */
  resolvers: string[];
  /** Options that shape the answers (timeouts, retries, ASN source, ...). */
  options: Record<string, string | number | boolean | null>;
}

/** The sidecar's path for an output file. */
export function recordPath(output: string): string {
  return `${output}.meta.json`;
}

/** SHA-256 of a file's bytes (hex), read as a stream; null for stdin (`-`). */
export async function fileSha256(path: string): Promise<string | null> {
  if (path === '-') return null;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes the sidecar of `output` (replacing an older one). */
export async function writeScanRecord(
  output: string,
  record: ScanRecord,
): Promise<void> {
  await writeOutputFile(
    recordPath(output),
    `${JSON.stringify(record, null, 2)}\n`,
    true,
  );
}

/** Reads the sidecar of a results file; null when there is none or it is unreadable. */
export async function readScanRecord(
  results: string,
): Promise<ScanRecord | null> {
  const path = recordPath(results);
  if (!existsSync(path)) return null;
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null
      ? (value as ScanRecord)
      : null;
  } catch {
    return null;
  }
}

/** An input's name as a record shows it. */
export function inputName(path: string): string {
  return path === '-' ? 'stdin' : basename(path);
}

/** The options of a scan that shape its answers, for the record. */
export function recordOptions(o: {
  format: 'csv' | 'jsonl';
  column: string | null;
  concurrency: number;
  rate: number;
  timeoutMs: number;
  retries: number;
  asnSource: string;
  asnDb: string | null;
  dnsClient: string;
  threads?: number;
}): ScanRecord['options'] {
  return {
    format: o.format,
    column: o.column,
    concurrency: o.concurrency,
    rate: o.rate,
    timeout_ms: o.timeoutMs,
    retries: o.retries,
    asn_source: o.asnSource,
    asn_db: o.asnDb === null ? null : basename(o.asnDb),
    dns_client: o.dnsClient,
    ...(o.threads === undefined ? {} : { threads: o.threads }),
  };
}
