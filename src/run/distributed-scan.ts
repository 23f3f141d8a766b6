/**
 * Running a scan over Redis (BullMQ): `scan --redis` (all of it in one
 * process), enqueue, a worker, collect and status. Each takes validated
 * options and reports through callbacks; none prints.
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { openSource } from '../adapters/csv-source.js';
import type { Delimiter } from '../adapters/csv-input/delimiter.js';
import { resolveOutput } from '../adapters/output-file.js';
import { openSink } from '../adapters/output-sink.js';
import { packageVersion } from '../adapters/package-version.js';
import {
  fileSha256,
  recordOptions,
  writeScanRecord,
} from '../adapters/scan-record-file.js';
import type { ScanRecord } from '../adapters/scan-record-file.js';
import type { Clock, Scheduler } from '../core/clock.js';
import { domainScanner } from '../core/report.js';
import { StraggleLimit } from '../core/straggle-limit.js';
import { collectScan } from '../queue/aggregator.js';
import type { CollectProgress, CollectResult } from '../queue/aggregator.js';
import { createChunkProcessor } from '../queue/chunk-processor.js';
import type { ChunkProcessor } from '../queue/chunk-processor.js';
import { openChunkQueue } from '../queue/chunk-queue.js';
import type { ChunkQueue } from '../queue/chunk-queue.js';
import { chunkInterval, startChunkWorker } from '../queue/chunk-worker.js';
import type { ChunkWorker } from '../queue/chunk-worker.js';
import { evictionWarning } from '../queue/memory-policy.js';
import { enqueueScan } from '../queue/producer.js';
import type { EnqueueResult } from '../queue/producer.js';
import { explainRedisError } from '../queue/queue-error.js';
import { closeRedis, connectRedis } from '../queue/redis-connection.js';
import { redactSecrets, redactUrl } from '../queue/redis-url.js';
import { requireScan, scanStatus } from '../queue/scan-status.js';
import type { ScanStatus } from '../queue/scan-status.js';
import type { ScanMeta } from '../queue/scan-meta.js';
import { DEFAULTS } from './defaults.js';
import { buildScanDeps, preflight } from './deps.js';
import type { BuiltDeps } from './deps.js';
import { Notices } from './notices.js';
import type {
  DistributedScanOptions,
  DnsOptions,
  RedisTarget,
  ScanOptions,
} from './scan-options.js';
import { EXIT_INTERRUPTED } from './stop-signal.js';
import type { StopSignal } from './stop-signal.js';

/** What every distributed run needs from its caller besides its options. */
interface RunContext {
  clock: Clock & Scheduler;
  /** A line for the user: Redis may evict keys, ... (without `exoscope: `). */
  warn(line: string): void;
}

/** How a collecting run (`collect`, `scan --redis`) ended. */
export type CollectOutcome =
  | {
      interrupted: false;
      result: CollectResult;
      /** When the collecting started (ms, the run's clock). */
      started: number;
      /** Every notice of the run (`scan --redis`), in order. */
      notices: readonly string[];
    }
  | { interrupted: true };

/**
 * `scan <input> --redis URL`: the whole distributed pipeline in one process —
 * enqueue, `workers` in-process BullMQ workers sharing one set of DNS deps
 * (so `--rate` and `--concurrency` mean what they mean for `scan`), collect.
 * The output is the in-process scan's, byte for byte for CSV. The scan's
 * keys are deleted once the output is written. The first signal gives up
 * (the scan stays in Redis: `interrupted`), the second exits at once.
 */
