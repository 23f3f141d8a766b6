import { openSource } from '../adapters/csv-source.js';
import { countRecordLines } from '../adapters/line-count.js';
import type { InputRow } from '../adapters/csv-source.js';
import { openSink } from '../adapters/output-sink.js';
import type { ScanSink } from '../core/sink.js';
import { buildScanDeps, preflight } from '../run/deps.js';
import {
  fileSha256,
  inputName,
  recordOptions,
  writeScanRecord,
} from '../adapters/scan-record-file.js';
import { scanOnThreads } from '../run/thread-pool.js';
import { systemClock } from '../adapters/system-clock.js';
import { emptyEvidence } from '../core/evidence.js';
import type { Evidence } from '../core/evidence.js';
import { domainScanner } from '../core/report.js';
import type { DomainScanner, RowInput } from '../core/report.js';
import { scanRows } from '../core/scan-rows.js';
import { Notices } from './notices.js';
import type { ScanOptions } from './options.js';
import { ProgressLine, RunStats } from './progress.js';
import { packageVersion } from '../adapters/package-version.js';

export const EXIT_INTERRUPTED = 130;

export interface ScanIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
}

/**
 * `exoscope scan` in one process: read, scan, write in input order.
 *
 * Ctrl-C (SIGINT) or SIGTERM: before the scan starts, the run stops at once
 * (nothing is written yet). During the scan, no new input is read and no new
 * domain is started; the domains in flight finish, the finished prefix of the
 * rows is written (to `<name>.partial.<ext>` for `-o`, never under the real
 * name), the summary says how far it got, and the exit code is 130. A second
 * signal stops at once, keeping the rows already written.
 */
export async function runScan(
  options: ScanOptions,
  io: ScanIo,
): Promise<number> {
  const stop = new StopSignal(io);
  try {
    return await scan(options, io, stop);
  } finally {
    stop.dispose();
  }
}

async function scan(
  options: ScanOptions,
  io: ScanIo,
  stop: StopSignal,
): Promise<number> {
  const started = new Date();
  const source = await openSource({
    path: options.input,
    ...(options.column ? { column: options.column } : {}),
    stdin: io.stdin,
  });
  // A resolver moved to UDP: a line when it happens, and in the summary.
  let progress: ProgressLine | undefined;
  const notices = new Notices((line) => {
    progress?.clear();
    io.stderr.write(`exoscope: ${line}\n`);
  });
  const built = await buildScanDeps(
    { ...options, onNotice: notices.post },
    systemClock,
  );
  const counting = new AbortController();
  try {
    await preflight(built);
    notices.open();
    const sink = await openSink({
      path: options.output,
      format: options.format,
      inputHeader: source.header,
      force: options.force,
      delimiter: options.delimiter ?? source.delimiter,
      stdout: io.stdout,
    });
    stop.scanning(sink, () => source.close());
    const stats = new RunStats(() => Date.now());
    const showProgress =
      options.progress === 'always' ||
      (options.progress === 'auto' && io.stderr.isTTY === true);
    progress = new ProgressLine(stats, io.stderr, showProgress);
    if (showProgress && options.input !== '-') {
      countTotal(options.input, source.hasHeader, progress, counting.signal);
    }

    // Once stopped, domains not yet started are not scanned: their rows end
    // the written prefix (see the loop) instead of showing up as failures.
    const scanDomain = domainScanner(built.deps);
    const notScanned = new WeakSet<Evidence>();
    const scanner: DomainScanner = (domain) => {
      if (!stop.stopped) return scanDomain(domain);
      const skipped = emptyEvidence(domain, 'error', 'not scanned: stopped');
      notScanned.add(skipped);
      return Promise.resolve(skipped);
    };

    const lines = new Map<number, number>();
    let lastLine = 0;
    try {
      const rows = untilStopped(source.rows, stop, lines);
      if (options.threads > 1) {
        // Rows come back in input order: the n-th is data row n.
        let index = 0;
        for await (const row of scanOnThreads(
          rows,
          options.threads,
          {
            deps: options,
            concurrency: options.concurrency,
            format: options.format,
            inputHeader: source.header,
          },
          notices.post,
        )) {
          await sink.writeRendered(row.rendered);
          lastLine = lines.get(index) ?? lastLine;
          lines.delete(index++);
          stats.tally(row.classification, row.status);
          progress.tick();
        }
      } else {
        for await (const report of scanRows(rows, scanner, {
          concurrency: options.concurrency,
          clock: systemClock,
          scheduler: systemClock,
        })) {
          if (report.evidence && notScanned.has(report.evidence)) break;
          await sink.write(report);
          lastLine = lines.get(report.index) ?? lastLine;
          lines.delete(report.index);
          stats.add(report);
          progress.tick();
        }
      }
      progress.clear();
    } catch (err) {
      progress.clear();
      await sink.abort();
      throw err;
    }

    if (stop.stopped) {
      const partial = await sink.closePartial();
      io.stderr.write(
        stats.summary({
          skipped: source.skipped,
          interrupted: true,
          extraFieldRows: sink.extraFieldRows,
          ...(partial ? { output: partial } : {}),
          notes: [
            ...stoppedNotes(
              stats.rows,
              lastLine,
              sink.direct ? null : options.output,
              partial,
              options.output,
            ),
            ...notices.lines,
          ],
        }),
      );
      return EXIT_INTERRUPTED;
    }
    await sink.close();
    if (options.output !== null) {
      await writeScanRecord(options.output, {
        exoscope: packageVersion(),
        command: options.threads > 1 ? 'scan --threads' : 'scan',
        started: started.toISOString(),
        finished: new Date().toISOString(),
        input: {
          name: inputName(options.input),
          sha256: await fileSha256(options.input),
          rows: stats.rows,
          skippedBlank: source.skipped.blank,
          skippedComment: source.skipped.comment,
        },
        output: {
          name: inputName(options.output),
          format: options.format,
          rows: stats.rows,
        },
        resolvers: [...built.resolvers],
        options: recordOptions(options),
      });
    }
    if (!options.quiet) {
      const notes =
        stats.rows === 0 && source.hasHeader
          ? ['the input has a header but no data rows', ...notices.lines]
          : notices.lines;
      io.stderr.write(
        stats.summary({
          skipped: source.skipped,
          extraFieldRows: sink.extraFieldRows,
          ...(options.output ? { output: options.output } : {}),
          notes,
        }),
      );
    }
    return 0;
  } finally {
    counting.abort();
    built.close();
  }
}

