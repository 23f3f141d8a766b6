/**
 * `exoscope scan`: its options, its help, and what it prints. The scan
 * itself runs in src/run (local-scan, or distributed-scan with --redis).
 */
import { systemClock } from '../adapters/system-clock.js';
import { resolveRedisUrl } from '../queue/redis-url.js';
import { checkPrefix, checkScanId, newScanId } from '../queue/scan-keys.js';
import { DEFAULTS } from '../run/defaults.js';
import type { LocalScanResult } from '../run/local-scan.js';
import { RunStats } from '../run/run-stats.js';
import type {
  DistributedScanOptions,
  ScanOptions,
} from '../run/scan-options.js';
import { EXIT_INTERRUPTED, StopSignal } from '../run/stop-signal.js';
import {
  DNS_OPTION_SPEC,
  UsageError,
  asUsage,
  delimiterOption,
  dnsOptions,
  integer,
  parse,
  prefixOption,
  progressOption,
  refuseForceToStdout,
  refuseJsonlDelimiter,
  showsProgress,
} from './options.js';
import { ProgressLine, collectedSummary, statsSummary } from './progress.js';

/** The streams a command reads and writes. */
export interface ScanIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
}

/** `exoscope scan --help`. */
export const SCAN_HELP = `Usage: exoscope scan <input> [options]

Reads a CSV with a header (the domain column is found by name: domain,
website, url, email, ...; or --column) or a plain list (one entry a line);
<input> is a path or - for stdin. Every input row gives exactly one output
row, in input order, with the input's columns first.

Output:
  -o, --output FILE      write here (default: stdout); written to a temporary
                         file and renamed at the end
  -f, --format FMT       csv (default) or jsonl (one object a row, with every
                         DNS query and answer: the evidence to file)
      --force            replace an existing output file
      --column NAME      the input column holding the domain
  -d, --delimiter D      CSV output delimiter: , ; or tab (default: the
                         input's, so a ;-separated list gives ;-separated
                         output, as Excel expects in much of Europe)
  -q, --quiet            no summary on stderr
      --progress         progress line on stderr even when it is not a terminal
      --no-progress      never a progress line (default: only on a terminal)

DNS:
  -r, --resolver ADDR[:PORT]  resolver to ask (repeatable; default: the
                         system's, or EXOSCOPE_RESOLVERS, comma-separated)
  -c, --concurrency N    domains scanned at the same time (default ${DEFAULTS.concurrency})
  -t, --threads N        scan on N worker threads (default ${DEFAULTS.threads}); use the cores
                         your resolver does not need (--concurrency is
                         shared); not with --redis (use --workers)
      --rate QPS         DNS queries per second for the whole run; 0 =
                         unlimited (default ${DEFAULTS.rate})
      --timeout MS       deadline of one query try, enforced by exoscope
                         (default ${DEFAULTS.timeoutMs})
      --retries N        extra tries per query, each on the next resolver, on
                         timeout, SERVFAIL or REFUSED (default ${DEFAULTS.retries})
      --dns-client C     auto (default: exoscope's own client on pipelined
                         TCP connections, moving a resolver that will not do
                         TCP well to UDP, with a line on stderr), udp or tcp
                         (the same client on that transport only) or cares
                         (node:dns: twice the CPU of udp)
      --in-flight N      most queries waiting for an answer from each
                         resolver at once (default: --concurrency, at least
                         ${DEFAULTS.inFlight}; per thread with --threads); a domain takes
                         about 7.5 queries, so a scan makes at most
                         N / RTT / 7.5 domains a second: raise it (or
                         --concurrency) for a resolver across a network

Owners of MX addresses (ASN, organisation):
      --asn-source SRC   packaged (default: the offline dataset shipped with
                         exoscope), cymru (Team Cymru's DNS interface, through
                         the same resolvers) or none
      --asn-db FILE      your own, newer dataset: ip-location-db CSV or
                         iptoasn.com TSV, optionally .gz

Exchange server probe (off by default; see docs/probe.md):
      --probe            contact each candidate on-premises Exchange host
                         (onprem_hosts, then MX servers of no known
                         provider) over HTTPS: a few GETs a browser would
                         send, for its build; fills the exchange_* and
                         proxy* columns
      --probe-allow CIDR also contact this special-purpose range (loopback,
                         private, ...; repeatable); never contacted otherwise
      --probe-port PORT  HTTPS port (default ${DEFAULTS.probePort})
      --probe-timeout MS deadline of each request (default ${DEFAULTS.probeTimeoutMs})
      --probe-concurrency N  hosts probed at once (default ${DEFAULTS.probeConcurrency}; per thread)

Distributed (see the README's "Scaling out"); the flags below need --redis:
      --redis URL        run the scan on BullMQ over Redis with local workers
                         (the same output; survives a crash: collect later)
      --workers N        local workers with --redis (default ${DEFAULTS.workers})
      --chunk-size N     rows per queue job (default ${DEFAULTS.chunkSize})
      --scan ID          scan id in Redis (default: a fresh one)
      --prefix P         Redis key prefix (default: EXOSCOPE_PREFIX, or
                         ${DEFAULTS.prefix})
`;

