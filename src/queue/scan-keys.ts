import { randomBytes } from 'node:crypto';
import { QueueError } from './queue-error.js';

/**
 * Where a distributed scan lives in Redis. With the default prefix:
 *
 * - `exoscope:chunks:*` — BullMQ's keys of the one queue every scan shares
 *   (jobs, wait/active lists, limiter, events stream)
 * - `exoscope:scan:<id>:meta` — hash: the scan's fixed settings and progress
 * - `exoscope:scan:<id>:results` — hash: chunk index → deflated JSON of the
 *   chunk's rendered rows, written once (HSETNX)
 * - `exoscope:scan:<id>:failed` — hash: chunk index → why its job failed for good
 */
export interface ScanKeys {
  meta: string;
  results: string;
  failed: string;
}

/** Default key prefix (`--prefix`, `EXOSCOPE_PREFIX`). */
export const DEFAULT_PREFIX = 'exoscope';
/** The BullMQ queue that carries every scan's chunks. */
export const QUEUE_NAME = 'chunks';
/** Name of every chunk job. */
export const JOB_NAME = 'chunk';

const SCAN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function scanKeys(prefix: string, scanId: string): ScanKeys {
  const base = `${prefix}:scan:${scanId}`;
  return {
    meta: `${base}:meta`,
    results: `${base}:results`,
    failed: `${base}:failed`,
  };
}

/** All keys of one scan, for EXPIRE and DEL. */
export function allScanKeys(keys: ScanKeys): string[] {
  return [keys.meta, keys.results, keys.failed];
}

/**
 * The job id of a chunk. BullMQ rejects custom ids containing `:` (its key
 * separator) and ids that are integers, so scan and chunk are joined with
 * `-`; the chunk is the part after the last `-`, so ids never collide.
 */
export function chunkJobId(scanId: string, chunk: number): string {
  return `${scanId}-${chunk}`;
}

/** Checks a scan id: letters, digits, `.`, `_`, `-`; at most 100 characters. */
export function checkScanId(id: string): string {
  if (!SCAN_ID.test(id)) {
    throw new QueueError(
      'EXO_SCAN_ID',
      `scan id '${id.slice(0, 120)}' must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return id;
}

/** Checks a key prefix, same alphabet as scan ids; at most 64 characters. */
export function checkPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw new QueueError(
      'EXO_SCAN_ID',
      `prefix '${prefix.slice(0, 80)}' must be 1-64 letters, digits, '.', '_' or '-'`,
    );
  }
  return prefix;
}

/** A fresh scan id: `scan-YYYYMMDD-HHMMSS-xxxx` (UTC). */
export function newScanId(now: number): string {
  const t = new Date(now).toISOString(); // 2026-01-02T03:04:05.678Z
  const stamp = `${t.slice(0, 10).replaceAll('-', '')}-${t.slice(11, 19).replaceAll(':', '')}`;
  return `scan-${stamp}-${randomBytes(2).toString('hex')}`;
}