export async function runDistributedScan(
  options: ScanOptions,
  redis: DistributedScanOptions,
  run: RunContext & {
    stop: StopSignal;
    stdin: NodeJS.ReadableStream;
    stdout: Writable;
    notice(line: string): void;
    /** A worker's log line (redacted). */
    log(line: string): void;
    progress(p: CollectProgress): void;
  },
): Promise<CollectOutcome> {
  checkOutput(options.output, options.force);
  const { url, prefix, scanId } = redis;
  const stop = run.stop;
  return redacting(url, async () => {
    const source = await openSource({
      path: options.input,
      ...(options.column ? { column: options.column } : {}),
      stdin: run.stdin,
    });
    const notices = new Notices(run.notice);
    const built: BuiltDeps = await buildScanDeps(
      { ...options, onNotice: notices.post },
      run.clock,
    );
    let command: Redis | null = null;
    let blocking: Redis | null = null;
    const running: ChunkWorker[] = [];
    const interrupt = stop.signal;
    stop.listen();
    const started = run.clock.now();
    try {
      await preflight(built);
      notices.open();
      command = await connectRedis(url, { role: 'command' });
      blocking = await connectRedis(url, { role: 'worker' });
      await warnEviction(command, run.warn);
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
            rows: untilAborted(source.rows, interrupt),
          },
          inputName: options.input === '-' ? 'stdin' : basename(options.input),
          inputSha256: (await fileSha256(options.input)) ?? '',
          format: options.format,
          delimiter: options.delimiter ?? source.delimiter,
          chunkSize: redis.chunkSize,
          now: () => run.clock.now(),
        });
        interrupt.throwIfAborted();
        const log = (line: string): void => run.log(redactSecrets(line, url));
        const worker = blocking;
        const processor = chunkProcessor(
          command,
          prefix,
          built,
          options.concurrency,
        );
        for (let i = 0; i < redis.workers; i++) {
          running.push(
            startChunkWorker({
              redis: worker,
              prefix,
              ...processor,
              jobs: DEFAULTS.jobs,
              lockMs: redis.lockMs,
              chunkIntervalMs: 0,
              name: `${hostname()}:${process.pid}:${i}`,
              log,
              logConnectionErrors: false,
            }),
          );
        }
        const result = await collectToOutput(
          { redis: command, queue, prefix, scanId },
          {
            path: options.output,
            force: options.force,
            delimiter: null,
            stdout: run.stdout,
            command: 'scan --redis',
            resolvers: [...built.resolvers],
            extra: {
              started: new Date(started).toISOString(),
              options: recordOptions(options),
            },
          },
          { wait: true, keepSeconds: 0, onProgress: run.progress },
          interrupt,
          run.clock,
        );
        collected = true;
        return {
          interrupted: false,
          result,
          started,
          notices: notices.lines,
        };
      } finally {
        // A failed scan gives its chunks up: no point finishing them.
        const giveUp = !collected && !interrupt.aborted;
        await Promise.all(running.map((w) => w.close(giveUp)));
        await queue.close();
      }
    } catch (err) {
      if (interrupt.aborted) return { interrupted: true };
      throw err;
    } finally {
      stop.dispose();
      built.close();
      if (command) await closeRedis(command);
      if (blocking) await closeRedis(blocking);
    }
  });
}

/** What `enqueue` takes. */
export interface EnqueueOptions extends RedisTarget {
  /** Input path, or `-` for stdin. */
  input: string;
  scanId: string;
  /** The domain column; null: found by name. */
  column: string | null;
  /** Null: csv, or the existing scan's. */
  format: 'csv' | 'jsonl' | null;
  /** Null: the input's. */
  delimiter: Delimiter | null;
  /** Null: the existing scan's, or the default. */
  chunkSize: number | null;
}

/** `enqueue`: streams the input's rows into the queue in chunks. */
export async function runEnqueue(
  options: EnqueueOptions,
  run: RunContext & { stdin: NodeJS.ReadableStream },
): Promise<EnqueueResult> {
  const { url, prefix, input } = options;
  return redacting(url, async () => {
    const source = await openSource({
      path: input,
      ...(options.column ? { column: options.column } : {}),
      stdin: run.stdin,
    });
    const redis = await connectRedis(url, { role: 'command' });
    const queue = openChunkQueue(redis, prefix);
    try {
      await warnEviction(redis, run.warn);
      return await enqueueScan({
        redis,
        queue,
        prefix,
        scanId: options.scanId,
        source,
        inputName: input === '-' ? 'stdin' : basename(input),
        inputSha256: (await fileSha256(input)) ?? '',
        format: options.format,
        delimiter: options.delimiter ?? source.delimiter,
        chunkSize: options.chunkSize,
        now: () => run.clock.now(),
      });
    } finally {
      await queue.close();
      await closeRedis(redis);
    }
  });
}

/** What a worker takes. */
export interface WorkerOptions extends RedisTarget {
  dns: DnsOptions;
  /** Chunk jobs at once. */
  jobs: number;
  /** Domains per second for all workers; 0 = no limit. */
  rateDomains: number;
  /** The chunk size `rateDomains` assumes. */
  chunkSize: number;
  /** Job lock, ms. */
  lockMs: number;
}

