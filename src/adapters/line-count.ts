/**
 * A fast estimate of the records in an input file, for the progress line's
 * total: one pass over the bytes, no CSV parsing (about 1 s per GB).
 */
import { open } from 'node:fs/promises';

const CHUNK_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;

/**
 * The lines of the file at `path` that are neither empty nor comments (`#`
 * first): never fewer than the records csv-parse reads from it (a quoted
 * field across lines or a line of spaces makes it more). Null when the file
 * cannot be read; `signal` stops the count early (also null).
 */
export async function countRecordLines(
  path: string,
  signal?: AbortSignal,
): Promise<number | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let count = 0;
    let atStart = true; // the next byte starts a line
    for (;;) {
      if (signal?.aborted) return null;
      const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const bytes = buf.subarray(0, bytesRead);
      for (let i = 0; i < bytes.length;) {
        if (atStart) {
          const first = bytes[i];
          if (first !== LF && first !== CR && first !== HASH) count++;
          atStart = false;
        }
        const next = bytes.indexOf(LF, i);
        if (next === -1) break;
        i = next + 1;
        atStart = true;
      }
    }
    return count;
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}