/** Gives the progress line its total once a quick count of the file is in. */
function countTotal(
  path: string,
  hasHeader: boolean,
  progress: ProgressLine,
  signal: AbortSignal,
): void {
  void countRecordLines(path, signal).then((lines) => {
    if (lines !== null)
      progress.total = Math.max(0, lines - (hasHeader ? 1 : 0));
  });
}

/** The summary lines of an interrupted run: how far it got, where the rows are, how to go on. */
function stoppedNotes(
  rows: number,
  lastLine: number,
  output: string | null,
  partial: string | null,
  direct: string | null,
): string[] {
  const where =
    output === null
      ? `they were written to ${direct ?? 'stdout'}`
      : `they are in ${partial ?? '?'}; ${output} was not written`;
  if (rows === 0) return [`stopped before the first data row was finished`];
  return [
    `stopped after data row ${rows} (input line ${lastLine}): the first ${rows} rows are complete, in input order; ${where}`,
    `to resume: scan the rows after input line ${lastLine} (with the header line); a scan with --redis resumes where it stopped when run again with its --scan ID`,
  ];
}

const STOP: unique symbol = Symbol('stop');

/**
 * The signals that stop a run, and what they do in each phase: at once while
 * setting up (nothing is written yet), gently while scanning, at once on the
 * second one.
 */
class StopSignal {
  stopped = false;
  private sink: ScanSink | null = null;
  private closeInput: () => void = () => {};
  private waiter: (() => void) | null = null;
  private readonly onSignal = (): void => this.signal();

  constructor(private readonly io: ScanIo) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /**
   * `pending`, or STOP as soon as the run is asked to stop, whichever comes
   * first. One waiter at a time: racing a long-lived promise instead would
   * keep a reaction per call (per row) alive for the whole run.
   */
  race<T>(pending: Promise<T>): Promise<T | typeof STOP> {
    if (this.stopped) return Promise.resolve(STOP);
    return new Promise<T | typeof STOP>((resolve, reject) => {
      this.waiter = () => resolve(STOP);
      pending.then(
        (value) => {
          this.waiter = null;
          resolve(value);
        },
        (err: unknown) => {
          this.waiter = null;
          reject(err);
        },
      );
    });
  }

  /** The scan has started: from now on a signal stops it gently. */
  scanning(sink: ScanSink, closeInput: () => void): void {
    this.sink = sink;
    this.closeInput = closeInput;
  }

  private signal(): void {
    if (this.sink === null) {
      this.io.stderr.write(
        'exoscope: interrupted before the scan started; nothing written\n',
      );
      process.exit(EXIT_INTERRUPTED);
    }
    if (this.stopped) {
      const kept = this.sink.abandonSync();
      this.io.stderr.write(
        `exoscope: interrupted again: stopped at once${kept ? `; the rows written so far are in ${kept}` : ''}\n`,
      );
      process.exit(EXIT_INTERRUPTED);
    }
    this.stopped = true;
    this.io.stderr.write(
      `${this.io.stderr.isTTY ? '\r\x1b[K' : ''}exoscope: stopping: finishing the domains in flight, reading no more input (Ctrl-C again to stop at once)\n`,
    );
    // A read waiting on a pipe (stdin) may never end: stop it.
    this.closeInput();
    this.waiter?.();
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/**
 * The source's rows as core inputs, ending as soon as the run is stopped,
 * even while a read is waiting (stdin from a slow pipe). Notes the input
 * line of each row handed out.
 */
async function* untilStopped(
  rows: AsyncIterable<InputRow>,
  stop: StopSignal,
  lines: Map<number, number>,
): AsyncGenerator<RowInput> {
  const it = rows[Symbol.asyncIterator]();
  let waiting = false;
  try {
    for (;;) {
      if (stop.stopped) return;
      const next = it.next();
      waiting = true;
      const result = await stop.race(next);
      if (result === STOP) {
        // The input is closed, so the read ends (or fails) soon; either way
        // its row is not wanted.
        next.catch(() => undefined);
        return;
      }
      waiting = false;
      if (result.done || stop.stopped) return;
      const row = result.value;
      lines.set(row.index, row.line);
      yield { index: row.index, value: row.value, fields: row.fields };
    }
  } finally {
    // A read still waiting would hold return() back until it ends.
    if (!waiting) await it.return?.();
  }
}