/** What a worker tells its caller (every line redacted, without a prefix). */
export interface WorkerEvents {
  /** A line for the worker's log. */
  log(line: string): void;
  /** Set up and taking jobs. */
  ready(resolvers: readonly string[]): void;
  /** The first signal: the worker finishes the `active` chunks it holds. */
  stopping(signal: NodeJS.Signals, active: number): void;
  /** The second signal: the worker gives its chunks up. */
  givingUp(signal: NodeJS.Signals): void;
}

/** How a worker ended: its exit code and what it scanned. */
export interface WorkerResult {
  code: number;
  chunks: number;
  rows: number;
}

/**
 * A worker: scans chunks from the queue until the first signal, then
 * finishes the chunks it holds (code 0); a second signal gives them up
 * (130: other workers redo them).
 */
export async function runWorker(
  options: WorkerOptions,
  run: {
    clock: Clock & Scheduler;
    stop: StopSignal;
    events: WorkerEvents;
    /**
     * BullMQ gave up closing (Redis down) and may keep timers running
     * (taskforcesh/bullmq#4656): the process should end soon on its own.
     */
    abandoned(): void;
  },
): Promise<WorkerResult> {
  const { url, prefix, dns } = options;
  const log = (line: string): void => run.events.log(redactSecrets(line, url));
  return redacting(url, async () => {
    const notices = new Notices(log);
    const built = await buildScanDeps(
      { ...dns, onNotice: notices.post },
      run.clock,
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
        jobs: options.jobs,
        lockMs: options.lockMs,
        chunkIntervalMs: chunkInterval(options.rateDomains, options.chunkSize),
        rateChunkSize: options.chunkSize,
        name: `${hostname()}:${process.pid}`,
        log,
      });
      run.events.ready(built.resolvers);
      const code = await untilStopped(worker, run, log);
      return { code, chunks: worker.stats.chunks, rows: worker.stats.rows };
    } finally {
      built.close();
      if (redis) await closeRedis(redis);
    }
  });
}

/** Runs until the first signal drains the worker, or a second gives up its jobs. */
function untilStopped(
  worker: ChunkWorker,
  run: { stop: StopSignal; events: WorkerEvents; abandoned(): void },
  log: (line: string) => void,
): Promise<number> {
  const { stop, events } = run;
  return new Promise((resolve) => {
    let finished = false;
    const done = (code: number, closed = true): void => {
      if (finished) return;
      finished = true;
      if (!closed) run.abandoned();
      stop.dispose();
      resolve(code);
    };
    stop.listen({
      first: (signal) => {
        events.stopping(signal, worker.active());
        void worker.close().then(
          (closed) => done(0, closed),
          (err: unknown) => {
            log(`closing: ${String(err)}`);
            done(1);
          },
        );
      },
      again: (signal) => {
        events.givingUp(signal);
        void worker
          .close(true)
          .then((closed) => done(EXIT_INTERRUPTED, closed));
      },
    });
  });
}

/** What `status` takes. */
export interface StatusOptions extends RedisTarget {
  scanId: string;
}

/** `status`: the scan's counts (it fails with EXO_SCAN_UNKNOWN when there is no such scan). */
export async function readStatus(
  options: StatusOptions,
  run: { clock: Clock },
): Promise<{ status: ScanStatus; now: number }> {
  const { url, prefix, scanId } = options;
  return redacting(url, async () => {
    const redis = await connectRedis(url, { role: 'command' });
    let queue: ChunkQueue | null = null;
    try {
      await requireScan(redis, prefix, scanId);
      queue = openChunkQueue(redis, prefix);
      const now = run.clock.now();
      const status = await scanStatus(redis, queue, prefix, scanId);
      return { status, now };
    } finally {
      await queue?.close();
      await closeRedis(redis);
    }
  });
}

/** What `collect` takes. */
export interface CollectOptions extends RedisTarget {
  scanId: string;
  /** Output path; null: stdout. */
  output: string | null;
  force: boolean;
  /** Null: the input's, as enqueue read it. */
  delimiter: Delimiter | null;
  /** Wait for the scan to finish (else fail when it has not). */
  wait: boolean;
  /** Seconds the results stay after writing. */
  keepSeconds: number;
}

/**
 * `collect`: writes the scan's rows in input order as its chunks finish.
 * The first signal gives up (nothing written: `interrupted`), the second
 * exits at once.
 */
