import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { DNS_CLIENTS, MAX_IN_FLIGHT, isDnsClient } from '../run/dns-layout.js';
import type { ProbeSettings, ResolverOrigin } from '../run/deps.js';
import { DEFAULTS } from '../run/defaults.js';
import type { DnsOptions } from '../run/scan-options.js';
import { parseAllowedRange } from '../core/address-policy.js';
import {
  ResolverConfigError,
  parseServer,
} from '../adapters/dns/resolver-options.js';
import type { Delimiter } from '../adapters/csv-input/delimiter.js';
import { checkPrefix } from '../queue/scan-keys.js';
import { safeText } from '../core/untrusted-text.js';
import { parseErrorMessage } from './flag-suggest.js';

/** A mistake in the command line: exit code 2 with a one-line message. */
export class UsageError extends Error {
  readonly code = 'EXO_USAGE';
  override readonly name = 'UsageError';
}

/**
 * Error codes that mean the command line (or the environment standing in for
 * it) is wrong, wherever they are thrown: exit code 2, like a UsageError.
 */
const USAGE_CODES: ReadonlySet<string> = new Set([
  'EXO_USAGE',
  'EXO_SCAN_ID',
  'EXO_BAD_RESOLVER',
  'EXO_REDIS_URL',
  'EXO_REDIS_MISSING',
]);

/** Whether `err` is a mistake in the command line (exit code 2). */
export function isUsageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && USAGE_CODES.has(code);
}

