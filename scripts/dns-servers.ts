#!/usr/bin/env node
/**
 * Serves a generated portfolio (scripts/portfolio/generate.ts) on loopback:
 * Knot as the authoritative server for every zone of zones.list and,
 * optionally, Unbound as a caching recursor in front of it that asks
 * nothing but Knot. Configs, PID files and logs live in `<dir>/run`; the
 * servers run detached, so `stop` (or stopDnsServers) ends them by PID.
 *
 *   node dist/scripts/dns-servers.js start DIR --port 5353 [--recursor-port 5354]
 *   node dist/scripts/dns-servers.js stop DIR
 *
 * Knot answers like a real authoritative server: a CNAME into another zone
 * is not followed, a CNAME loop comes back as is, a name in no served zone
 * is REFUSED. Unbound follows CNAMEs across zones and turns the loop and
 * the REFUSED into SERVFAIL, as a resolver in production does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as dns } from 'node:dns';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { runAsScript } from './run-as-script.js';

export interface DnsServersOptions {
  /** The portfolio directory (zones.list, zones/). */
  dir: string;
  /** Knot's port on `address`, UDP and TCP. */
  port: number;
  /** Unbound's port; none when absent. */
  recursorPort?: number;
  /** A 127.0.0.0/8 address (default 127.0.0.1). */
  address?: string;
  /** Server threads (default: cores - 1, at least 1: a core stays with the client). */
  workers?: number;
  /** Seconds to wait for every zone to answer (default 180). */
  startTimeoutS?: number;
}

export interface DnsServers {
  /** `address:port` of Knot. */
  authoritative: string;
  /** `address:port` of Unbound, or null. */
  recursor: string | null;
  authPid: number;
  recursorPid: number | null;
  stop(): Promise<void>;
}

export class DnsServersError extends Error {
  constructor(
    readonly code:
      'missing-binary' | 'not-loopback' | 'no-zones' | 'start-failed',
    message: string,
  ) {
    super(message);
    this.name = 'DnsServersError';
  }
}

const runDir = (dir: string): string => join(dir, 'run');

function onPath(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
}

