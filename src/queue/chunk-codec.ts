import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { RenderedRow } from '../core/output-row.js';
import type { RowInput } from '../core/report.js';

/** What a chunk job carries. Rows are deflated: the queue holds the input until scanned. */
export interface ChunkJobData {
  /** Scan id. */
  scan: string;
  /** 0-based chunk index: the output order. */
  chunk: number;
  /** Number of rows in `rows`. */
  count: number;
  /** base64 of raw-deflated JSON `[index, value, fields][]`. */
  rows: string;
}

type PackedRow = [number, string, string[]];

/**
 * zlib's fastest level: a chunk of 100 rendered rows (36 KB of JSON) deflates
 * in a third of the time of the default level, to 5.4 KB instead of 4.6 KB.
 */
const DEFLATE = { level: constants.Z_BEST_SPEED };

export function packRows(rows: readonly RowInput[]): string {
  const packed: PackedRow[] = rows.map((r) => [r.index, r.value, r.fields]);
  return deflateRawSync(JSON.stringify(packed), DEFLATE).toString('base64');
}

/** The rows of a job, or null when its data is not what a producer writes. */
export function unpackRows(data: unknown): RowInput[] | null {
  if (!isChunkJobData(data)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      inflateRawSync(Buffer.from(data.rows, 'base64')).toString('utf8'),
    );
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== data.count) return null;
  const rows: RowInput[] = [];
  for (const p of parsed as unknown[]) {
    if (
      !Array.isArray(p) ||
      typeof p[0] !== 'number' ||
      typeof p[1] !== 'string' ||
      !Array.isArray(p[2]) ||
      !p[2].every((f) => typeof f === 'string')
    ) {
      return null;
    }
    rows.push({ index: p[0], value: p[1], fields: p[2] as string[] });
  }
  return rows;
}

export function isChunkJobData(data: unknown): data is ChunkJobData {
  const d = data as Partial<ChunkJobData> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.scan === 'string' &&
    Number.isSafeInteger(d.chunk) &&
    (d.chunk ?? -1) >= 0 &&
    Number.isSafeInteger(d.count) &&
    typeof d.rows === 'string'
  );
}

/** A chunk's rendered rows as stored in the results hash. */
export function packRendered(rows: readonly RenderedRow[]): Buffer {
  return deflateRawSync(JSON.stringify(rows), DEFLATE);
}

export function unpackRendered(stored: Buffer): RenderedRow[] {
  const rows = JSON.parse(inflateRawSync(stored).toString('utf8')) as unknown;
  if (!Array.isArray(rows))
    throw new Error('stored chunk is not a list of rows');
  return rows as RenderedRow[];
}
