import { randomBytes } from 'node:crypto';
import { createWriteStream, open as fsOpen, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Stringifier } from 'csv-stringify';
import { hasExtraFields, outputHeader, renderRow } from '../core/output-row.js';
import type { RenderedRow } from '../core/output-row.js';
import type { ScanSink } from '../core/sink.js';
import type { Delimiter } from './csv-input/delimiter.js';
import {
  OutputError,
  keepUnderFreeName,
  keepUnderFreeNameSync,
  publish,
  resolveOutput,
  shownPath,
} from './output-file.js';

export { OutputError, partialPath } from './output-file.js';

export interface SinkOptions {
  /** File path, or null for stdout. */
  path: string | null;
  format: 'csv' | 'jsonl';
  /** The input's column names, carried through before the result columns. */
  inputHeader: readonly string[];
  /** Replace an existing regular file. */
  force: boolean;
  /** CSV field delimiter. Default `,`. */
  delimiter?: Delimiter;
  /** For tests and pipes: where to write when `path` is null. Default stdout. */
  stdout?: Writable;
  /**
   * Stops a write waiting for room (a full pipe, a stuck reader): the wait
   * rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** `.<name>.<pid>.<random>.tmp`, beside the target. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/;

/**
 * Removes temporary files beside `path` left by a run of the same output
 * that was killed (kill -9, power loss): their process is gone. A run still
 * going keeps its file.
 */
async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || m[1] !== basename(path)) continue;
    const pid = Number(m[2]);
    // Our own pid on a file we have not made yet: a reused pid (a container
    // whose every run is pid 1).
    if (pid !== process.pid && isRunning(pid)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A write error as one line: `ENOSPC: no space left on device`. */
function writeError(where: string, err: Error): OutputError {
  const reason = err.message.replace(/, (write|open|close)\b.*$/, '');
  return new OutputError(
    'EXO_OUTPUT_UNWRITABLE',
    `cannot write ${where}: ${reason}`,
    { cause: err },
  );
}

/** Opens `path` for writing; a one-line error when it cannot be opened. */
async function openFile(
  path: string,
  flags: string,
  shown: string,
): Promise<Writable> {
  const file = createWriteStream(path, { flags });
  try {
    await once(file, 'open');
  } catch (err) {
    throw writeError(shown, err as Error);
  }
  return file;
}

/**
 * Opens a FIFO for writing (waiting, off the main thread, for a reader) as
 * a non-blocking pipe: a write the reader does not take waits in the event
 * loop, where a signal or an abort can end it, not in a thread blocked in
 * write(2) that would keep the process alive.
 */
async function openPipe(path: string, shown: string): Promise<Writable> {
  const fd = await new Promise<number>((resolve, reject) =>
    fsOpen(path, 'w', (err, fd) => (err ? reject(err) : resolve(fd))),
  ).catch((err: unknown) => {
    throw writeError(shown, err as Error);
  });
  return new Socket({ fd, readable: false, writable: true });
}

/**
 * Opens a CSV (csv-stringify) or JSONL sink. A regular file is written to a
 * temporary name beside the target and published at `close`, so a killed or
 * interrupted run never leaves half a file under the real name; a kill -9
 * can leave the hidden temporary file, which the next run of the same output
 * removes (any other exit removes it at once). A FIFO or device is written
 * into directly. A write error (a full disk, a closed pipe) fails the next
 * write or `close` with `EXO_OUTPUT_UNWRITABLE`; no wait outlives it.
 */
export async function openSink(options: SinkOptions): Promise<ScanSink> {
  const output =
    options.path === null ? null : resolveOutput(options.path, options.force);
  const where = output === null ? 'stdout' : shownPath(output.path);
  let target: Writable;
  let ownTarget = true;
  let tmp: string | null = null;
  if (output?.kind === 'file') {
    await removeStaleTemps(output.path);
    tmp = join(
      dirname(output.path),
      `.${basename(output.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    target = await openFile(tmp, 'wx', where);
  } else if (output?.kind === 'device') {
    target = output.fifo
      ? await openPipe(output.path, where)
      : await openFile(output.path, 'w', where);
  } else {
    target = options.stdout ?? process.stdout;
    ownTarget = false;
  }
  // Any exit before the file is published (process.exit on a second
  // signal, an error) removes the temporary file.
  const removeTemp = (): void => {
    if (tmp === null) return;
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  };
  process.on('exit', removeTemp);
  const settled = (): void => {
    tmp = null;
    process.off('exit', removeTemp);
  };

  const header = outputHeader(options.inputHeader);
  let out: Writable = target;
  let csv: Stringifier | null = null;
  if (options.format === 'csv') {
    csv = stringify({
      header: true,
      columns: header,
      eof: true,
      delimiter: options.delimiter ?? ',',
    });
    csv.pipe(target, { end: ownTarget });
    out = csv;
  }
  // A failed target stops taking data, so 'drain', 'end' and 'finish' never
  // come: every wait also ends on the first error (or the caller's signal).
  let failure: OutputError | null = null;
  const failed = new AbortController();
  const onError = (err: Error): void => {
    failure ??= writeError(where, err);
    failed.abort(failure);
  };
  out.on('error', onError);
  target.on('error', onError);
  const stop = options.signal
    ? AbortSignal.any([failed.signal, options.signal])
    : failed.signal;
  const wait = async (stream: Writable, event: string): Promise<void> => {
    if (failure) throw failure;
    try {
      await once(stream, event, { signal: stop });
    } catch (err) {
      throw failure ?? (stop.aborted ? (stop.reason as Error) : err);
    }
  };

  const push = async (chunk: unknown): Promise<void> => {
    if (failure) throw failure;
    if (!out.write(chunk)) await wait(out, 'drain');
  };
  let extraFieldRows = 0;
  const width = options.inputHeader.length;
  const writeRendered = (row: RenderedRow): Promise<void> => {
    if (hasExtraFields(row, width)) extraFieldRows++;
    return push(csv ? row : `${JSON.stringify(row)}\n`);
  };
  const finish = async (): Promise<void> => {
    if (ownTarget) {
      if (csv) csv.end();
      else target.end();
      if (!target.writableFinished) await wait(target, 'finish');
    } else {
      if (csv) {
        csv.end();
        if (!csv.readableEnded) await wait(csv, 'end');
      }
      // Every row handed to stdout is written (or its error known) before
      // the run may say it succeeded.
      await new Promise<void>((resolve, reject) =>
        target.write('', (err) => (err ? reject(err) : resolve())),
      ).catch((err: unknown) => onError(err as Error));
    }
    if (failure) throw failure;
  };
  const abort = async (): Promise<void> => {
    csv?.destroy();
    if (ownTarget) target.destroy();
    const file = tmp;
    settled();
    if (file) await unlink(file).catch(() => undefined);
  };
  return {
    direct: tmp === null,
    get extraFieldRows() {
      return extraFieldRows;
    },
    write: (report) =>
      writeRendered(renderRow(report, options.format, options.inputHeader)),
    writeRendered,
    async close() {
      await finish();
      const file = tmp;
      if (!file || !output) return;
      try {
        await publish(file, output.path, options.force);
      } catch (err) {
        // Kept under another name: no longer ours to remove.
        if (err instanceof OutputError) settled();
        throw err;
      }
      settled();
    },
    async closePartial() {
      await finish();
      const file = tmp;
      settled();
      if (!file || !output) return null;
      return keepUnderFreeName(file, output.path, 'partial');
    },
    abort,
    abandonSync() {
      const file = tmp;
      if (!file || !output) return null;
      const kept = keepUnderFreeNameSync(file, output.path, 'partial');
      if (kept) settled();
      return kept;
    },
  };
}