function zoneList(dir: string): string[][] {
  const file = join(dir, 'zones.list');
  if (!existsSync(file)) {
    throw new DnsServersError(
      'no-zones',
      `${file} not found: generate the portfolio first`,
    );
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '));
}

function knotConfig(
  o: Required<Omit<DnsServersOptions, 'recursorPort'>>,
  zones: string[][],
): string {
  const run = runDir(o.dir);
  return [
    '# written by scripts/dns-servers.ts',
    'server:',
    `    rundir: "${run}"`,
    `    pidfile: "${join(run, 'knotd.pid')}"`,
    `    listen: ${o.address}@${o.port}`,
    `    udp-workers: ${o.workers}`,
    `    tcp-workers: ${o.workers}`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'database:',
    `    storage: "${join(run, 'db')}"`,
    'template:',
    '  - id: default',
    `    storage: "${join(o.dir, 'zones')}"`,
    '    semantic-checks: off',
    '    zonefile-sync: -1', // never write the zone files back
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    ...zones.flatMap(([zone, file]) => [
      `  - domain: ${zone}`,
      `    file: ${file}`,
    ]),
    '',
  ].join('\n');
}

function unboundConfig(
  o: {
    dir: string;
    address: string;
    port: number;
    recursorPort: number;
    workers: number;
  },
  zones: string[][],
): string {
  const stub = (zone: string) => [
    'stub-zone:',
    `    name: "${zone}"`,
    `    stub-addr: ${o.address}@${o.port}`,
  ];
  return [
    '# written by scripts/dns-servers.ts',
    'server:',
    `    interface: ${o.address}@${o.recursorPort}`,
    `    port: ${o.recursorPort}`,
    '    do-ip6: no',
    '    access-control: 127.0.0.0/8 allow',
    '    username: ""',
    '    chroot: ""',
    `    directory: "${runDir(o.dir)}"`,
    `    pidfile: "${join(runDir(o.dir), 'unbound.pid')}"`,
    '    use-syslog: no',
    '    logfile: ""',
    '    verbosity: 0',
    `    num-threads: ${o.workers}`,
    '    so-reuseport: yes',
    '    so-rcvbuf: 4m',
    '    so-sndbuf: 4m',
    '    num-queries-per-thread: 4096',
    '    outgoing-range: 8192',
    '    msg-cache-size: 256m',
    '    rrset-cache-size: 512m',
    '    module-config: "iterator"', // unsigned zones: nothing to validate
    '    do-not-query-localhost: no', // Knot on loopback is the only upstream
    '    qname-minimisation: no',
    '    prefetch: no',
    '    minimal-responses: yes',
    // RFC 6761 names are answered locally by default; here Knot serves them
    '    local-zone: "test." nodefault',
    '    local-zone: "invalid." nodefault',
    'remote-control:',
    '    control-enable: no',
    ...zones.flatMap(([zone]) => stub(zone ?? '.')),
    // everything else goes to Knot too (REFUSED there, SERVFAIL here): no
    // query ever leaves the machine
    ...stub('.'),
    '',
  ].join('\n');
}

/** Starts `command` detached, its output in `log`; the PID. */
function daemon(command: string, args: string[], log: string): number {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    if (child.pid === undefined) {
      throw new DnsServersError('start-failed', `could not start ${command}`);
    }
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `server` answers the SOA of every zone, or fails with the log's tail. */
async function waitReady(
  what: string,
  pid: number,
  server: string,
  zones: string[],
  log: string,
  deadline: number,
): Promise<void> {
  const resolver = new dns.Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([server]);
  for (const zone of zones) {
    for (;;) {
      try {
        await resolver.resolveSoa(zone.replace(/\.$/, '') || '.');
        break;
      } catch {
        // not loaded yet
      }
      const tail = () =>
        existsSync(log)
          ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' / ')
          : '';
      if (!alive(pid)) {
        throw new DnsServersError('start-failed', `${what} exited: ${tail()}`);
      }
      if (Date.now() > deadline) {
        throw new DnsServersError(
          'start-failed',
          `${what} did not answer for ${zone} on ${server} in time: ${tail()}`,
        );
      }
      await sleep(200);
    }
  }
}

/** Starts Knot (and Unbound), waits until they answer. */
export async function startDnsServers(
  options: DnsServersOptions,
): Promise<DnsServers> {
  const o = {
    dir: resolve(options.dir),
    port: options.port,
    address: options.address ?? '127.0.0.1',
    workers: options.workers ?? Math.max(1, availableParallelism() - 1),
    startTimeoutS: options.startTimeoutS ?? 180,
  };
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(o.address)) {
    throw new DnsServersError(
      'not-loopback',
      `refusing to listen on ${o.address}: only 127.0.0.0/8`,
    );
  }
  for (const binary of options.recursorPort === undefined
    ? ['knotd']
    : ['knotd', 'unbound']) {
    if (!onPath(binary)) {
      throw new DnsServersError(
        'missing-binary',
        `${binary} not found: install the Debian packages knot and unbound (scripts/test.sh does)`,
      );
    }
  }
  const zones = zoneList(o.dir);
  const run = runDir(o.dir);
  await stopDnsServers(o.dir);
  rmSync(join(run, 'db'), { recursive: true, force: true });
  mkdirSync(join(run, 'db'), { recursive: true });
  const deadline = Date.now() + o.startTimeoutS * 1000;
  const names = zones.map(([zone]) => zone ?? '.');

  writeFileSync(join(run, 'knot.conf'), knotConfig(o, zones));
  const authLog = join(run, 'knot.log');
  const authPid = daemon('knotd', ['-c', join(run, 'knot.conf')], authLog);
  writeFileSync(join(run, 'knot.pid'), `${authPid}\n`);
  const authoritative = `${o.address}:${o.port}`;
  const servers: DnsServers = {
    authoritative,
    recursor: null,
    authPid,
    recursorPid: null,
    stop: () => stopDnsServers(o.dir),
  };
  try {
    await waitReady('knotd', authPid, authoritative, names, authLog, deadline);
    if (options.recursorPort !== undefined) {
      const conf = join(run, 'unbound.conf');
      writeFileSync(
        conf,
        unboundConfig({ ...o, recursorPort: options.recursorPort }, zones),
      );
      const log = join(run, 'unbound.log');
      const pid = daemon('unbound', ['-d', '-c', conf], log);
      writeFileSync(join(run, 'recursor.pid'), `${pid}\n`);
      servers.recursorPid = pid;
      servers.recursor = `${o.address}:${options.recursorPort}`;
      await waitReady(
        'unbound',
        pid,
        servers.recursor,
        ['test'],
        log,
        deadline,
      );
    }
  } catch (err) {
    await stopDnsServers(o.dir);
    throw err;
  }
  return servers;
}

async function stopPid(file: string): Promise<void> {
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  rmSync(file, { force: true });
  if (!Number.isSafeInteger(pid) || pid <= 1 || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Stops what startDnsServers started for `dir`, by its recorded PIDs. */
export async function stopDnsServers(dir: string): Promise<void> {
  const run = runDir(resolve(dir));
  await stopPid(join(run, 'recursor.pid'));
  await stopPid(join(run, 'knot.pid'));
}

const USAGE = `usage: dns-servers.js start DIR --port P [--recursor-port Q] [--workers N]
       dns-servers.js stop DIR`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'recursor-port': { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, dir] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'stop' && dir) {
    await stopDnsServers(dir);
    return 0;
  }
  const port = Number(values.port);
  if (
    command !== 'start' ||
    !dir ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const recursorPort =
    values['recursor-port'] === undefined
      ? undefined
      : Number(values['recursor-port']);
  const s = await startDnsServers({
    dir,
    port,
    ...(recursorPort === undefined ? {} : { recursorPort }),
    ...(values.workers === undefined
      ? {}
      : { workers: Number(values.workers) }),
  });
  process.stdout.write(`knotd ${s.authoritative} pid ${s.authPid}\n`);
  if (s.recursor)
    process.stdout.write(`unbound ${s.recursor} pid ${s.recursorPid}\n`);
  return 0;
}

runAsScript(import.meta.url, 'dns-servers', main);
