/**
 * Shared pieces of the robustness suite (issue #5): the built CLI spawned as
 * a user runs it, with live access to the child (signals, memory, stdin),
 * record builders for the fake DNS server, and checks on the CSV written.
 */
import { execFileSync, spawn } from 'node:child_process';
import type {
  ChildProcess,
  ChildProcessWithoutNullStreams,
} from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { CLI } from '../helpers/bench-fixture.js';
import type { FakeDnsServer, FakeRecord } from '../helpers/dns-server.js';
import type { CliRun } from '../helpers/run-cli.js';

export type { CliRun };

/** A spreadsheet formula start (OWASP): what no written cell may begin with. */
export const FORMULA_START = /^[=+\-@\t\r]/;

export const mx = (
  name: string,
  exchange: string,
  preference = 10,
): FakeRecord => ({ name, type: 'MX', data: { preference, exchange } });
export const a = (name: string, ip: string): FakeRecord => ({
  name,
  type: 'A',
  data: ip,
});
export const cname = (name: string, target: string): FakeRecord => ({
  name,
  type: 'CNAME',
  data: target,
});
export const txt = (name: string, data: string | string[]): FakeRecord => ({
  name,
  type: 'TXT',
  data,
});

/** A fresh temporary directory, removed by the returned function. */
/** The CLI's DNS options for a fake server, without IP owner lookups. */
export const dnsArgs = (server: FakeDnsServer): string[] => [
  '--resolver',
  server.address,
  '--asn-source',
  'none',
];

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `exoscope-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running CLI child whose output can be watched while it runs. */
export interface LiveCli {
  child: ChildProcessWithoutNullStreams;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the child has exited and its output is closed. */
  done: Promise<CliRun>;
}

/**
 * Spawns the built CLI. stdin stays open (write to `child.stdin`, or pass
 * `stdin` to write it and close). The child is killed after `timeoutMs`.
 */
export function startCli(
  args: string[],
  options: {
    stdin?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    uid?: number;
    gid?: number;
  } = {},
): LiveCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A child that is killed may leave its stdin pipe broken.
  child.stdin.on('error', () => undefined);
  const done = exited(child, options.timeoutMs ?? 120_000, () => ({
    stdout,
    stderr,
  }));
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Settles when `child` has exited (killed after `timeoutMs`), with its output. */
function exited(
  child: ChildProcess,
  timeoutMs: number,
  output: () => { stdout: string; stderr: string },
): Promise<CliRun> {
  return new Promise<CliRun>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output() });
    });
  });
}

/** Runs the built CLI to its end (stdin closed, empty unless given). */
export function runCli(
  args: string[],
  options: Parameters<typeof startCli>[1] = {},
): Promise<CliRun> {
  return startCli(args, { stdin: '', ...options }).done;
}

/**
 * Polls until `check` holds; fails with `what` if the child ends first or
 * after `timeoutMs` (a safety net, not a timing assertion).
 */
export async function waitFor(
  check: () => boolean,
  what: string,
  cli?: LiveCli,
  timeoutMs = 60_000,
): Promise<void> {
  let ended = false;
  void cli?.done.then(() => (ended = true));
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (ended) {
      throw new Error(
        `the CLI ended before ${what}:\n${cli?.stderr() ?? ''}`.trim(),
      );
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The resident set size of a process in bytes, or null once it has gone. */
export function residentBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** A written CSV read back as records keyed by the header. */
export function readCsv(
  text: string | Buffer,
  delimiter = ',',
): Record<string, string>[] {
  return parse(text, { columns: true, bom: true, delimiter }) as Record<
    string,
    string
  >[];
}

/** The CSV read back as rows of cells, header first. */
export function readCsvCells(text: string | Buffer): string[][] {
  return parse(text, { bom: true, relax_column_count: true }) as string[][];
}

/** Asserts that no cell of a written CSV (header included) can start a formula. */
export function expectNoFormula(text: string | Buffer): void {
  for (const row of readCsvCells(text)) {
    for (const cell of row) expect(cell).not.toMatch(FORMULA_START);
  }
}

/** A failure as a user sees it: the exit code and one line on stderr, no stack. */
export function expectOneLineError(
  run: CliRun,
  code: number,
  message: RegExp,
): void {
  expect(run.stderr).toMatch(message);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at |Error:|node:internal/);
  expect(run.code).toBe(code);
}

/** Names the fake server was asked about, lower-case, in arrival order. */
export function askedNames(server: FakeDnsServer): string[] {
  return server.queries.map((q) => q.name.toLowerCase());
}

/** Files in `dir` whose name looks like exoscope's temporary output. */
export function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^\..*\.tmp$/.test(name));
}

/**
 * Runs the built CLI with its stdout going to `path` opened for writing
 * (`/dev/full`, a file), stdin closed; only stderr is captured.
 */
export function runCliToFile(
  args: string[],
  path: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  const fd = openSync(path, 'w');
  try {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', fd, 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    return exited(child, options.timeoutMs ?? 60_000, () => ({
      stdout: '',
      stderr,
    }));
  } finally {
    closeSync(fd);
  }
}

/** A raw BEL or ESC: what must never reach a terminal from a name. */
// eslint-disable-next-line no-control-regex
export const RAW_CONTROL = /[\x07\x1b]/;

/**
 * A tmpfs of `size` mounted on a fresh directory: a file system that fills
 * up. Null when mounting is not allowed (not root); `/dev/full` then stands
 * in for a full disk.
 */
export function smallTmpfs(
  size = '16k',
): { dir: string; remove(): void } | null {
  const { dir, remove } = tempDir('tmpfs');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  } catch {
    remove();
    return null;
  }
  return {
    dir,
    remove() {
      execFileSync('umount', [dir]);
      remove();
    },
  };
}
