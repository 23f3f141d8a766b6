import type { Redis } from 'ioredis';
import type { Delimiter } from '../adapters/csv-input/delimiter.js';
import type { ScanKeys } from './scan-keys.js';

/** Version of the key layout; a scan written by another layout is refused. */
export const LAYOUT_VERSION = 1;

/**
 * A scan's metadata hash. Fixed at the first `enqueue`: format, input header,
 * chunk size. Progress of the producer (`enqueued*`, `hash`), totals once it
 * has read the whole input (`chunks`, `rows`), timestamps for status.
 */
export interface ScanMeta {
  version: number;
  /** Input file name (no directories), or `stdin`. */
  input: string;
  /** SHA-256 of the input file's bytes; '' for stdin (or a scan enqueued before it was kept). */
  inputSha256: string;
  format: 'csv' | 'jsonl';
  /** The input's column names: the output's first columns. */
  header: string[];
  /** The CSV output's field delimiter: the input's, or enqueue's --delimiter. */
  delimiter: Delimiter;
  /** Rows per chunk (the last chunk may be shorter). */
  chunkSize: number;
  /** When the scan was first enqueued (ms since the epoch). */
  created: number;
  /** Chunks read and queued so far by the producer. */
  enqueuedChunks: number;
  enqueuedRows: number;
  /** SHA-256 over the rows of the first `enqueuedChunks` chunks: a re-run must read the same input. */
  hash: string;
  /** Total chunks; null until the producer has read the whole input. */
  chunks: number | null;
  rows: number | null;
  skippedBlank: number;
  skippedComment: number;
  /** When a worker stored the first / the latest chunk result. */
  started: number | null;
  lastDone: number | null;
  /** When `collect` last wrote the output. */
  collected: number | null;
}

/** Reads a scan's metadata; null when the scan does not exist (or expired). */
export async function readMeta(
  redis: Redis,
  keys: ScanKeys,
): Promise<ScanMeta | null> {
  const h = await redis.hgetall(keys.meta);
  if (!h.version) return null;
  const int = (k: string): number | null =>
    h[k] === undefined || h[k] === '' ? null : Number(h[k]);
  let header: unknown;
  try {
    header = JSON.parse(h.header ?? '[]');
  } catch {
    header = [];
  }
  return {
    version: Number(h.version),
    input: h.input ?? '',
    inputSha256: h.inputSha256 ?? '',
    format: h.format === 'jsonl' ? 'jsonl' : 'csv',
    header: Array.isArray(header) ? header.map(String) : [],
    delimiter: h.delimiter === ';' || h.delimiter === '\t' ? h.delimiter : ',',
    chunkSize: int('chunkSize') ?? 0,
    created: int('created') ?? 0,
    enqueuedChunks: int('enqueuedChunks') ?? 0,
    enqueuedRows: int('enqueuedRows') ?? 0,
    hash: h.hash ?? '',
    chunks: int('chunks'),
    rows: int('rows'),
    skippedBlank: int('skippedBlank') ?? 0,
    skippedComment: int('skippedComment') ?? 0,
    started: int('started'),
    lastDone: int('lastDone'),
    collected: int('collected'),
  };
}

/** Rows in chunk `i` of a scan with `rows` rows in chunks of `size`. */
export function chunkRows(i: number, size: number, rows: number): number {
  return Math.max(0, Math.min(size, rows - i * size));
}
