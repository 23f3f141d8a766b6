/**
 * The distributed step: 2 `exoscope worker` processes, then `exoscope
 * enqueue` and `exoscope collect` against Redis, under a key prefix of its
 * own (deleted afterwards), with Redis's used_memory sampled for the peak.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { redisInfoNumber } from './bench-parse.js';
import { log } from './bench-fixture.js';
import { lastLine, runText } from './bench-proc.js';
import type { Measurement, MeasuredProcess, ServerCpu } from './bench-proc.js';
import {
  checkCsv,
  clientArgs,
  emptyRow,
  failedRow,
  joinNotes,
  mb,
  measure,
  mustSucceed,
  reportTruth,
  scanRow,
  serverMeter,
  sumCpu,
} from './bench-steps.js';
import type { Ctx } from './bench-steps.js';
import type { StepRow } from './bench-table.js';

const STEP = 'enqueue + 2 workers + collect';
const WORKERS = 2;

/** enqueue + 2 workers + collect over Redis; n/a when the CLI or Redis is missing. */
export async function stepDistributed(
  ctx: Ctx,
  redisUrl: string,
): Promise<StepRow> {
  const domains = ctx.truth.length;
  if (!(await cliHas(ctx, 'enqueue'))) {
    log(`${STEP}: n/a (this exoscope has no 'enqueue' command)`);
    return emptyRow(STEP, domains, "n/a: the CLI has no 'enqueue' command");
  }
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    const why = (err as Error).message;
    log(`${STEP}: n/a (Redis ${redisUrl}: ${why})`);
    return emptyRow(STEP, domains, `n/a: Redis unreachable (${why})`);
  }
  const prefix = `exobench-${process.pid}-${Date.now().toString(36)}`;
  const workers: MeasuredProcess[] = [];
  let sampler: MemorySampler | null = null;
  try {
    const before = redisInfoNumber(await redis.info('memory'), 'used_memory');
    const redisCpu0 = await redisCpuSeconds(redis);
    sampler = sampleMemory(redis, 250);
    const common = ['--redis', redisUrl, '--prefix', prefix];
    for (let i = 0; i < WORKERS; i++) {
      workers.push(await startWorker(ctx, common));
    }
    log(`${STEP}: ${WORKERS} workers ready (prefix ${prefix})`);
    const run = await enqueueAndCollect(ctx, common);
    const ws = await Promise.all(workers.map((w) => terminate(w, 30_000)));
    await sampler.stop();
    const redisCpu = (await redisCpuSeconds(redis)) - redisCpu0;
    const truth = await checkCsv([run.output], ctx.truth);
    reportTruth(STEP, truth);
    const row = scanRow(ctx, {
      step: STEP,
      domains,
      wallS: run.wallS,
      cpuS: sumCpu([...ws, run.enqueue, run.collect]),
      serverCpuS: run.serverCpuS,
      rssMb: {
        w1: mb(ws[0]?.peakRssKb),
        w2: mb(ws[1]?.peakRssKb),
        enqueue: mb(run.enqueue.peakRssKb),
        collect: mb(run.collect.peakRssKb),
      },
      truth,
      stderr: ws.map((w) => w.stderrTail),
    });
    log(`${STEP}: ${Math.round(row.domainsPerS ?? 0)} domains/s`);
    const redisUs = ((redisCpu * 1e6) / domains).toFixed(0);
    const base = before === null ? '?' : (before / 2 ** 20).toFixed(1);
    return {
      ...row,
      redisPeakMb: sampler.peak() / 2 ** 20,
      note: joinNotes(
        `wall = enqueue start to collect end (the workers were started and ready before); CPU = workers + enqueue + collect, and Redis itself used ${redisUs} µs/domain more; Redis used_memory was ${base} MB before (peak sampled every 250 ms)`,
        row.note,
      ),
    };
  } catch (err) {
    return failedRow(STEP, domains, err);
  } finally {
    await sampler?.stop();
    await Promise.all(workers.map((w) => terminate(w, 10_000)));
    const n = await deletePrefix(redis, prefix).catch(() => 0);
    if (n) log(`${STEP}: deleted ${n} Redis keys left under ${prefix}:`);
    redis.disconnect();
  }
}

