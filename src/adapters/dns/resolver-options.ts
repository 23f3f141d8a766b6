/**
 * The options both DNS clients take, checked in one place: server specs
 * (`ip`, `ip:port`, `[ipv6]:port`) normalised, numbers and choices in range,
 * and the one error a configuration that cannot work throws.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A resolver configuration that cannot work: a bad server spec or option. */
export class ResolverConfigError extends Error {
  readonly code = 'EXO_BAD_RESOLVER' as const;

  constructor(message: string) {
    super(message);
    this.name = 'ResolverConfigError';
  }
}

const DEFAULT_PORT = 53;
const MAX_INTEGER = 2 ** 31 - 1;

/**
 * Validates a server spec and normalises it to `ip:port` or `[ipv6]:port`
 * (port 53 when absent). Accepts `ip`, `ip:port`, `ipv6`, `[ipv6]` and
 * `[ipv6]:port`.
 *
 * @throws ResolverConfigError (`EXO_BAD_RESOLVER`) when it is not one of those.
 */
export function parseServer(spec: string): string {
  const s = typeof spec === 'string' ? spec.trim() : '';
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2];
    if (!isIPv6(host)) throw badServer(spec);
  } else if (isIPv6(s)) {
    host = s;
  } else {
    const colon = s.lastIndexOf(':');
    host = colon === -1 ? s : s.slice(0, colon);
    port = colon === -1 ? undefined : s.slice(colon + 1);
    if (!isIPv4(host)) throw badServer(spec);
  }
  let portNumber = DEFAULT_PORT;
  if (port !== undefined) {
    portNumber = /^\d{1,5}$/.test(port) ? Number(port) : 0;
    if (portNumber < 1 || portNumber > 65535) throw badServer(spec);
  }
  return isIPv6(host)
    ? `[${host.toLowerCase()}]:${portNumber}`
    : `${host}:${portNumber}`;
}

function badServer(spec: unknown): ResolverConfigError {
  return new ResolverConfigError(
    `Bad DNS server ${JSON.stringify(spec)}: expected ip, ip:port or [ipv6]:port`,
  );
}

/**
 * `options.servers` normalised by {@link parseServer}, frozen, in the order
 * given (the rotation order).
 *
 * @throws ResolverConfigError (`EXO_BAD_RESOLVER`) when it lists no server or a bad one.
 */
export function serversOption(servers: unknown): readonly string[] {
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new ResolverConfigError(
      'options.servers must list at least one server',
    );
  }
  return Object.freeze(servers.map(parseServer));
}

/**
 * `options[name]`: `fallback` when absent, else an integer from `min` to
 * `max`.
 *
 * @throws ResolverConfigError (`EXO_BAD_RESOLVER`) naming the option otherwise.
 */
export function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = MAX_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ResolverConfigError(
      `options.${name} must be an integer from ${min} to ${max} (got ${String(value)})`,
    );
  }
  return value;
}

/**
 * `options[name]`: `fallback` when absent, else one of `choices`.
 *
 * @throws ResolverConfigError (`EXO_BAD_RESOLVER`) naming the option otherwise.
 */
export function choiceOption<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((choices as readonly unknown[]).includes(value)) return value as T;
  const listed = `${choices.slice(0, -1).join(', ')} or ${String(choices.at(-1))}`;
  throw new ResolverConfigError(
    `options.${name} must be ${listed} (got ${String(value)})`,
  );
}
