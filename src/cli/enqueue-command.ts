/** `exoscope enqueue`: its options, its help, and what it prints. */
import { systemClock } from '../adapters/system-clock.js';
import { resolveRedisUrl } from '../queue/redis-url.js';
import { checkScanId, newScanId } from '../queue/scan-keys.js';
import { DEFAULTS } from '../run/defaults.js';
import {
  REDIS_HELP,
  REDIS_OPTION_SPEC,
  asUsage,
  delimiterOption,
  formatOption,
  integer,
  onePositional,
  parse,
  prefixOption,
  refuseJsonlDelimiter,
} from './options.js';
import type { ScanIo } from './scan-command.js';

const ENQUEUE_SPEC = {
  ...REDIS_OPTION_SPEC,
  scan: { type: 'string', short: 's' },
  format: { type: 'string', short: 'f' },
  column: { type: 'string' },
  delimiter: { type: 'string', short: 'd' },
  'chunk-size': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** `exoscope enqueue --help`. */
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
      --chunk-size N     rows per job (default ${DEFAULTS.chunkSize}), fixed for the scan
  -q, --quiet            print only the scan id

${REDIS_HELP}
`;

/** `exoscope enqueue ...`; returns the exit code. */
export async function enqueueCommand(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parse(argv, ENQUEUE_SPEC, 'enqueue');
  if (values.help) {
    io.stdout.write(ENQUEUE_HELP);
    return 0;
  }
  const input = onePositional(
    positionals,
    'enqueue',
    'an input file (or - for stdin)',
  );
  const format = formatOption(values.format);
  refuseJsonlDelimiter(format, values.delimiter);
  const delimiter = delimiterOption(values.delimiter);
  const chunkSize =
    values['chunk-size'] === undefined
      ? null
      : integer(
          '--chunk-size',
          values['chunk-size'],
          DEFAULTS.chunkSize,
          1,
          10_000,
        );
  const scanId = asUsage(
    checkScanId,
    values.scan ?? newScanId(systemClock.now()),
    '--scan',
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  const { runEnqueue } = await import('../run/distributed-scan.js');
  const result = await runEnqueue(
    {
      url,
      prefix,
      input,
      scanId,
      column: values.column ?? null,
      format,
      delimiter,
      chunkSize,
    },
    {
      clock: systemClock,
      stdin: io.stdin,
      warn: (line) => io.stderr.write(`exoscope: ${line}\n`),
    },
  );
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
}