/** Does the CLI have this command? (`<command> --help` exits 0) */
async function cliHas(ctx: Ctx, command: string): Promise<boolean> {
  const r = await runText(process.execPath, [ctx.cli, command, '--help']);
  return r.code === 0;
}

/** Starts `exoscope worker` and waits for its "ready:" line. */
async function startWorker(
  ctx: Ctx,
  common: string[],
): Promise<MeasuredProcess> {
  let stderr = '';
  const args = [ctx.cli, 'worker', ...common, '--resolver', ctx.recursor];
  const w = measure(ctx, args.concat(clientArgs(ctx)), {
    onStderr: (c) => (stderr = (stderr + c).slice(-4000)),
  });
  try {
    await untilReady(w, () => stderr, 60_000);
  } catch (err) {
    await terminate(w, 5000);
    throw err;
  }
  return w;
}

function untilReady(
  p: MeasuredProcess,
  stderr: () => string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      clearInterval(poll);
      clearTimeout(deadline);
      if (err) reject(err);
      else resolve();
    };
    const poll = setInterval(() => {
      if (/\bready:/.test(stderr())) finish();
    }, 50);
    const deadline = setTimeout(() => {
      const why = lastLine(stderr());
      finish(new Error(`worker not ready after ${timeoutMs / 1000} s: ${why}`));
    }, timeoutMs);
    void p.done.then((m) => {
      const why = lastLine(m.stderrTail);
      finish(
        new Error(`worker exited ${m.code ?? m.signal} before ready: ${why}`),
      );
    });
  });
}

interface DistributedRun {
  wallS: number;
  serverCpuS: ServerCpu | null;
  enqueue: Measurement;
  collect: Measurement;
  output: string;
}

/** `enqueue` the portfolio, then `collect` it; timed from enqueue's start. */
async function enqueueAndCollect(
  ctx: Ctx,
  common: string[],
): Promise<DistributedRun> {
  const scanId = `bench-${ctx.truth.length}`;
  const input = join(ctx.data, 'domains.csv');
  const output = join(ctx.scratch, 'collect.csv');
  log(`${STEP}: enqueue + collect of ${ctx.truth.length} domains`);
  const server = serverMeter(ctx);
  const started = performance.now();
  const enqueue = await measure(ctx, [
    ...[ctx.cli, 'enqueue', input, '--scan', scanId, ...common, '-q'],
  ]).done;
  mustSucceed('exoscope enqueue', enqueue);
  const collect = await measure(ctx, [
    ...[ctx.cli, 'collect', scanId, ...common, '-o', output, '--force'],
    ...['-q', '--keep', '0', '--no-progress'],
  ]).done;
  const wallS = (performance.now() - started) / 1000;
  mustSucceed('exoscope collect', collect);
  return { wallS, serverCpuS: server(), enqueue, collect, output };
}

/** SIGTERM (the worker drains), SIGKILL after `graceMs`; the measurement. */
async function terminate(
  p: MeasuredProcess,
  graceMs: number,
): Promise<Measurement> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.done;
  p.kill('SIGTERM');
  const killer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  const m = await p.done;
  clearTimeout(killer);
  return m;
}

interface MemorySampler {
  /** Highest used_memory seen, in bytes. */
  peak(): number;
  stop(): Promise<void>;
}

/** Polls INFO memory every `everyMs` for the peak of used_memory. */
function sampleMemory(redis: Redis, everyMs: number): MemorySampler {
  let peak = 0;
  let pending: Promise<void> = Promise.resolve();
  const sample = (): Promise<void> =>
    redis.info('memory').then(
      (info) => {
        peak = Math.max(peak, redisInfoNumber(info, 'used_memory') ?? 0);
      },
      () => undefined,
    );
  const timer = setInterval(() => (pending = sample()), everyMs);
  return {
    peak: () => peak,
    async stop() {
      clearInterval(timer);
      await pending;
      await sample();
    },
  };
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const user = redisInfoNumber(info, 'used_cpu_user') ?? 0;
  return user + (redisInfoNumber(info, 'used_cpu_sys') ?? 0);
}

/** Deletes every key under `prefix:`, the step's own namespace. */
async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  const stream = redis.scanStream({ match: `${prefix}:*`, count: 1000 });
  for await (const keys of stream as AsyncIterable<string[]>) {
    if (keys.length) deleted += await redis.del(...keys);
  }
  return deleted;
}
