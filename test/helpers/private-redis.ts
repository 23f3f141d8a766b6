/**
 * A private `redis-server` for the queue tests that change Redis itself: its
 * own ephemeral port and data directory, settings the shared test Redis must
 * not get (maxmemory, a password, another eviction policy), flushed, stopped
 * and restarted at will.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

export interface PrivateRedis {
  port: number;
  /** `redis://[:password@]127.0.0.1:port`. */
  url: string;
  /** A client (no retries while Redis is down: commands fail at once). */
  client(): Redis;
  /** Kills the server with SIGKILL (no save); the append-only file keeps the data. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /** Kills it for good and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on a free port with an append-only file fsynced on
 * every write, so that a SIGKILL and a restart keep every key. `config` adds
 * settings, e.g. `['--maxmemory', '2mb']`.
 */
export async function startPrivateRedis(
  config: string[] = [],
  password?: string,
): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'exoscope-redis-'));
  const port = await freePort();
  const auth = password === undefined ? '' : `:${password}@`;
  const url = `redis://${auth}127.0.0.1:${port}`;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    ...(password === undefined ? [] : ['--requirepass', password]),
    ...config,
  ];
  let child: ChildProcess | null = null;
  const clients: Redis[] = [];

  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let log = '';
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => (log += d));
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start:\n${log}`)),
        20_000,
      );
      const check = (): void => {
        if (/Ready to accept connections/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', check);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${log}`));
      });
    });
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    port,
    url,
    client() {
      const redis = new Redis(url, {
        maxRetriesPerRequest: 1,
        retryStrategy: () => 200,
      });
      redis.on('error', () => undefined);
      clients.push(redis);
      return redis;
    },
    kill,
    restart: launch,
    async stop() {
      for (const c of clients.splice(0)) c.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
