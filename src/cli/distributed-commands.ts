/**
 * The distributed mode's commands: `enqueue`, `worker`, `status`, `collect`,
 * and `scan --redis` (all four in one process). Parses options, wires the
 * core's deps and the queue layer together, prints, returns the exit code.
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Redis } from 'ioredis';
import { openSource } from '../adapters/csv-source.js';
import { resolveOutput } from '../adapters/output-file.js';
import { openSink } from '../adapters/output-sink.js';
import { buildScanDeps, preflight } from '../run/deps.js';
import type { BuiltDeps } from '../run/deps.js';
import {
  fileSha256,
  recordOptions,
  writeScanRecord,
} from '../adapters/scan-record-file.js';
import type { ScanRecord } from '../adapters/scan-record-file.js';
import { systemClock } from '../adapters/system-clock.js';
import { domainScanner } from '../core/report.js';
import { StraggleLimit } from '../core/straggle-limit.js';
import { DEFAULT_KEEP_SECONDS, collectScan } from '../queue/aggregator.js';
import type { CollectProgress, CollectResult } from '../queue/aggregator.js';
import { createChunkProcessor } from '../queue/chunk-processor.js';
import type { ChunkProcessor } from '../queue/chunk-processor.js';
import { openChunkQueue } from '../queue/chunk-queue.js';
import type { ChunkQueue } from '../queue/chunk-queue.js';
import {
  DEFAULT_JOBS,
  DEFAULT_LOCK_MS,
  chunkInterval,
  startChunkWorker,
} from '../queue/chunk-worker.js';
import type { ChunkWorker } from '../queue/chunk-worker.js';
import { evictionWarning } from '../queue/memory-policy.js';
import { DEFAULT_CHUNK_SIZE, enqueueScan } from '../queue/producer.js';
import { explainRedisError } from '../queue/queue-error.js';
import { closeRedis, connectRedis } from '../queue/redis-connection.js';
import {
  redactSecrets,
  redactUrl,
  resolveRedisUrl,
} from '../queue/redis-url.js';
import {
  DEFAULT_PREFIX,
  checkPrefix,
  checkScanId,
  newScanId,
} from '../queue/scan-keys.js';
import { formatStatus, requireScan, scanStatus } from '../queue/scan-status.js';
import type { ScanMeta } from '../queue/scan-meta.js';
import {
  DNS_OPTION_SPEC,
  UsageError,
  asUsage,
  delimiterOption,
  dnsOptions,
  integer,
  parse,
} from './options.js';
import { Notices } from './notices.js';
import { progressOf, summaryText } from './progress.js';
import type { ScanOptions } from './options.js';
import { EXIT_INTERRUPTED } from './scan-command.js';
import type { ScanIo } from './scan-command.js';
import { packageVersion } from '../adapters/package-version.js';

export type QueueCommand = 'enqueue' | 'worker' | 'status' | 'collect';

/** Options of `scan --redis` that `scan` alone does not have. */
export interface DistributedScanExtra {
  /** In-process workers. Default 2. */
  workers?: number | undefined;
  /** Rows per chunk job. Default 100. */
  chunkSize?: number | undefined;
  /** Scan id. Default: a fresh one. */
  scanId?: string | undefined;
  /** Key prefix. Default EXOSCOPE_PREFIX or `exoscope`. */
  prefix?: string | undefined;
}

/** Default in-process workers of `scan --redis`. */
export const DEFAULT_LOCAL_WORKERS = 2;

