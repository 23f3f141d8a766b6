/** `exoscope status`: its options, its help, and what it prints. */
import { systemClock } from '../adapters/system-clock.js';
import { resolveRedisUrl } from '../queue/redis-url.js';
import { checkScanId } from '../queue/scan-keys.js';
import { formatStatus } from '../queue/scan-status.js';
import {
  REDIS_HELP,
  REDIS_OPTION_SPEC,
  asUsage,
  onePositional,
  parse,
  prefixOption,
} from './options.js';
import type { ScanIo } from './scan-command.js';

const STATUS_SPEC = {
  ...REDIS_OPTION_SPEC,
  json: { type: 'boolean' },
} as const;

/** `exoscope status --help`. */
export const STATUS_HELP = `Usage: exoscope status <scan> [--json]

Rows total / done / failed, rate and ETA of a scan, and the queue's job
counts. Cheap: safe to run in a loop while the scan runs.

      --json             one JSON object instead of text

${REDIS_HELP}
`;

/** `exoscope status ...`; returns the exit code. */
export async function statusCommand(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parse(argv, STATUS_SPEC, 'status');
  if (values.help) {
    io.stdout.write(STATUS_HELP);
    return 0;
  }
  const scanId = asUsage(
    checkScanId,
    onePositional(positionals, 'status', 'a scan id'),
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  const { readStatus } = await import('../run/distributed-scan.js');
  const { status, now } = await readStatus(
    { url, prefix, scanId },
    { clock: systemClock },
  );
  io.stdout.write(
    values.json ? `${JSON.stringify(status)}\n` : formatStatus(status, now),
  );
  return 0;
}