export async function runCollect(
  options: CollectOptions,
  run: RunContext & {
    stop: StopSignal;
    stdout: Writable;
    progress(p: CollectProgress): void;
  },
): Promise<CollectOutcome> {
  const { url, prefix, scanId, output } = options;
  const stop = run.stop;
  checkOutput(output, options.force);
  return redacting(url, async () => {
    const redis = await connectRedis(url, { role: 'command' });
    try {
      await requireScan(redis, prefix, scanId);
    } catch (err) {
      await closeRedis(redis);
      throw err;
    }
    const queue = openChunkQueue(redis, prefix);
    const interrupt = stop.signal;
    stop.listen();
    const started = run.clock.now();
    try {
      await warnEviction(redis, run.warn);
      const result = await collectToOutput(
        { redis, queue, prefix, scanId },
        {
          path: output,
          force: options.force,
          delimiter: options.delimiter,
          stdout: run.stdout,
          command: 'collect',
          resolvers: [],
          extra: {},
        },
        {
          wait: options.wait,
          keepSeconds: options.keepSeconds,
          onProgress: run.progress,
        },
        interrupt,
        run.clock,
      );
      return { interrupted: false, result, started, notices: [] };
    } catch (err) {
      if (interrupt.aborted) return { interrupted: true };
      throw err;
    } finally {
      stop.dispose();
      await queue.close();
      await closeRedis(redis);
    }
  });
}

/** Where {@link collectToOutput} writes, and what its record says. */
interface CollectOutput {
  /** The output file; null: `stdout`. */
  path: string | null;
  force: boolean;
  /** Null: the scan's own delimiter. */
  delimiter: Delimiter | null;
  stdout: Writable;
  /** The command named in the `.meta.json` record. */
  command: string;
  resolvers: string[];
  /** Record fields that replace the ones read from the scan's metadata. */
  extra: Partial<ScanRecord>;
}

/**
 * Writes a scan's rows in input order to a file or stdout as its chunks
 * finish (`collectScan`), then the `.meta.json` record beside a file.
 */
async function collectToOutput(
  target: { redis: Redis; queue: ChunkQueue; prefix: string; scanId: string },
  out: CollectOutput,
  how: {
    wait: boolean;
    keepSeconds: number;
    onProgress: (p: CollectProgress) => void;
  },
  signal: AbortSignal,
  clock: Clock,
): Promise<CollectResult> {
  let scanMeta: ScanMeta | null = null;
  const result = await collectScan({
    ...target,
    openSink: (meta) => {
      scanMeta = meta;
      return openSink({
        path: out.path,
        format: meta.format,
        inputHeader: meta.header,
        force: out.force,
        delimiter: out.delimiter ?? meta.delimiter,
        stdout: out.stdout,
        signal,
      });
    },
    ...how,
    signal,
    now: () => clock.now(),
  });
  if (out.path !== null && scanMeta !== null) {
    await writeScanRecord(out.path, {
      ...distributedRecord(
        scanMeta,
        result.rows,
        out.path,
        out.command,
        out.resolvers,
        clock,
      ),
      ...out.extra,
    });
  }
  return result;
}

/** The record of a scan run over Redis, from its metadata hash. */
function distributedRecord(
  meta: ScanMeta,
  rows: number,
  output: string,
  command: string,
  resolvers: string[],
  clock: Clock,
): ScanRecord {
  return {
    exoscope: packageVersion(),
    command,
    started: new Date(meta.created).toISOString(),
    finished: new Date(clock.now()).toISOString(),
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

/**
 * The chunk processor of a process: `concurrency` domain scans at once
 * across all its jobs, stragglers aside (see StraggleLimit); `limit` tells
 * its workers when the DNS has room for another job.
 */
function chunkProcessor(
  redis: Redis,
  prefix: string,
  built: BuiltDeps,
  concurrency: number,
): { process: ChunkProcessor; limit: StraggleLimit } {
  const limit = new StraggleLimit(concurrency, {
    clock: built.clock,
    scheduler: built.clock,
  });
  const scan = domainScanner(built.deps);
  const process = createChunkProcessor({
    redis,
    prefix,
    scan: (domain) => limit.run(() => scan(domain)),
    dns: built.deps.dns,
    concurrency,
    clock: built.clock,
    scheduler: built.clock,
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

async function warnEviction(
  redis: Redis,
  warn: (line: string) => void,
): Promise<void> {
  const warning = await evictionWarning(redis);
  if (warning) warn(warning);
}

/** Fails before any work when the output cannot be written (see resolveOutput). */
function checkOutput(path: string | null, force: boolean): void {
  if (path !== null) resolveOutput(path, force);
}