const COMMON_SPEC = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ENQUEUE_SPEC = {
  ...COMMON_SPEC,
  scan: { type: 'string', short: 's' },
  format: { type: 'string', short: 'f' },
  column: { type: 'string' },
  delimiter: { type: 'string', short: 'd' },
  'chunk-size': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

const WORKER_SPEC = {
  ...COMMON_SPEC,
  ...DNS_OPTION_SPEC,
  jobs: { type: 'string', short: 'j' },
  'rate-domains': { type: 'string' },
  'chunk-size': { type: 'string' },
  'lock-ms': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

const STATUS_SPEC = {
  ...COMMON_SPEC,
  json: { type: 'boolean' },
} as const;

const COLLECT_SPEC = {
  ...COMMON_SPEC,
  output: { type: 'string', short: 'o' },
  force: { type: 'boolean' },
  delimiter: { type: 'string', short: 'd' },
  'no-wait': { type: 'boolean' },
  keep: { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

const REDIS_HELP = `Redis:
      --redis URL        redis://[user:password@]host[:port][/db] (default:
                         REDIS_URL); the password is never printed
      --prefix P         key prefix (default: EXOSCOPE_PREFIX, or exoscope)`;

export const ENQUEUE_HELP = `Usage: exoscope enqueue <input|-> [options]

Streams the input's rows into the queue in chunks and prints the scan id (on
stdout) and the row count. Running it again for the same --scan adds nothing
twice: it queues only chunks that have neither a result nor a job (after a
crash), and retries chunks that failed for good.

  -s, --scan ID          scan id (default: scan-<date>-<time>-<random>)
  -f, --format FMT       csv (default) or jsonl: fixed for the scan here
      --column NAME      the input column holding the domain
  -d, --delimiter D      CSV output delimiter: , ; or tab (default: the
                         input's), fixed for the scan
      --chunk-size N     rows per job (default ${DEFAULT_CHUNK_SIZE}), fixed for the scan
  -q, --quiet            print only the scan id

${REDIS_HELP}
`;

export const WORKER_HELP = `Usage: exoscope worker [options]

Scans chunks from the queue until SIGINT/SIGTERM, then finishes the chunks it
holds and exits 0 (a second signal gives them up: other workers redo them).
Start as many as you like, on any machines; a killed worker loses nothing.

  -j, --jobs N           chunk jobs at once in this worker (default ${DEFAULT_JOBS}); more
                         while its --concurrency has room (chunks waiting for
                         domains whose servers do not answer), up to 20 000
                         rows in its jobs
      --rate-domains N   domains per second for ALL workers together (BullMQ's
                         limiter in Redis: one chunk starts every
                         chunk-size/N s; a chunk's domains then go out at the
                         worker's --concurrency); 0 = no limit (default 0).
                         Give every worker the same value.
      --chunk-size N     the chunk size --rate-domains assumes (default
                         ${DEFAULT_CHUNK_SIZE}, enqueue's default)
      --lock-ms MS       job lock; a killed worker's chunks come back after
                         1-2 x this (default ${DEFAULT_LOCK_MS}; env EXOSCOPE_LOCK_MS)
  -q, --quiet            log only problems

DNS (per worker, as for scan):
  -r, --resolver ADDR[:PORT]  resolver to ask (repeatable; default: the
                         system's, or EXOSCOPE_RESOLVERS)
  -c, --concurrency N    domains scanned at once by this worker (default 200)
      --rate QPS         DNS queries per second of this worker; 0 = unlimited
      --timeout MS       deadline of one query try (default 2000)
      --retries N        extra tries per query (default 2)
      --dns-client C     auto (default), udp, tcp or cares, as for scan
      --in-flight N      queries in flight to each resolver (default:
                         --concurrency, at least 200), as for scan
      --asn-source SRC   packaged (default), cymru or none
      --asn-db FILE      your own IP-to-ASN dataset

Exchange server probe (per worker; see docs/probe.md):
      --probe            probe candidate Exchange hosts over HTTPS, as for scan
      --probe-allow CIDR, --probe-port PORT, --probe-timeout MS,
      --probe-concurrency N  as for scan

${REDIS_HELP}
`;

export const STATUS_HELP = `Usage: exoscope status <scan> [--json]

Rows total / done / failed, rate and ETA of a scan, and the queue's job
counts. Cheap: safe to run in a loop while the scan runs.

      --json             one JSON object instead of text

${REDIS_HELP}
`;

export const COLLECT_HELP = `Usage: exoscope collect <scan> [options]

Writes the scan's rows in input order as its chunks finish and ends when
every chunk is written: the same output as \`exoscope scan\`. A file is a
temporary file renamed at the end; on stdout rows go out as they come, and a
scan that fails ends with exit 1 after them. Running it again writes the same
output. The scan's keys then expire.

  -o, --output FILE      write here (default: stdout)
  -d, --delimiter D      CSV delimiter: , ; or tab (default: the input's,
                         as enqueue read it)
      --force            replace an existing output file
      --no-wait          fail (exit 1) instead of waiting when not finished
      --keep SECONDS     keep the results this long after writing, so collect
                         can run again (default ${DEFAULT_KEEP_SECONDS}; 0 deletes them now)
      --progress         progress line on stderr even when not a terminal
      --no-progress      never a progress line (default: only on a terminal)
  -q, --quiet            no summary

${REDIS_HELP}
`;

/** `exoscope enqueue|worker|status|collect ...`; returns the exit code. */
export async function runQueueCommand(
  command: QueueCommand,
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  switch (command) {
    case 'enqueue':
      return runEnqueue(argv, io, env);
    case 'worker':
      return runWorker(argv, io, env);
    case 'status':
      return runStatus(argv, io, env);
    case 'collect':
      return runCollect(argv, io, env);
  }
}

async function runEnqueue(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parse(argv, ENQUEUE_SPEC, 'enqueue');
  if (values.help) return help(io, ENQUEUE_HELP);
  const input = onePositional(
    positionals,
    'enqueue',
    'an input file (or - for stdin)',
  );
  const format = formatOption(values.format);
  const delimiter = delimiterOption(values.delimiter);
  const chunkSize =
    values['chunk-size'] === undefined
      ? null
      : integer(
          '--chunk-size',
          values['chunk-size'],
          DEFAULT_CHUNK_SIZE,
          1,
          10_000,
        );
  const scanId = asUsage(
    checkScanId,
    values.scan ?? newScanId(Date.now()),
    '--scan',
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  return redacting(url, async () => {
    const source = await openSource({
      path: input,
      ...(values.column ? { column: values.column } : {}),
      stdin: io.stdin,
    });
    const redis = await connectRedis(url, { role: 'command' });
    const queue = openChunkQueue(redis, prefix);
    try {
      await warnEviction(redis, io);
      const result = await enqueueScan({
        redis,
        queue,
        prefix,
        scanId,
        source,
        inputName: input === '-' ? 'stdin' : basename(input),
        inputSha256: (await fileSha256(input)) ?? '',
        format,
        delimiter: delimiter ?? source.delimiter,
        chunkSize,
        now: Date.now,
      });
      io.stdout.write(`${result.scanId}\n`);
      if (!values.quiet) {
        const queued = result.submitted - result.added;
        const again = result.created
          ? ''
          : ` (scan existed: ${result.alreadyDone} chunks already done${queued ? `, ${queued} already had a job` : ''}${result.retried ? `, ${result.retried} failed ones retried` : ''})`;
        io.stderr.write(
          `exoscope: scan ${result.scanId}: ${result.rows} rows in ${result.chunks} chunks, ${result.added} added to the queue${again}\n`,
        );
      }
      return 0;
    } finally {
      await queue.close();
      await closeRedis(redis);
    }
  });
}

async function runWorker(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parse(argv, WORKER_SPEC, 'worker');
  if (values.help) return help(io, WORKER_HELP);
  if (positionals.length > 0) {
    throw new UsageError(
      `worker takes no arguments, got: ${positionals.join(' ')}`,
    );
  }
  const dns = dnsOptions(values, env);
  const jobs = integer('--jobs', values.jobs, DEFAULT_JOBS, 1, 1000);
  const rateDomains = integer(
    '--rate-domains',
    values['rate-domains'],
    0,
    0,
    10_000_000,
  );
  const chunkSize = integer(
    '--chunk-size',
    values['chunk-size'],
    DEFAULT_CHUNK_SIZE,
    1,
    10_000,
  );
  const lockMs = integer(
    '--lock-ms',
    values['lock-ms'] ?? env.EXOSCOPE_LOCK_MS,
    DEFAULT_LOCK_MS,
    500,
    3_600_000,
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  const quiet = values.quiet ?? false;
  const log = (line: string): void => {
    io.stderr.write(
      `exoscope worker ${process.pid}: ${redactSecrets(line, url)}\n`,
    );
  };

  return redacting(url, async () => {
    const notices = new Notices(log);
    const built = await buildScanDeps(
      { ...dns, onNotice: notices.post },
      systemClock,
    );
    let redis: Redis | null = null;
    try {
      await preflight(built);
      notices.open();
      redis = await connectRedis(url, {
        role: 'worker',
        onError: (m) => log(`Redis: ${m}`),
        onReconnect: () => log('Redis: connection back'),
      });
      const warning = await evictionWarning(redis);
      if (warning) log(warning);
      const worker = startChunkWorker({
        redis,
        prefix,
        ...chunkProcessor(redis, prefix, built, dns.concurrency),
        jobs,
        lockMs,
        chunkIntervalMs: chunkInterval(rateDomains, chunkSize),
        rateChunkSize: chunkSize,
        name: `${hostname()}:${process.pid}`,
        log,
      });
      if (!quiet) {
        log(
          `ready: ${redactUrl(url)} queue ${prefix}:chunks, ${jobs} jobs x ${dns.concurrency} domains, resolvers ${built.resolvers.join(', ')}${rateDomains > 0 ? `, ${rateDomains} domains/s for all workers` : ''}`,
        );
      }
      const code = await untilSignal(worker, log);
      if (!quiet || code !== 0) {
        log(
          `stopped: ${worker.stats.chunks} chunks (${worker.stats.rows} rows) scanned here`,
        );
      }
      return code;
    } finally {
      built.close();
      if (redis) await closeRedis(redis);
    }
  });
}

/** Runs until SIGINT/SIGTERM; the first drains, a second gives up the jobs held. */
function untilSignal(
  worker: ChunkWorker,
  log: (line: string) => void,
): Promise<number> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        log(
          `${signal}: finishing ${worker.active()} active chunk(s); again to give them up`,
        );
        void worker.close().then(
          (closed) => done(0, closed),
          (err: unknown) => {
            log(`closing: ${String(err)}`);
            done(1);
          },
        );
      } else if (signals === 2) {
        log(
          `${signal}: giving up the active chunks (other workers will redo them)`,
        );
        void worker
          .close(true)
          .then((closed) => done(EXIT_INTERRUPTED, closed));
      }
    };
    let finished = false;
    const done = (code: number, closed = true): void => {
      if (finished) return;
      finished = true;
      // BullMQ gave up closing with Redis down and left its timers running
      // (taskforcesh/bullmq#4656): exit once the last lines are written.
      if (!closed) setTimeout(() => process.exit(), 1000).unref();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function runStatus(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parse(argv, STATUS_SPEC, 'status');
  if (values.help) return help(io, STATUS_HELP);
  const scanId = asUsage(
    checkScanId,
    onePositional(positionals, 'status', 'a scan id'),
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  return redacting(url, async () => {
    const redis = await connectRedis(url, { role: 'command' });
    let queue: ChunkQueue | null = null;
    try {
      await requireScan(redis, prefix, scanId);
      queue = openChunkQueue(redis, prefix);
      const now = Date.now();
      const status = await scanStatus(redis, queue, prefix, scanId);
      io.stdout.write(
        values.json ? `${JSON.stringify(status)}\n` : formatStatus(status, now),
      );
      return 0;
    } finally {
      await queue?.close();
      await closeRedis(redis);
    }
  });
}

async function runCollect(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parse(argv, COLLECT_SPEC, 'collect');
  if (values.help) return help(io, COLLECT_HELP);
  const scanId = asUsage(
    checkScanId,
    onePositional(positionals, 'collect', 'a scan id'),
  );
  const output =
    values.output === undefined || values.output === '-' ? null : values.output;
  const force = values.force ?? false;
  const delimiter = delimiterOption(values.delimiter);
  const keepSeconds = integer(
    '--keep',
    values.keep,
    DEFAULT_KEEP_SECONDS,
    0,
    365 * 24 * 3600,
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  checkOutput(output, force);
  const progress = progressLine(
    io.stderr,
    values['no-progress']
      ? false
      : values.progress
        ? true
        : io.stderr.isTTY === true,
  );
  return redacting(url, async () => {
    const redis = await connectRedis(url, { role: 'command' });
    try {
      await requireScan(redis, prefix, scanId);
    } catch (err) {
      await closeRedis(redis);
      throw err;
    }
    const queue = openChunkQueue(redis, prefix);
    const interrupt = new AbortController();
    const onSignal = (): void => {
      // a second signal: at once (the temporary file goes with the process)
      if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
      interrupt.abort(new Error('interrupted'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const started = Date.now();
    try {
      await warnEviction(redis, io);
      let scanMeta: ScanMeta | null = null;
      const result = await collectScan({
        redis,
        queue,
        prefix,
        scanId,
        openSink: (meta) => {
          scanMeta = meta;
          return openSink({
            path: output,
            format: meta.format,
            inputHeader: meta.header,
            force,
            delimiter: delimiter ?? meta.delimiter,
            stdout: io.stdout,
            signal: interrupt.signal,
          });
        },
        wait: !values['no-wait'],
        keepSeconds,
        onProgress: progress.show,
        signal: interrupt.signal,
        now: Date.now,
      });
      progress.clear();
      if (output !== null && scanMeta !== null) {
        await writeScanRecord(
          output,
          distributedRecord(scanMeta, result.rows, output, 'collect', []),
        );
      }
      if (!values.quiet) {
        io.stderr.write(
          summary(result, started, `collected scan ${scanId}:`, output) +
            (keepSeconds > 0
              ? `  results kept in Redis for ${keepSeconds} s\n`
              : ''),
        );
      }
      return 0;
    } catch (err) {
      progress.clear();
      if (interrupt.signal.aborted) {
        io.stderr.write(
          `exoscope: interrupted; nothing written (scan ${scanId} is unchanged)\n` +
            `  to resume: run \`exoscope collect ${scanId}\` again\n`,
        );
        return EXIT_INTERRUPTED;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await queue.close();
      await closeRedis(redis);
    }
  });
}

/**
 * `scan <input> --redis URL`: the whole distributed pipeline in one process —
 * enqueue, `workers` in-process BullMQ workers sharing one set of DNS deps
 * (so `--rate` and `--concurrency` mean what they mean for `scan`), collect.
 * The output is the in-process scan's, byte for byte for CSV. The scan's
 * keys are deleted once the output is written.
 */
export async function runDistributedScan(
  options: ScanOptions,
  redisUrl: string,
  io: ScanIo,
  env: NodeJS.ProcessEnv,
  extra: DistributedScanExtra = {},
): Promise<number> {
  const url = resolveRedisUrl(redisUrl, env);
  const prefix = checkPrefix(extra.prefix ?? prefixOption(undefined, env));
  const scanId = checkScanId(extra.scanId ?? newScanId(Date.now()));
  const workers = extra.workers ?? DEFAULT_LOCAL_WORKERS;
  const lockMs = integer(
    'EXOSCOPE_LOCK_MS',
    env.EXOSCOPE_LOCK_MS,
    DEFAULT_LOCK_MS,
    500,
    3_600_000,
  );
  checkOutput(options.output, options.force);
  const showProgress =
    options.progress === 'always' ||
    (options.progress === 'auto' && io.stderr.isTTY === true);
  const progress = progressLine(io.stderr, showProgress);

  return redacting(url, async () => {
    const source = await openSource({
      path: options.input,
      ...(options.column ? { column: options.column } : {}),
      stdin: io.stdin,
    });
    const notices = new Notices((line) => {
      progress.clear();
      io.stderr.write(`exoscope: ${line}\n`);
    });
    const built: BuiltDeps = await buildScanDeps(
      { ...options, onNotice: notices.post },
      systemClock,
    );
    let command: Redis | null = null;
    let blocking: Redis | null = null;
    const running: ChunkWorker[] = [];
    const interrupt = new AbortController();
    let signals = 0;
    const onSignal = (): void => {
      if (++signals > 1) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: now
      interrupt.abort(new Error('interrupted'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const started = Date.now();
    try {
      await preflight(built);
      notices.open();
      command = await connectRedis(url, { role: 'command' });
      blocking = await connectRedis(url, { role: 'worker' });
      await warnEviction(command, io);
      const queue = openChunkQueue(command, prefix);
      let collected = false;
      try {
        await enqueueScan({
          redis: command,
          queue,
          prefix,
          scanId,
          source: {
            ...source,
            rows: untilAborted(source.rows, interrupt.signal),
          },
          inputName: options.input === '-' ? 'stdin' : basename(options.input),
          inputSha256: (await fileSha256(options.input)) ?? '',
          format: options.format,
          delimiter: options.delimiter ?? source.delimiter,
          chunkSize: extra.chunkSize ?? DEFAULT_CHUNK_SIZE,
          now: Date.now,
        });
        interrupt.signal.throwIfAborted();
        const log = (line: string): void => {
          progress.clear();
          io.stderr.write(`exoscope: ${redactSecrets(line, url)}\n`);
        };
        const worker = blocking;
        const processor = chunkProcessor(
          command,
          prefix,
          built,
          options.concurrency,
        );
        for (let i = 0; i < workers; i++) {
          running.push(
            startChunkWorker({
              redis: worker,
              prefix,
              ...processor,
              jobs: DEFAULT_JOBS,
              lockMs,
              chunkIntervalMs: 0,
              name: `${hostname()}:${process.pid}:${i}`,
              log,
              logConnectionErrors: false,
            }),
          );
        }
        let scanMeta: ScanMeta | null = null;
        const result = await collectScan({
          redis: command,
          queue,
          prefix,
          scanId,
          openSink: (meta) => {
            scanMeta = meta;
            return openSink({
              path: options.output,
              format: meta.format,
              inputHeader: meta.header,
              force: options.force,
              delimiter: meta.delimiter,
              stdout: io.stdout,
              signal: interrupt.signal,
            });
          },
          wait: true,
          keepSeconds: 0,
          onProgress: progress.show,
          signal: interrupt.signal,
          now: Date.now,
        });
        progress.clear();
        if (options.output !== null && scanMeta !== null) {
          await writeScanRecord(options.output, {
            ...distributedRecord(
              scanMeta,
              result.rows,
              options.output,
              'scan --redis',
              [...built.resolvers],
            ),
            started: new Date(started).toISOString(),
            options: recordOptions(options),
          });
        }
        if (!options.quiet) {
          io.stderr.write(
            summary(
              result,
              started,
              `scanned (via Redis, scan ${scanId}):`,
              options.output,
              result.rows === 0
                ? ['the input has a header but no data rows', ...notices.lines]
                : notices.lines,
            ),
          );
        }
        collected = true;
        return 0;
      } finally {
        // A failed scan gives its chunks up: no point finishing them.
        const giveUp = !collected && !interrupt.signal.aborted;
        await Promise.all(running.map((w) => w.close(giveUp)));
        await queue.close();
      }
    } catch (err) {
      progress.clear();
      if (interrupt.signal.aborted) {
        io.stderr.write(
          `exoscope: interrupted; scan ${scanId} stays in Redis${options.output ? ` (${options.output} was not written)` : ''}\n` +
            `  to resume: run the same command with --scan ${scanId} (it scans only the chunks not yet done), or \`exoscope worker\` and \`exoscope collect ${scanId}\` with the same Redis${prefix === DEFAULT_PREFIX ? '' : ` and --prefix ${prefix}`}\n`,
        );
        return EXIT_INTERRUPTED;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      built.close();
      if (command) await closeRedis(command);
      if (blocking) await closeRedis(blocking);
    }
  });
}

/**
 * The chunk processor of a process: `concurrency` domain scans at once
 * across all its jobs, stragglers aside (see StraggleLimit); `limit` tells
 * its workers when the DNS has room for another job.
 */
/** The record of a scan run over Redis, from its metadata hash. */
function distributedRecord(
  meta: ScanMeta,
  rows: number,
  output: string,
  command: string,
  resolvers: string[],
): ScanRecord {
  return {
    exoscope: packageVersion(),
    command,
    started: new Date(meta.created).toISOString(),
    finished: new Date().toISOString(),
    input: {
      name: meta.input,
      sha256: meta.inputSha256 || null,
      rows: meta.rows ?? rows,
      skippedBlank: meta.skippedBlank,
      skippedComment: meta.skippedComment,
    },
    output: { name: basename(output), format: meta.format, rows },
    resolvers,
    options: { format: meta.format, chunk_size: meta.chunkSize },
  };
}

function chunkProcessor(
  redis: Redis,
  prefix: string,
  built: BuiltDeps,
  concurrency: number,
): { process: ChunkProcessor; limit: StraggleLimit } {
  const limit = new StraggleLimit(concurrency, {
    clock: systemClock,
    scheduler: systemClock,
  });
  const scan = domainScanner(built.deps);
  const process = createChunkProcessor({
    redis,
    prefix,
    scan: (domain) => limit.run(() => scan(domain)),
    dns: built.deps.dns,
    concurrency,
    clock: systemClock,
    scheduler: systemClock,
  });
  return { process, limit };
}

async function* untilAborted<T>(
  rows: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  for await (const row of rows) {
    if (signal.aborted) return;
    yield row;
  }
}

/**
 * Runs a command, scrubbing the Redis password from any error it throws and
 * turning Redis's OOM reply into a message that says what to do.
 */
async function redacting<T>(url: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (caught) {
    const err = explainRedisError(caught, redactUrl(url));
    if (err instanceof Error) {
      err.message = redactSecrets(err.message, url);
      if (err.stack) err.stack = redactSecrets(err.stack, url);
    }
    throw err;
  }
}

async function warnEviction(redis: Redis, io: ScanIo): Promise<void> {
  const warning = await evictionWarning(redis);
  if (warning) io.stderr.write(`exoscope: ${warning}\n`);
}

/** Fails before any work when the output cannot be written (see resolveOutput). */
function checkOutput(path: string | null, force: boolean): void {
  if (path !== null) resolveOutput(path, force);
}

function help(io: ScanIo, text: string): number {
  io.stdout.write(text);
  return 0;
}

function onePositional(
  positionals: string[],
  command: string,
  what: string,
): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `${command} needs ${what}`
        : `${command} takes one argument, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  return positionals[0] as string;
}

function formatOption(raw: string | undefined): 'csv' | 'jsonl' | null {
  if (raw === undefined) return null;
  if (raw !== 'csv' && raw !== 'jsonl') {
    throw new UsageError(`--format must be csv or jsonl, got '${raw}'`);
  }
  return raw;
}

function prefixOption(raw: string | undefined, env: NodeJS.ProcessEnv): string {
  return asUsage(checkPrefix, raw ?? env.EXOSCOPE_PREFIX ?? DEFAULT_PREFIX);
}

/** A one-line progress display of a scan being waited for, at most 4 times a second. */
function progressLine(
  out: NodeJS.WriteStream,
  enabled: boolean,
): { show: (p: CollectProgress) => void; clear: () => void } {
  let last = 0;
  let shown = false;
  const started = Date.now();
  return {
    show(p) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      const of = p.chunks === null ? '?' : String(p.chunks);
      const seconds = (now - started) / 1000;
      // Every chunk but the last is full: rows done within one chunk.
      const rows =
        p.rows === null
          ? ''
          : ` · ${progressOf(Math.min(p.rows, p.done * p.chunkSize), p.rows, seconds)}`;
      out.write(
        `\r\x1b[K${p.done}/${of} chunks done${rows}${p.failed ? ` · ${p.failed} failed` : ''} · ${Math.round(seconds)} s`,
      );
      shown = true;
    },
    clear() {
      if (shown) out.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** The closing summary of `collect` and `scan --redis`: the lines of `scan`'s. */
function summary(
  result: CollectResult,
  started: number,
  what: string,
  output: string | null,
  notes: readonly string[] = [],
): string {
  return summaryText({
    what,
    rows: result.rows,
    seconds: (Date.now() - started) / 1000,
    byClass: result.classification,
    byStatus: result.status,
    skipped: result.skipped,
    extraFieldRows: result.extraFieldRows,
    ...(output ? { output } : {}),
    notes,
  });
}
