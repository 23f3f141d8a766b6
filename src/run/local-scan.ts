import type { Writable } from 'node:stream';
import { openSource } from '../adapters/csv-source.js';
import type { InputRow } from '../adapters/csv-source.js';
import { countRecordLines } from '../adapters/line-count.js';
import { openSink } from '../adapters/output-sink.js';
import { packageVersion } from '../adapters/package-version.js';
import {
  fileSha256,
  inputName,
  recordOptions,
  writeScanRecord,
} from '../adapters/scan-record-file.js';
import type { Clock, Scheduler } from '../core/clock.js';
import { emptyEvidence } from '../core/evidence.js';
import type { Evidence } from '../core/evidence.js';
import { domainScanner } from '../core/report.js';
import type { DomainScanner, RowInput } from '../core/report.js';
import { scanRows } from '../core/scan-rows.js';
import { buildScanDeps, preflight } from './deps.js';
import { Notices } from './notices.js';
import { RunStats } from './run-stats.js';
import type { ScanOptions } from './scan-options.js';
import { STOPPED } from './stop-signal.js';
import type { StopSignal } from './stop-signal.js';
import { scanOnThreads } from './thread-pool.js';

/** What a local scan tells its caller while it runs (it prints nothing). */
export interface LocalScanEvents {
  /** A line about the run's course (a resolver moved to UDP), once each, from set-up on. */
  notice(line: string): void;
  /** The input's row count, when `countRows` asked for it: an estimate that may run high. */
  total?(rows: number): void;
  /** The scan starts (the output is open); `stats` will count its rows. */
  scanning(stats: RunStats): void;
  /** One more row is written (and counted). Called for every row: keep it cheap. */
  row(): void;
  /** A signal came before the scan started: the process exits next (130). */
  stoppedBeforeScan(): void;
  /** The first signal during the scan: it finishes the domains in flight and stops. */
  stopping(): void;
  /** The second signal: the process exits next (130); `kept` holds the rows written, if anywhere. */
  stoppedAtOnce(kept: string | null): void;
}

/** How a local scan ended. */
export interface LocalScanResult {
  stats: RunStats;
  /** Input lines skipped. */
  skipped: { blank: number; comment: number };
  /** The input had a header line. */
  hasHeader: boolean;
  /** Rows with more fields than the header. */
  extraFieldRows: number;
  /** Every notice of the run, in order. */
  notices: readonly string[];
  /** Set when a signal stopped the scan: the rows written are a prefix. */
  stopped: {
    /** The partial file the rows are in; null: none (stdout, or no rows). */
    partial: string | null;
    /** The rows went straight out (stdout, a FIFO): no partial file. */
    direct: boolean;
    /** The input line of the last row written (0: none). */
    lastLine: number;
  } | null;
}

/**
 * `scan` in one process (on worker threads with `threads` > 1): read, scan,
 * write in input order, and the scan's record beside an output file.
 *
 * A signal before the scan starts stops at once (nothing is written yet).
 * During the scan, no new input is read and no new domain is started; the
 * domains in flight finish, the finished prefix of the rows is written (to
 * `<name>.partial.<ext>` for an output file, never under the real name) and
 * the result says how far it got. A second signal stops at once, keeping
 * the rows already written.
 */
export async function runLocalScan(
  options: ScanOptions,
  run: {
    clock: Clock & Scheduler;
    stop: StopSignal;
    stdin: NodeJS.ReadableStream;
    stdout: Writable;
    /** Count the input's rows (a file only) for {@link LocalScanEvents.total}. */
    countRows: boolean;
    events: LocalScanEvents;
  },
): Promise<LocalScanResult> {
  const { stop, events } = run;
  stop.listen({
    first: () => {
      events.stoppedBeforeScan();
      stop.exitNow();
    },
  });
  const started = new Date(run.clock.now());
  const source = await openSource({
    path: options.input,
    ...(options.column ? { column: options.column } : {}),
    stdin: run.stdin,
  });
  const notices = new Notices(events.notice);
  const built = await buildScanDeps(
    { ...options, onNotice: notices.post },
    run.clock,
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
      stdout: run.stdout,
    });
    stop.during({
      first: () => events.stopping(),
      again: () => {
        events.stoppedAtOnce(sink.abandonSync());
        stop.exitNow();
      },
    });
    // A read waiting on a pipe (stdin) may never end: stop it.
    stop.signal.addEventListener('abort', () => source.close(), {
      once: true,
    });
    const stats = new RunStats(run.clock);
    events.scanning(stats);
    if (run.countRows && events.total && options.input !== '-') {
      const total = events.total;
      const hasHeader = source.hasHeader;
      void countRecordLines(options.input, counting.signal).then((lines) => {
        if (lines !== null) total(Math.max(0, lines - (hasHeader ? 1 : 0)));
      });
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
          events.row();
        }
      } else {
        for await (const report of scanRows(rows, scanner, {
          concurrency: options.concurrency,
          clock: built.clock,
          scheduler: built.clock,
        })) {
          if (report.evidence && notScanned.has(report.evidence)) break;
          await sink.write(report);
          lastLine = lines.get(report.index) ?? lastLine;
          lines.delete(report.index);
          stats.add(report);
          events.row();
        }
      }
    } catch (err) {
      await sink.abort();
      throw err;
    }

    const result = {
      stats,
      skipped: source.skipped,
      hasHeader: source.hasHeader,
      notices: notices.lines,
    };
    if (stop.stopped) {
      const partial = await sink.closePartial();
      return {
        ...result,
        extraFieldRows: sink.extraFieldRows,
        stopped: { partial, direct: sink.direct, lastLine },
      };
    }
    await sink.close();
    if (options.output !== null) {
      await writeScanRecord(options.output, {
        exoscope: packageVersion(),
        command: options.threads > 1 ? 'scan --threads' : 'scan',
        started: started.toISOString(),
        finished: new Date(run.clock.now()).toISOString(),
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
    return { ...result, extraFieldRows: sink.extraFieldRows, stopped: null };
  } finally {
    counting.abort();
    built.close();
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
      if (result === STOPPED) {
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