export const DNS_OPTION_SPEC = {
  resolver: { type: 'string', multiple: true, short: 'r' },
  concurrency: { type: 'string', short: 'c' },
  rate: { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  'asn-source': { type: 'string' },
  'asn-db': { type: 'string' },
  'dns-client': { type: 'string' },
  'in-flight': { type: 'string' },
  probe: { type: 'boolean' },
  'probe-allow': { type: 'string', multiple: true },
  'probe-port': { type: 'string' },
  'probe-timeout': { type: 'string' },
  'probe-concurrency': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Resolves the DNS options from parsed values, defaults and the environment. */
export function dnsOptions(
  values: {
    resolver?: string[] | undefined;
    concurrency?: string | undefined;
    rate?: string | undefined;
    timeout?: string | undefined;
    retries?: string | undefined;
    'asn-source'?: string | undefined;
    'asn-db'?: string | undefined;
    'dns-client'?: string | undefined;
    'in-flight'?: string | undefined;
    probe?: boolean | undefined;
    'probe-allow'?: string[] | undefined;
    'probe-port'?: string | undefined;
    'probe-timeout'?: string | undefined;
    'probe-concurrency'?: string | undefined;
  },
  env: NodeJS.ProcessEnv,
): DnsOptions {
  const fromEnv = (env.EXOSCOPE_RESOLVERS ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
  const resolverOrigin: ResolverOrigin = values.resolver?.length
    ? 'flag'
    : fromEnv.length
      ? 'env'
      : 'system';
  const resolvers = values.resolver?.length ? values.resolver : fromEnv;
  for (const spec of resolvers) {
    try {
      parseServer(spec);
    } catch (err) {
      if (!(err instanceof ResolverConfigError)) throw err;
      const where =
        resolverOrigin === 'flag' ? '--resolver' : 'EXOSCOPE_RESOLVERS';
      throw new UsageError(
        `${where}: '${safeText(spec, 80)}' is not a resolver address: expected ip, ip:port or [ipv6]:port`,
      );
    }
  }
  if (values['asn-db'] !== undefined && values['asn-source'] !== undefined) {
    throw new UsageError(
      '--asn-db takes the place of --asn-source: give one of them',
    );
  }
  const asnSource = values['asn-source'] ?? 'packaged';
  if (
    asnSource !== 'packaged' &&
    asnSource !== 'cymru' &&
    asnSource !== 'none'
  ) {
    throw new UsageError(
      `--asn-source must be packaged, cymru or none, got '${asnSource}'`,
    );
  }
  const dnsClient = values['dns-client'] ?? 'auto';
  if (!isDnsClient(dnsClient)) {
    throw new UsageError(
      `--dns-client must be one of ${DNS_CLIENTS.join(', ')}, got '${dnsClient}'`,
    );
  }
  const concurrency = integer(
    '--concurrency',
    values.concurrency,
    DEFAULTS.concurrency,
    1,
    10_000,
  );
  return {
    dnsClient,
    resolvers,
    resolverOrigin,
    concurrency,
    rate: integer('--rate', values.rate, DEFAULTS.rate, 0, 10_000_000),
    timeoutMs: integer(
      '--timeout',
      values.timeout,
      DEFAULTS.timeoutMs,
      50,
      60_000,
    ),
    retries: integer('--retries', values.retries, DEFAULTS.retries, 0, 10),
    // More domains at once need more queries out at once: a raised
    // --concurrency raises the default with it.
    inFlight: integer(
      '--in-flight',
      values['in-flight'],
      Math.min(MAX_IN_FLIGHT, Math.max(DEFAULTS.inFlight, concurrency)),
      1,
      MAX_IN_FLIGHT,
    ),
    asnSource,
    asnDb: values['asn-db'] ?? null,
    probe: probeSettings(values),
  };
}

/**
 * The probe's settings, or null without `--probe`. A `--probe-*` option
 * without `--probe` is a mistake (it would silently do nothing).
 */
function probeSettings(values: {
  probe?: boolean | undefined;
  'probe-allow'?: string[] | undefined;
  'probe-port'?: string | undefined;
  'probe-timeout'?: string | undefined;
  'probe-concurrency'?: string | undefined;
}): ProbeSettings | null {
  if (!values.probe) {
    const stray = (
      [
        'probe-allow',
        'probe-port',
        'probe-timeout',
        'probe-concurrency',
      ] as const
    ).find((k) => values[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --probe`);
    return null;
  }
  const allow = values['probe-allow'] ?? [];
  for (const cidr of allow) {
    if (parseAllowedRange(cidr) === null) {
      throw new UsageError(
        `--probe-allow takes an address range (CIDR, e.g. 10.0.0.0/8) or an address, got '${cidr}'`,
      );
    }
  }
  return {
    allow,
    port: integer(
      '--probe-port',
      values['probe-port'],
      DEFAULTS.probePort,
      1,
      65_535,
    ),
    timeoutMs: integer(
      '--probe-timeout',
      values['probe-timeout'],
      DEFAULTS.probeTimeoutMs,
      100,
      120_000,
    ),
    concurrency: integer(
      '--probe-concurrency',
      values['probe-concurrency'],
      DEFAULTS.probeConcurrency,
      1,
      1000,
    ),
  };
}

/**
 * Parses with node:util, turning its errors into one-line usage errors that
 * name the flag, the closest valid one and `command`'s help.
 */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  command: string,
) {
  try {
    return parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(parseErrorMessage(err, argv, options, command));
  }
}

/**
 * Runs a check of a flag's value; its error becomes a usage error (exit 2),
 * naming `flag` when given.
 */
export function asUsage<T>(
  check: (value: string) => T,
  value: string,
  flag?: string,
): T {
  try {
    return check(value);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(flag ? `${flag}: ${message}` : message);
  }
}

/** `--delimiter`: `,`, `;` or tab (`tab` or `\t`); null when not given. */
export function delimiterOption(raw: string | undefined): Delimiter | null {
  if (raw === undefined) return null;
  const named: Record<string, Delimiter> = {
    ',': ',',
    comma: ',',
    ';': ';',
    semicolon: ';',
    '\t': '\t',
    '\\t': '\t',
    tab: '\t',
  };
  const delimiter = named[raw.toLowerCase()];
  if (delimiter === undefined) {
    throw new UsageError(
      `--delimiter must be ',', ';' or tab, got '${safeText(raw, 20)}'`,
    );
  }
  return delimiter;
}

/** An integer option within [min, max], named in the error. */
export function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (
    !/^\d+$/.test(raw.trim()) ||
    !Number.isSafeInteger(n) ||
    n < min ||
    n > max
  ) {
    throw new UsageError(
      `${name} must be a whole number from ${min} to ${max}, got '${raw}'`,
    );
  }
  return n;
}

/** The options of every command that talks to Redis. */
export const REDIS_OPTION_SPEC = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The Redis part of the help of every command that talks to Redis. */
export const REDIS_HELP = `Redis:
      --redis URL        redis://[user:password@]host[:port][/db] (default:
                         REDIS_URL); the password is never printed
      --prefix P         key prefix (default: EXOSCOPE_PREFIX, or ${DEFAULTS.prefix})`;

/** `--prefix`, else EXOSCOPE_PREFIX, else the default; checked. */
export function prefixOption(
  raw: string | undefined,
  env: NodeJS.ProcessEnv,
): string {
  return asUsage(checkPrefix, raw ?? env.EXOSCOPE_PREFIX ?? DEFAULTS.prefix);
}

/** The one argument of `command` (`what` names it in the error). */
export function onePositional(
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

/** A delimiter given for JSONL output, where it would do nothing. */
export function refuseJsonlDelimiter(
  format: 'csv' | 'jsonl' | null,
  delimiter: string | undefined,
): void {
  if (format === 'jsonl' && delimiter !== undefined) {
    throw new UsageError(
      '--delimiter works only with CSV output, not with --format jsonl',
    );
  }
}

/** `--force` without an output file, where it would do nothing. */
export function refuseForceToStdout(
  force: boolean | undefined,
  output: string | null,
): void {
  if (force && output === null) {
    throw new UsageError(
      '--force works only with --output FILE (it replaces an existing file)',
    );
  }
}

/** `--format`: csv or jsonl; null when not given. */
export function formatOption(raw: string | undefined): 'csv' | 'jsonl' | null {
  if (raw === undefined) return null;
  if (raw !== 'csv' && raw !== 'jsonl') {
    throw new UsageError(`--format must be csv or jsonl, got '${raw}'`);
  }
  return raw;
}

/** `--progress` / `--no-progress`: auto = on a terminal only. */
export function progressOption(values: {
  progress?: boolean | undefined;
  'no-progress'?: boolean | undefined;
}): 'auto' | 'always' | 'never' {
  if (values.progress && values['no-progress']) {
    throw new UsageError(
      '--progress and --no-progress contradict each other: give one of them',
    );
  }
  return values['no-progress'] ? 'never' : values.progress ? 'always' : 'auto';
}

/** Whether the progress line shows, on `stderr`. */
export function showsProgress(
  progress: 'auto' | 'always' | 'never',
  stderr: NodeJS.WriteStream,
): boolean {
  return (
    progress === 'always' || (progress === 'auto' && stderr.isTTY === true)
  );
}
