/**
 * The Docker setup (issue #19 "Docker", issue #16 item 11): the compose file
 * is valid (`docker compose config` or docker-compose, which need no engine),
 * Redis gets a maxmemory with noeviction and runs as the image's redis user,
 * the password is on no command line, and the image runs a worker by
 * default. Redis's start script runs here against the local redis-server,
 * on loopback, to show the password never reaches a command line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, waitFor } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { TempDir } from '../helpers/temp-dir.js';

const SECRET = 'c0ffee5ecret4d19';

/** The compose command that works here without an engine, if any. */
function composeCommand(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(cmd[0] as string, [...cmd.slice(1), 'version'], {
      encoding: 'utf8',
    });
    if (probe.status === 0) return cmd;
  }
  return null;
}

const compose = composeCommand();

/** `compose config` on the repository's file, with `env` added. */
function composeConfig(env: NodeJS.ProcessEnv): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const [bin, ...args] = compose as string[];
  const run = spawnSync(
    bin as string,
    [...args, '-f', join(REPO, 'docker-compose.yml'), 'config'],
    {
      encoding: 'utf8',
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe.skipIf(compose === null)(
  `docker-compose.yml (${compose ? compose.join(' ') : 'skipped: neither `docker compose` nor docker-compose is installed'} config)`,
  () => {
    it('is valid, and refuses to start without REDIS_PASSWORD', () => {
      const ok = composeConfig({ REDIS_PASSWORD: SECRET });
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      const missing = composeConfig({});
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain('set REDIS_PASSWORD');
    });

    it('gives Redis a maxmemory with noeviction, its own user, and the password only in the environment', () => {
      const { stdout } = composeConfig({ REDIS_PASSWORD: SECRET });
      expect(stdout).toMatch(/- --maxmemory\n\s+- 1gb\n/);
      expect(stdout).toMatch(/- --maxmemory-policy\n\s+- noeviction\n/);
      expect(stdout).toMatch(/^\s+user: redis$/m);
      expect(stdout).not.toMatch(/requirepass|\s-a\s|sh -c|- -c\n/);
      // The only lines that hold the password are environment variables.
      const holding = stdout.split('\n').filter((l) => l.includes(SECRET));
      expect(holding.length).toBeGreaterThan(0);
      for (const line of holding) {
        expect(line).toMatch(/^\s+(REDIS_PASSWORD|REDISCLI_AUTH|REDIS_URL): /);
      }
      const sized = composeConfig({
        REDIS_PASSWORD: SECRET,
        REDIS_MAXMEMORY: '256mb',
      });
      expect(sized.stdout).toMatch(/- --maxmemory\n\s+- 256mb\n/);
    });
  },
);

describe('the image', () => {
  it('runs `exoscope worker` by default, and any command given instead', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(
      /^ENTRYPOINT \["node", "dist\/src\/cli\/main\.js"\]$/m,
    );
    expect(dockerfile).toMatch(/^CMD \["worker"\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});

describe("Redis's start script (docker/redis-start.sh)", () => {
  let dir: TempDir;
  let redis: Redis | undefined;
  let pid: number | undefined;
  let port: number;

  beforeAll(async () => {
    dir = tempDir();
    port = await freePort();
  });
  afterAll(async () => {
    redis?.disconnect();
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
    dir?.remove();
  });

  it('starts Redis with the password from REDIS_PASSWORD, on no command line', async () => {
    const child = spawn(
      'sh',
      [
        join(REPO, 'docker/redis-start.sh'),
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'noeviction',
      ],
      {
        cwd: dir.path,
        env: { PATH: process.env.PATH, REDIS_PASSWORD: SECRET },
        stdio: 'ignore',
      },
    );
    pid = child.pid;
    const ping = (env: NodeJS.ProcessEnv = {}): string =>
      spawnSync('redis-cli', ['-p', String(port), 'ping'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, ...env },
      }).stdout;
    await waitFor(
      () => /NOAUTH|PONG/.test(ping()),
      'Redis to start',
      undefined,
      20_000,
    );
    expect(ping()).toMatch(/NOAUTH/);
    expect(ping({ REDISCLI_AUTH: SECRET }).trim()).toBe('PONG');
    redis = new Redis({ port, host: '127.0.0.1', password: SECRET });
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
    // exec: the shell became redis-server, and no process's argv holds the
    // password.
    const own = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    expect(own).toMatch(/^redis-server/);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let argv: string;
      try {
        argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      expect(argv).not.toContain(SECRET);
    }
  });

  it('refuses a password that would need quoting', () => {
    const run = spawnSync('sh', [join(REPO, 'docker/redis-start.sh')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, REDIS_PASSWORD: 'a b"c' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('may hold only letters, digits');
  });
});