const SCAN_SPEC = {
  ...DNS_OPTION_SPEC,
  output: { type: 'string', short: 'o' },
  format: { type: 'string', short: 'f' },
  column: { type: 'string' },
  delimiter: { type: 'string', short: 'd' },
  force: { type: 'boolean' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  redis: { type: 'string' },
  threads: { type: 'string', short: 't' },
  workers: { type: 'string' },
  'chunk-size': { type: 'string' },
  scan: { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `scan` flags that mean something only with `--redis`. */
const REDIS_ONLY = ['workers', 'chunk-size', 'scan', 'prefix'] as const;

/** `exoscope scan ...` parsed: the scan's options, and Redis's with --redis. */
type ScanArgs =
  | { help: true }
  | {
      help: false;
      options: ScanOptions;
      /** The distributed mode's: null without --redis. */
      redis: {
        url: string;
        workers: number;
        chunkSize: number;
        scanId: string | undefined;
        prefix: string | undefined;
      } | null;
    };

/** Parses `exoscope scan ...` arguments into fully resolved options. */
function parseScanArgs(argv: string[], env: NodeJS.ProcessEnv): ScanArgs {
  const { values, positionals } = parse(argv, SCAN_SPEC, 'scan');
  if (values.help) return { help: true };
  if (values.redis === undefined) {
    const given = REDIS_ONLY.find((name) => values[name] !== undefined);
    if (given) {
      throw new UsageError(
        `--${given} works only with --redis URL (the distributed mode); see exoscope scan --help`,
      );
    }
  } else if (values.threads !== undefined) {
    throw new UsageError(
      '--threads does not work with --redis: use --workers N (in-process queue workers) or start more `exoscope worker`s; see exoscope scan --help',
    );
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'scan needs an input file (or - for stdin)'
        : `scan takes one input, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') {
    throw new UsageError(`--format must be csv or jsonl, got '${format}'`);
  }
  refuseJsonlDelimiter(format, values.delimiter);
  const output =
    values.output === undefined || values.output === '-' ? null : values.output;
  refuseForceToStdout(values.force, output);
  const workers = integer('--workers', values.workers, DEFAULTS.workers, 1, 64);
  const chunkSize = integer(
    '--chunk-size',
    values['chunk-size'],
    DEFAULTS.chunkSize,
    1,
    10_000,
  );
  const scanId =
    values.scan === undefined
      ? undefined
      : asUsage(checkScanId, values.scan, '--scan');
  const prefix =
    values.prefix === undefined
      ? undefined
      : asUsage(checkPrefix, values.prefix, '--prefix');
  return {
    help: false,
    redis:
      values.redis === undefined
        ? null
        : { url: values.redis, workers, chunkSize, scanId, prefix },
    options: {
      ...dnsOptions(values, env),
      input: positionals[0] as string,
      output,
      format,
      column: values.column ?? null,
      delimiter: delimiterOption(values.delimiter),
      force: values.force ?? false,
      progress: progressOption(values),
      quiet: values.quiet ?? false,
      threads: integer('--threads', values.threads, DEFAULTS.threads, 1, 64),
    },
  };
}

/** `exoscope scan ...`; returns the exit code. */
export async function scanCommand(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const args = parseScanArgs(argv, env);
  if (args.help) {
    io.stdout.write(SCAN_HELP);
    return 0;
  }
  if (args.redis) {
    const redis: DistributedScanOptions = {
      url: resolveRedisUrl(args.redis.url, env),
      prefix: args.redis.prefix ?? prefixOption(undefined, env),
      scanId: args.redis.scanId ?? newScanId(systemClock.now()),
      workers: args.redis.workers,
      chunkSize: args.redis.chunkSize,
      lockMs: integer(
        'EXOSCOPE_LOCK_MS',
        env.EXOSCOPE_LOCK_MS,
        DEFAULTS.lockMs,
        500,
        3_600_000,
      ),
    };
    return scanOverRedis(args.options, redis, io);
  }
  return scanHere(args.options, io);
}

/** `scan` in this process: see runLocalScan. */
async function scanHere(options: ScanOptions, io: ScanIo): Promise<number> {
  const stop = new StopSignal();
  const show = showsProgress(options.progress, io.stderr);
  // The progress line shows the run's counts, once the scan starts.
  let progress: ProgressLine | null = null;
  const clear = (): void => progress?.clear();
  try {
    const { runLocalScan } = await import('../run/local-scan.js');
    const result = await runLocalScan(options, {
      clock: systemClock,
      stop,
      stdin: io.stdin,
      stdout: io.stdout,
      countRows: show,
      events: {
        notice: (line) => {
          clear();
          io.stderr.write(`exoscope: ${line}\n`);
        },
        total: (rows) => {
          if (progress) progress.total = rows;
        },
        scanning: (stats) => {
          progress = new ProgressLine(stats, io.stderr, show);
        },
        row: () => progress?.tick(),
        stoppedBeforeScan: () =>
          io.stderr.write(
            'exoscope: interrupted before the scan started; nothing written\n',
          ),
        stopping: () =>
          io.stderr.write(
            `${io.stderr.isTTY ? '\r\x1b[K' : ''}exoscope: stopping: finishing the domains in flight, reading no more input (Ctrl-C again to stop at once)\n`,
          ),
        stoppedAtOnce: (kept) =>
          io.stderr.write(
            `exoscope: interrupted again: stopped at once${kept ? `; the rows written so far are in ${kept}` : ''}\n`,
          ),
      },
    });
    clear();
    return printScanEnd(options, result, io);
  } catch (err) {
    clear();
    throw err;
  } finally {
    stop.dispose();
  }
}

/** The closing summary of a local scan; the exit code. */
function printScanEnd(
  options: ScanOptions,
  result: LocalScanResult,
  io: ScanIo,
): number {
  const { stats, stopped } = result;
  if (stopped) {
    io.stderr.write(
      statsSummary(stats, {
        skipped: result.skipped,
        interrupted: true,
        extraFieldRows: result.extraFieldRows,
        ...(stopped.partial ? { output: stopped.partial } : {}),
        notes: [
          ...stoppedNotes(
            stats.rows,
            stopped.lastLine,
            stopped.direct ? null : options.output,
            stopped.partial,
            options.output,
          ),
          ...result.notices,
        ],
      }),
    );
    return EXIT_INTERRUPTED;
  }
  if (!options.quiet) {
    const notes =
      stats.rows === 0 && result.hasHeader
        ? ['the input has a header but no data rows', ...result.notices]
        : result.notices;
    io.stderr.write(
      statsSummary(stats, {
        skipped: result.skipped,
        extraFieldRows: result.extraFieldRows,
        ...(options.output ? { output: options.output } : {}),
        notes,
      }),
    );
  }
  return 0;
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

/** `scan --redis`: see runDistributedScan. */
async function scanOverRedis(
  options: ScanOptions,
  redis: DistributedScanOptions,
  io: ScanIo,
): Promise<number> {
  // BullMQ is loaded only for a scan over Redis.
  const { runDistributedScan } = await import('../run/distributed-scan.js');
  const progress = new ProgressLine(
    new RunStats(systemClock),
    io.stderr,
    showsProgress(options.progress, io.stderr),
  );
  const line = (text: string): void => {
    progress.clear();
    io.stderr.write(`exoscope: ${text}\n`);
  };
  const stop = new StopSignal();
  try {
    const outcome = await runDistributedScan(options, redis, {
      clock: systemClock,
      stop,
      stdin: io.stdin,
      stdout: io.stdout,
      warn: (text) => io.stderr.write(`exoscope: ${text}\n`),
      notice: line,
      log: line,
      progress: progress.chunks,
    });
    progress.clear();
    if (outcome.interrupted) {
      io.stderr.write(
        `exoscope: interrupted; scan ${redis.scanId} stays in Redis${options.output ? ` (${options.output} was not written)` : ''}\n` +
          `  to resume: run the same command with --scan ${redis.scanId} (it scans only the chunks not yet done), or \`exoscope worker\` and \`exoscope collect ${redis.scanId}\` with the same Redis${redis.prefix === DEFAULTS.prefix ? '' : ` and --prefix ${redis.prefix}`}\n`,
      );
      return EXIT_INTERRUPTED;
    }
    if (!options.quiet) {
      const { result } = outcome;
      io.stderr.write(
        collectedSummary(
          result,
          (systemClock.now() - outcome.started) / 1000,
          `scanned (via Redis, scan ${redis.scanId}):`,
          options.output,
          result.rows === 0
            ? ['the input has a header but no data rows', ...outcome.notices]
            : outcome.notices,
        ),
      );
    }
    return 0;
  } catch (err) {
    progress.clear();
    throw err;
  } finally {
    stop.dispose();
  }
}
