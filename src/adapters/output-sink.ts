import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Stringifier } from 'csv-stringify';
import { outputHeader, renderRow } from '../core/output-row.js';
import type { RenderedRow } from '../core/output-row.js';
import type { RowReport } from '../core/report.js';
import type { Delimiter } from './csv-source.js';

/** An output error: exit code 1 with a one-line message. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  constructor(
    readonly code: 'EXO_OUTPUT_EXISTS' | 'EXO_OUTPUT_UNWRITABLE',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface SinkOptions {
  /** File path, or null for stdout. */
  path: string | null;
  format: 'csv' | 'jsonl';
  /** The input's column names, carried through before the result columns. */
  inputHeader: readonly string[];
  /** Replace an existing file. */
  force: boolean;
  /** CSV field delimiter. Default `,`. */
  delimiter?: Delimiter;
  /** For tests and pipes: where to write when `path` is null. Default stdout. */
  stdout?: Writable;
}

/** Where reports go, in order. */
export interface ReportSink {
  write(report: RowReport): Promise<void>;
  /** Writes a row already rendered for this format (see `renderRow`). */
  writeRendered(row: RenderedRow): Promise<void>;
  /** Ends the output; a file is renamed into place only now. */
  close(): Promise<void>;
  /** Stops without publishing: the temporary file is removed. */
  abort(): Promise<void>;
}

/** What `openSink` returns: a {@link ReportSink} that can also stop short. */
export interface ScanSink extends ReportSink {
  /**
   * Ends the output after the rows written so far and publishes them as a
   * partial result: a file goes to {@link partialPath} (replacing one left
   * by an earlier interrupted run), never to the target itself. Returns that
   * path, or null for stdout (the rows are already out).
   */
  closePartial(): Promise<string | null>;
  /**
   * For a hard stop (a second Ctrl-C), synchronously: keeps the rows already
   * in the temporary file under {@link partialPath} and returns that path;
   * null for stdout or when that fails. Rows still buffered are lost, and the
   * file holds whole rows only.
   */
  abandonSync(): string | null;
}

/**
 * Where an interrupted run leaves its rows: `results.partial.csv` for
 * `results.csv`, so that a partial result is never mistaken for a whole one.
 */
export function partialPath(path: string): string {
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}.partial${ext}`;
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

/**
 * Opens a CSV (csv-stringify) or JSONL sink. A file is written to a temporary
 * name beside the target and renamed at `close`, so a killed or interrupted
 * run never leaves half a file under the real name. A kill -9 can leave the
 * hidden temporary file; the next run of the same output removes it.
 */
export async function openSink(options: SinkOptions): Promise<ScanSink> {
  const { path } = options;
  let target: Writable;
  let ownTarget = false;
  let tmp: string | null = null;
  if (path !== null) {
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) {
        throw new OutputError(
          'EXO_OUTPUT_UNWRITABLE',
          `output ${path} is a directory`,
        );
      }
      if (!options.force) {
        throw new OutputError(
          'EXO_OUTPUT_EXISTS',
          `output ${path} exists; use --force to replace it`,
        );
      }
    }
    await removeStaleTemps(path);
    tmp = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    const file = createWriteStream(tmp, { flags: 'wx' });
    try {
      await once(file, 'open');
    } catch (err) {
      throw new OutputError(
        'EXO_OUTPUT_UNWRITABLE',
        `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        { cause: err },
      );
    }
    target = file;
    ownTarget = true;
  } else {
    target = options.stdout ?? process.stdout;
  }

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
  let failure: Error | null = null;
  out.on('error', (err: Error) => (failure ??= err));
  target.on('error', (err: Error) => (failure ??= err));

  const push = async (chunk: unknown): Promise<void> => {
    if (failure) throw failure;
    if (!out.write(chunk)) await once(out, 'drain');
  };

  const writeRendered = (row: RenderedRow): Promise<void> =>
    push(csv ? row : `${JSON.stringify(row)}\n`);
  const finish = async (): Promise<void> => {
    if (csv) {
      csv.end();
      await once(csv, 'end');
    }
    if (ownTarget) {
      if (!csv) target.end();
      if (!target.writableFinished) await once(target, 'finish');
    }
    if (failure) throw failure;
  };
  return {
    write: (report) =>
      writeRendered(renderRow(report, options.format, options.inputHeader)),
    writeRendered,
    async close() {
      await finish();
      if (tmp && path) await rename(tmp, path);
    },
    async closePartial() {
      await finish();
      if (!tmp || !path) return null;
      const partial = partialPath(path);
      try {
        await rename(tmp, partial);
      } catch (err) {
        throw new OutputError(
          'EXO_OUTPUT_UNWRITABLE',
          `cannot write ${partial}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; the rows so far are in ${tmp}`,
          { cause: err },
        );
      }
      return partial;
    },
    async abort() {
      out.destroy();
      if (tmp) await unlink(tmp).catch(() => undefined);
    },
    abandonSync() {
      if (!tmp || !path) return null;
      try {
        renameSync(tmp, partialPath(path));
        return partialPath(path);
      } catch {
        return null;
      }
    },
  };
}
