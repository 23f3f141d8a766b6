/**
 * The memory run: one `exoscope scan` of a large portfolio writing to stdout,
 * its rows counted as they arrive (newlines, less the header) and the
 * process's VmRSS read from /proc when the count passes 10 k, 100 k and 1 M.
 * The report says how the RSS grew after warm-up ({@link rssGrowth}); the run
 * fails when the scan shows no progress lines on stderr ({@link progressProblem}).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { allCorrect, formatTruth } from './bench-parse.js';
import { log } from './bench-fixture.js';
import { procMemory } from './bench-proc.js';
import type { MeasuredProcess } from './bench-proc.js';
import {
  checkCsv,
  mb,
  measure,
  mustSucceed,
  reportTruth,
  scanArgs,
} from './bench-steps.js';
import type { Ctx } from './bench-steps.js';
import type { MemoryPoint, MemoryRun } from './bench-table.js';

/**
 * How the RSS moved from the second mark (the pipeline warmed up) to the last
 * row, as the report states it. A leak of even 50 bytes a row would show as
 * 50 MB at 1 M rows; the DNS cache grows with distinct domains, so the figure
 * is reported for a reader to judge, not checked against a limit.
 */
export function rssGrowth(points: readonly MemoryPoint[]): string {
  const first = points.length > 2 ? points[1] : points[0];
  const last = points.at(-1);
  if (first?.rssMb == null || last?.rssMb == null) return 'RSS growth unknown';
  const grew = last.rssMb - first.rssMb;
  return `RSS ${grew >= 0 ? '+' : ''}${grew.toFixed(0)} MB from ${first.rows} to ${last.rows} rows`;
}

/**
 * What is wrong with the run's stderr, or null: a scan of a file must show
 * progress lines all along (`--progress`, plain lines on a pipe) and no
 * terminal escape.
 */
export function progressProblem(
  progressLines: number,
  escapes: boolean,
): string | null {
  if (progressLines === 0) return 'no progress line on stderr';
  if (escapes) return 'terminal escapes on a stderr that is no terminal';
  return null;
}

/** Output rows at which the RSS is read (and always the last row). */
export const MEMORY_MARKS = [10_000, 100_000, 1_000_000] as const;

/**
 * The most domains the memory run generates and serves; a longer input
 * repeats the portfolio. Kept at the size the run has always used, so its
 * server load and figures stay comparable.
 */
export const MAX_GENERATED = 900_000;

/** How to reach `rows` input rows: a portfolio of `count` domains, `repeats` times. */
export function memoryPlan(rows: number): { count: number; repeats: number } {
  const repeats = Math.ceil(rows / MAX_GENERATED);
  return { count: Math.ceil(rows / repeats), repeats };
}

/**
 * The portfolio's domains.csv `repeats` times (one header) as the memory
 * run's input, and the ground truth to match.
 */
export async function repeatedInput(
  ctx: Ctx,
  repeats: number,
): Promise<{ input: string; truth: Array<[string, string]> }> {
  const from = join(ctx.data, 'domains.csv');
  if (repeats === 1) return { input: from, truth: ctx.truth };
  const input = join(ctx.scratch, `domains-x${repeats}.csv`);
  const out = createWriteStream(input);
  for (let i = 0; i < repeats; i++) {
    const lines = createInterface({ input: createReadStream(from) });
    let header = true;
    for await (const line of lines) {
      if (!header || i === 0) {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      }
      header = false;
    }
  }
  out.end();
  await once(out, 'finish');
  const truth = Array.from({ length: repeats }, () => ctx.truth).flat();
  return { input, truth };
}

/** One `exoscope scan` of `input` to stdout, RSS read at the row marks. */
export async function stepMemory(
  ctx: Ctx,
  setupS: number,
  input: string,
  note: string,
): Promise<MemoryRun> {
  const domains = ctx.truth.length;
  const marks = [...MEMORY_MARKS.filter((n) => n < domains), domains];
  const output = join(ctx.scratch, 'memory.csv');
  log(`memory run: ${domains} domains in one process, stdout -> ${output}`);
  // --progress instead of -q: plain progress lines, as stderr is a pipe
  const args = scanArgs(ctx, input, null, '--progress').filter(
    (a) => a !== '-q',
  );
  let progressLines = 0;
  let escapes = false;
  let partial = '';
  const p = measure(ctx, args, {
    stdout: 'pipe',
    onStderr(chunk) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('exoscope: progress:')) progressLines++;
        if (line.includes('\x1b[')) escapes = true;
      }
    },
  });
  const started = performance.now();
  const points = await recordRss(p, output, marks, started);
  const m = await p.done;
  const problem = progressProblem(progressLines, escapes);
  const flatNote = `${rssGrowth(points)}; ${problem === null ? `${progressLines} progress lines` : `**${problem}**`}.`;
  log(`memory run: ${flatNote}`);
  const wallS = m.wallS;
  const base = { domains, setupS, points, wallS, domainsPerS: domains / wallS };
  const cpuUsPerDomain = m.cpuS === null ? null : (m.cpuS * 1e6) / domains;
  const peakRssMb = mb(m.peakRssKb);
  try {
    mustSucceed('exoscope scan (memory run)', m);
    const truth = await checkCsv([output], ctx.truth);
    reportTruth('memory run', truth);
    return {
      ...base,
      cpuUsPerDomain,
      peakRssMb,
      correct: formatTruth(truth).replace(/^correct: /, ''),
      ok: allCorrect(truth) && problem === null,
      note: `${note}Output on stdout, piped to a file by the benchmark; RSS from /proc/<pid>/status as the row count passed each mark; ${flatNote}`,
    };
  } catch (err) {
    const note = `failed: ${(err as Error).message}`;
    log(`memory run: ${note}`);
    return {
      ...base,
      cpuUsPerDomain,
      peakRssMb,
      correct: null,
      ok: false,
      note,
    };
  }
}

/** Copies the child's stdout to `file`, reading its RSS at each row mark. */
async function recordRss(
  p: MeasuredProcess,
  file: string,
  marks: readonly number[],
  started: number,
): Promise<MemoryPoint[]> {
  const out = createWriteStream(file);
  const stdout = p.child.stdout;
  if (!stdout) throw new Error('the scan has no stdout pipe');
  const points: MemoryPoint[] = [];
  let newlines = 0;
  let lastLog = started;
  for await (const chunk of stdout as AsyncIterable<Buffer>) {
    if (!out.write(chunk)) await once(out, 'drain');
    for (const byte of chunk) if (byte === 10) newlines++;
    const rows = newlines - 1; // the header is the first line
    const now = performance.now();
    while (
      points.length < marks.length &&
      rows >= (marks[points.length] ?? Infinity)
    ) {
      const pid = p.pid();
      const rssMb = mb(pid === null ? null : procMemory(pid).rssKb);
      const atS = (now - started) / 1000;
      points.push({ rows: marks[points.length] ?? rows, rssMb, atS });
      log(
        `memory run: ${rows} rows at ${atS.toFixed(0)} s, RSS ${rssMb?.toFixed(0) ?? '?'} MB`,
      );
    }
    if (now - lastLog > 60_000) {
      lastLog = now;
      log(
        `memory run: ${rows} rows after ${((now - started) / 1000).toFixed(0)} s`,
      );
    }
  }
  out.end();
  await once(out, 'finish');
  return points;
}
