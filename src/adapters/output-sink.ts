import { createWriteStream, existsSync, statSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Stringifier } from 'csv-stringify';
import { outputHeader, renderRow } from '../core/output-row.js';
import type { RenderedRow } from '../core/output-row.js';
import type { RowReport } from '../core/report.js';

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

/**
 * Opens a CSV (csv-stringify) or JSONL sink. A file is written to a temporary
 * name beside the target and renamed at `close`, so a killed run never
 * leaves half a file under the real name.
 */
export async function openSink(options: SinkOptions): Promise<ReportSink> {
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
    tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
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
    csv = stringify({ header: true, columns: header, eof: true });
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
  return {
    write: (report) =>
      writeRendered(renderRow(report, options.format, options.inputHeader)),
    writeRendered,
    async close() {
      if (csv) {
        csv.end();
        await once(csv, 'end');
      }
      if (ownTarget) {
        if (!csv) target.end();
        if (!target.writableFinished) await once(target, 'finish');
      }
      if (failure) throw failure;
      if (tmp && path) await rename(tmp, path);
    },
    async abort() {
      out.destroy();
      if (tmp) await unlink(tmp).catch(() => undefined);
    },
  };
}
