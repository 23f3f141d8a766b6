import { openSource } from '../adapters/csv-source.js';
import type { InputRow } from '../adapters/csv-source.js';
import { openSink } from '../adapters/output-sink.js';
import { buildScanDeps, preflight } from '../adapters/scan-deps.js';
import { domainScanner } from '../core/report.js';
import type { RowInput } from '../core/report.js';
import { scanRows } from '../core/scan-rows.js';
import type { ScanOptions } from './options.js';
import { ProgressLine, RunStats } from './progress.js';

export const EXIT_INTERRUPTED = 130;

export interface ScanIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
}

/** `exoscope scan` in one process: read, scan, write in input order. */
export async function runScan(
  options: ScanOptions,
  io: ScanIo,
): Promise<number> {
  const source = await openSource({
    path: options.input,
    ...(options.column ? { column: options.column } : {}),
    stdin: io.stdin,
  });
  const built = await buildScanDeps(options);
  try {
    await preflight(built.deps, built.resolvers);
    const sink = await openSink({
      path: options.output,
      format: options.format,
      inputHeader: source.header,
      force: options.force,
      stdout: io.stdout,
    });
    const stats = new RunStats(() => Date.now());
    const progress = new ProgressLine(
      stats,
      io.stderr,
      options.progress === 'always' ||
        (options.progress === 'auto' && io.stderr.isTTY === true),
    );

    // Ctrl-C: stop reading input, write what is finished, say how far it got.
    let interrupted = false;
    const onSignal = (): void => {
      if (interrupted) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: now
      interrupted = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const rows = untilInterrupted(source.rows, () => interrupted);
      for await (const report of scanRows(rows, domainScanner(built.deps), {
        concurrency: options.concurrency,
        now: Date.now,
      })) {
        await sink.write(report);
        stats.add(report);
        progress.tick();
      }
      progress.clear();
      await sink.close();
    } catch (err) {
      progress.clear();
      await sink.abort();
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (!options.quiet || interrupted) {
      io.stderr.write(
        stats.summary({
          skipped: source.skipped,
          interrupted,
          ...(options.output ? { output: options.output } : {}),
        }),
      );
    }
    return interrupted ? EXIT_INTERRUPTED : 0;
  } finally {
    built.close();
  }
}

/** The source's rows as core inputs, ending early once `stop()` says so. */
async function* untilInterrupted(
  rows: AsyncIterable<InputRow>,
  stop: () => boolean,
): AsyncGenerator<RowInput> {
  for await (const row of rows) {
    if (stop()) return;
    yield { index: row.index, value: row.value, fields: row.fields };
  }
}
