import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import {
  DEFAULT_IN_FLIGHT,
  DNS_CLIENTS,
  MAX_IN_FLIGHT,
  isDnsClient,
} from '../run/deps.js';
import type { DnsClient, ProbeSettings, ResolverOrigin } from '../run/deps.js';
import { parseAllowedRange } from '../core/address-policy.js';
import {
  ResolverConfigError,
  parseServer,
} from '../adapters/node-dns-resolver.js';
import type { Delimiter } from '../adapters/csv-source.js';
import { checkPrefix, checkScanId } from '../queue/scan-keys.js';
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

/** Options shared by every command that resolves DNS. */
export interface DnsOptions {
  /** Resolver addresses (`ip[:port]`); default: the system's, or EXOSCOPE_RESOLVERS. */
  resolvers: string[];
  /** Where `resolvers` came from, for the message when none answers. */
  resolverOrigin: ResolverOrigin;
  /** Domains scanned at the same time. Default 200. */
  concurrency: number;
  /** DNS queries per second for the whole run; 0 = unlimited. Default 0. */
  rate: number;
  /** Per-query deadline in ms, enforced by exoscope. Default 2000. */
  timeoutMs: number;
  /** Extra tries per query, each on the next resolver. Default 2. */
  retries: number;
  /** Where MX address owners come from. Default `packaged`. */
  asnSource: 'packaged' | 'cymru' | 'none';
  /** A user's own IP-to-ASN file (CSV or iptoasn TSV, optionally .gz). */
  asnDb: string | null;
  /** DNS client (see {@link DnsClient}). Default `auto`. */
  dnsClient: DnsClient;
  /**
   * Most DNS queries in flight to each resolver, per thread or worker.
   * Default: `concurrency`, at least 200.
   */
  inFlight: number;
  /** The HTTPS probe of candidate Exchange hosts; null (the default) = off. */
  probe: ProbeSettings | null;
}

export interface ScanOptions extends DnsOptions {
  /** Input path, or `-` for stdin. */
  input: string;
  /** Output path; null or `-` for stdout. */
  output: string | null;
  format: 'csv' | 'jsonl';
  /** Name of the domain column; default: found by name. */
  column: string | null;
  /** CSV output field delimiter; null: the input's. */
  delimiter: Delimiter | null;
  /** Overwrite an existing output file. */
  force: boolean;
  /** Progress line on stderr: auto = when stderr is a terminal. */
  progress: 'auto' | 'always' | 'never';
  /** Print no summary. */
  quiet: boolean;
  /**
   * Worker threads scanning in parallel (each with its own resolvers, cache
   * and ASN table); 1 scans on the main thread. Default 1.
   */
  threads: number;
}

export const DNS_DEFAULTS = {
  concurrency: 200,
  rate: 0,
  timeoutMs: 2000,
  retries: 2,
} as const;

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

/** Defaults of the `--probe-*` options. */
export const PROBE_DEFAULTS = {
  port: 443,
  timeoutMs: 5000,
  concurrency: 16,
} as const;

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
} as const satisfies ParseArgsConfig['options'];

/** `scan` flags that mean something only with `--redis`. */
const REDIS_ONLY = ['workers', 'chunk-size', 'scan', 'prefix'] as const;

export type ScanArgs =
  | { help: true }
  | {
      help: false;
      options: ScanOptions;
      redis: string | null;
      /** Options of the distributed mode (`--redis`). */
      distributed: {
        workers: number;
        chunkSize: number;
        scanId: string | undefined;
        prefix: string | undefined;
      };
    };

/** Parses `exoscope scan ...` arguments into fully resolved options. */
export function parseScanArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
): ScanArgs {
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
  return {
    help: false,
    redis: values.redis ?? null,
    distributed: {
      workers: integer('--workers', values.workers, 2, 1, 64),
      chunkSize: integer('--chunk-size', values['chunk-size'], 100, 1, 10_000),
      scanId:
        values.scan === undefined
          ? undefined
          : asUsage(checkScanId, values.scan, '--scan'),
      prefix:
        values.prefix === undefined
          ? undefined
          : asUsage(checkPrefix, values.prefix, '--prefix'),
    },
    options: {
      ...dnsOptions(values, env),
      input: positionals[0] as string,
      output:
        values.output === undefined || values.output === '-'
          ? null
          : values.output,
      format,
      column: values.column ?? null,
      delimiter: delimiterOption(values.delimiter),
      force: values.force ?? false,
      progress: values['no-progress']
        ? 'never'
        : values.progress
          ? 'always'
          : 'auto',
      quiet: values.quiet ?? false,
      threads: integer('--threads', values.threads, 1, 1, 64),
    },
  };
}

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
    DNS_DEFAULTS.concurrency,
    1,
    10_000,
  );
  return {
    dnsClient,
    resolvers,
    resolverOrigin,
    concurrency,
    rate: integer('--rate', values.rate, DNS_DEFAULTS.rate, 0, 10_000_000),
    timeoutMs: integer(
      '--timeout',
      values.timeout,
      DNS_DEFAULTS.timeoutMs,
      50,
      60_000,
    ),
    retries: integer('--retries', values.retries, DNS_DEFAULTS.retries, 0, 10),
    // More domains at once need more queries out at once: a raised
    // --concurrency raises the default with it.
    inFlight: integer(
      '--in-flight',
      values['in-flight'],
      Math.min(MAX_IN_FLIGHT, Math.max(DEFAULT_IN_FLIGHT, concurrency)),
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
      PROBE_DEFAULTS.port,
      1,
      65_535,
    ),
    timeoutMs: integer(
      '--probe-timeout',
      values['probe-timeout'],
      PROBE_DEFAULTS.timeoutMs,
      100,
      120_000,
    ),
    concurrency: integer(
      '--probe-concurrency',
      values['probe-concurrency'],
      PROBE_DEFAULTS.concurrency,
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
