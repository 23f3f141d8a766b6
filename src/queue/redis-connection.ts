import { Redis } from 'ioredis';
import { QueueError } from './queue-error.js';
import { redactSecrets, redactUrl } from './redis-url.js';

/** How long the first connection (TCP, handshake, PING) may take. Default 5 s. */
export const CONNECT_TIMEOUT_MS = 5000;

export interface ConnectOptions {
  /**
   * `command`: a short-lived command's connection (enqueue, status, collect):
   * a request fails after a few reconnection tries instead of waiting forever.
   * `worker`: a long-lived worker's connection, as BullMQ requires it for its
   * blocking commands (`maxRetriesPerRequest: null`): it rides out a Redis
   * restart.
   */
  role: 'command' | 'worker';
  /** Deadline of the first connection. Default {@link CONNECT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Where connection errors after the first are reported (redacted). */
  onError?: (message: string) => void;
  /** Called when the connection is ready again after a drop. */
  onReconnect?: () => void;
}

/**
 * Opens a Redis connection and proves it with a PING within a few seconds,
 * or throws `EXO_REDIS_UNREACHABLE` with the (redacted) URL and the reason.
 */
export async function connectRedis(
  url: string,
  options: ConnectOptions,
): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  // The first connection gets no second try: an unreachable Redis is one
  // clear error at once. Once connected, reconnect after a drop: a command a
  // few times, a worker for as long as it runs.
  let connected = false;
  const common = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    connectionName: 'exoscope',
    // ioredis keeps a 2 s timer after a failed connection, holding the
    // process open; a closing socket needs far less
    disconnectTimeout: 200,
  } as const;
  const redis =
    options.role === 'worker'
      ? new Redis(url, {
          ...common,
          maxRetriesPerRequest: null,
          retryStrategy: (times) =>
            connected ? Math.min(200 * 2 ** Math.min(times, 5), 5000) : null,
        })
      : new Redis(url, {
          ...common,
          maxRetriesPerRequest: 2,
          retryStrategy: (times) =>
            connected && times <= 5 ? Math.min(times * 200, 1000) : null,
        });
  let lastError: Error | null = null;
  redis.on('error', (err: Error) => {
    lastError = err;
    if (connected) options.onError?.(redactSecrets(err.message, url));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
    connected = true;
    let dropped = false;
    redis.on('close', () => (dropped = true));
    redis.on('ready', () => {
      if (dropped) options.onReconnect?.();
      dropped = false;
    });
    return redis;
  } catch (err) {
    redis.disconnect();
    const reason = describe(err, lastError);
    throw new QueueError(
      'EXO_REDIS_UNREACHABLE',
      `cannot reach Redis at ${redactUrl(url)}: ${redactSecrets(reason, url)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown, last: Error | null): string {
  const message = err instanceof Error ? err.message : String(err);
  // ioredis says "Connection is closed." once it gave up; the socket's error says why.
  if (last && /connection is closed|reached the max retries/i.test(message)) {
    return last.message || message;
  }
  return message;
}

/** Socket-level errors of a connection to Redis (it dropped, or is not there). */
const CONNECTION_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
]);

/** Whether `err` says the connection to Redis broke, not what a command did. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (
    (code !== undefined && CONNECTION_ERRORS.has(code)) ||
    /^Connection is closed|max retries per request/i.test(err.message)
  );
}

/** Closes a connection politely, or drops it when Redis is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([
      redis.quit(),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
  } catch {
    // already closing or closed
  }
  redis.disconnect();
}
