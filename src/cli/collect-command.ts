/** `exoscope collect`: its options, its help, and what it prints. */
import { systemClock } from '../adapters/system-clock.js';
import { resolveRedisUrl } from '../queue/redis-url.js';
import { checkScanId } from '../queue/scan-keys.js';
import { DEFAULTS } from '../run/defaults.js';
import { RunStats } from '../run/run-stats.js';
import { EXIT_INTERRUPTED, StopSignal } from '../run/stop-signal.js';
import {
  REDIS_HELP,
  REDIS_OPTION_SPEC,
  asUsage,
  delimiterOption,
  integer,
  onePositional,
  parse,
  prefixOption,
  progressOption,
  refuseForceToStdout,
  showsProgress,
} from './options.js';
import { ProgressLine, collectedSummary } from './progress.js';
import type { ScanIo } from './scan-command.js';

const COLLECT_SPEC = {
  ...REDIS_OPTION_SPEC,
  output: { type: 'string', short: 'o' },
  force: { type: 'boolean' },
  delimiter: { type: 'string', short: 'd' },
  'no-wait': { type: 'boolean' },
  keep: { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** `exoscope collect --help`. */
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
                         can run again (default ${DEFAULTS.keepSeconds}; 0 deletes them now)
      --progress         progress line on stderr even when not a terminal
      --no-progress      never a progress line (default: only on a terminal)
  -q, --quiet            no summary

${REDIS_HELP}
`;

/** `exoscope collect ...`; returns the exit code. */
export async function collectCommand(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parse(argv, COLLECT_SPEC, 'collect');
  if (values.help) {
    io.stdout.write(COLLECT_HELP);
    return 0;
  }
  const scanId = asUsage(
    checkScanId,
    onePositional(positionals, 'collect', 'a scan id'),
  );
  const output =
    values.output === undefined || values.output === '-' ? null : values.output;
  refuseForceToStdout(values.force, output);
  const progressMode = progressOption(values);
  const delimiter = delimiterOption(values.delimiter);
  const keepSeconds = integer(
    '--keep',
    values.keep,
    DEFAULTS.keepSeconds,
    0,
    365 * 24 * 3600,
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  const progress = new ProgressLine(
    new RunStats(systemClock),
    io.stderr,
    showsProgress(progressMode, io.stderr),
  );
  const stop = new StopSignal();
  try {
    const { runCollect } = await import('../run/distributed-scan.js');
    const outcome = await runCollect(
      {
        url,
        prefix,
        scanId,
        output,
        force: values.force ?? false,
        delimiter,
        wait: !values['no-wait'],
        keepSeconds,
      },
      {
        clock: systemClock,
        stop,
        stdout: io.stdout,
        warn: (line) => io.stderr.write(`exoscope: ${line}\n`),
        progress: progress.chunks,
      },
    );
    progress.clear();
    if (outcome.interrupted) {
      io.stderr.write(
        `exoscope: interrupted; nothing written (scan ${scanId} is unchanged)\n` +
          `  to resume: run \`exoscope collect ${scanId}\` again\n`,
      );
      return EXIT_INTERRUPTED;
    }
    if (!values.quiet) {
      io.stderr.write(
        collectedSummary(
          outcome.result,
          (systemClock.now() - outcome.started) / 1000,
          `collected scan ${scanId}:`,
          output,
        ) +
          (keepSeconds > 0
            ? `  results kept in Redis for ${keepSeconds} s\n`
            : ''),
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
