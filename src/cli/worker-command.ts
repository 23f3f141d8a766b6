/** `exoscope worker`: its options, its help, and what it prints. */
import { systemClock } from '../adapters/system-clock.js';
import { redactUrl, resolveRedisUrl } from '../queue/redis-url.js';
import { DEFAULTS } from '../run/defaults.js';
import { StopSignal } from '../run/stop-signal.js';
import {
  DNS_OPTION_SPEC,
  REDIS_HELP,
  REDIS_OPTION_SPEC,
  UsageError,
  dnsOptions,
  integer,
  parse,
  prefixOption,
} from './options.js';
import type { ScanIo } from './scan-command.js';

const WORKER_SPEC = {
  ...REDIS_OPTION_SPEC,
  ...DNS_OPTION_SPEC,
  jobs: { type: 'string', short: 'j' },
  'rate-domains': { type: 'string' },
  'chunk-size': { type: 'string' },
  'lock-ms': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** `exoscope worker --help`. */
export const WORKER_HELP = `Usage: exoscope worker [options]

Scans chunks from the queue until SIGINT/SIGTERM, then finishes the chunks it
holds and exits 0 (a second signal gives them up: other workers redo them).
Start as many as you like, on any machines; a killed worker loses nothing.

  -j, --jobs N           chunk jobs at once in this worker (default ${DEFAULTS.jobs}); more
                         while its --concurrency has room (chunks waiting for
                         domains whose servers do not answer), up to 20 000
                         rows in its jobs
      --rate-domains N   domains per second for ALL workers together (BullMQ's
                         limiter in Redis: one chunk starts every
                         chunk-size/N s; a chunk's domains then go out at the
                         worker's --concurrency); 0 = no limit (default ${DEFAULTS.rateDomains}).
                         Give every worker the same value.
      --chunk-size N     the chunk size --rate-domains assumes (default
                         ${DEFAULTS.chunkSize}, enqueue's default)
      --lock-ms MS       job lock; a killed worker's chunks come back after
                         1-2 x this (default ${DEFAULTS.lockMs}; env EXOSCOPE_LOCK_MS)
  -q, --quiet            log only problems

DNS (per worker, as for scan):
  -r, --resolver ADDR[:PORT]  resolver to ask (repeatable; default: the
                         system's, or EXOSCOPE_RESOLVERS)
  -c, --concurrency N    domains scanned at once by this worker (default ${DEFAULTS.concurrency})
      --rate QPS         DNS queries per second of this worker; 0 = unlimited
      --timeout MS       deadline of one query try (default ${DEFAULTS.timeoutMs})
      --retries N        extra tries per query (default ${DEFAULTS.retries})
      --dns-client C     auto (default), udp, tcp or cares, as for scan
      --in-flight N      queries in flight to each resolver (default:
                         --concurrency, at least ${DEFAULTS.inFlight}), as for scan
      --asn-source SRC   packaged (default), cymru or none
      --asn-db FILE      your own IP-to-ASN dataset

Exchange server probe (per worker; see docs/probe.md):
      --probe            probe candidate Exchange hosts over HTTPS, as for scan
      --probe-allow CIDR, --probe-port PORT, --probe-timeout MS,
      --probe-concurrency N  as for scan

${REDIS_HELP}
`;

/** `exoscope worker ...`; returns the exit code. */
export async function workerCommand(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
  /** The worker could not close (see workers/scan-worker.ts). */
  abandoned: () => void,
): Promise<number> {
  const { values, positionals } = parse(argv, WORKER_SPEC, 'worker');
  if (values.help) {
    io.stdout.write(WORKER_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `worker takes no arguments, got: ${positionals.join(' ')}`,
    );
  }
  const dns = dnsOptions(values, env);
  const jobs = integer('--jobs', values.jobs, DEFAULTS.jobs, 1, 1000);
  const rateDomains = integer(
    '--rate-domains',
    values['rate-domains'],
    DEFAULTS.rateDomains,
    0,
    10_000_000,
  );
  const chunkSize = integer(
    '--chunk-size',
    values['chunk-size'],
    DEFAULTS.chunkSize,
    1,
    10_000,
  );
  if (values['chunk-size'] !== undefined && rateDomains === 0) {
    throw new UsageError(
      '--chunk-size works only with --rate-domains N (it is the chunk size the rate assumes); see exoscope worker --help',
    );
  }
  const lockMs = integer(
    '--lock-ms',
    values['lock-ms'] ?? env.EXOSCOPE_LOCK_MS,
    DEFAULTS.lockMs,
    500,
    3_600_000,
  );
  const prefix = prefixOption(values.prefix, env);
  const url = resolveRedisUrl(values.redis, env);
  const quiet = values.quiet ?? false;
  // Lines come redacted from the worker.
  const log = (line: string): void => {
    io.stderr.write(`exoscope worker ${process.pid}: ${line}\n`);
  };
  const stop = new StopSignal();
  try {
    const { runWorker } = await import('../run/distributed-scan.js');
    const result = await runWorker(
      { url, prefix, dns, jobs, rateDomains, chunkSize, lockMs },
      {
        clock: systemClock,
        stop,
        abandoned,
        events: {
          log,
          ready: (resolvers) => {
            if (quiet) return;
            log(
              `ready: ${redactUrl(url)} queue ${prefix}:chunks, ${jobs} jobs x ${dns.concurrency} domains, resolvers ${resolvers.join(', ')}${rateDomains > 0 ? `, ${rateDomains} domains/s for all workers` : ''}`,
            );
          },
          stopping: (signal, active) =>
            log(
              `${signal}: finishing ${active} active chunk(s); again to give them up`,
            ),
          givingUp: (signal) =>
            log(
              `${signal}: giving up the active chunks (other workers will redo them)`,
            ),
        },
      },
    );
    if (!quiet || result.code !== 0) {
      log(
        `stopped: ${result.chunks} chunks (${result.rows} rows) scanned here`,
      );
    }
    return result.code;
  } finally {
    stop.dispose();
  }
}
