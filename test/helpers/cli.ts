/**
 * The built CLI spawned as a user runs it: to its end (`runCli`), live with
 * access to the child (`startCli`: signals, memory, stdin, output so far), or
 * with its stdout going to a file (`runCliToFile`).
 */
import { spawn } from 'node:child_process';
import type {
  ChildProcess,
  ChildProcessWithoutNullStreams,
} from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
/** The built CLI (EXOSCOPE_TEST_CLI overrides, for a stand-in entry point). */
export const CLI =
  process.env.EXOSCOPE_TEST_CLI ?? join(REPO, 'dist/src/cli/main.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to stdin, which is then closed; absent: stdin stays open (`startCli`). */
  stdin?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** The child is killed with SIGKILL after this long. Default 120 s. */
  timeoutMs?: number;
  uid?: number;
  gid?: number;
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
export function startCli(args: string[], options: CliOptions = {}): LiveCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO,
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

/** Runs the built CLI to its end (stdin closed, empty unless given). */
export function runCli(
  args: string[],
  options: CliOptions = {},
): Promise<CliRun> {
  return startCli(args, { stdin: '', ...options }).done;
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
      cwd: REPO,
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

/** Settles when `child` has exited (killed after `timeoutMs`), with its output. */
function exited(
  child: ChildProcess,
  timeoutMs: number,
  output: () => { stdout: string; stderr: string },
): Promise<CliRun> {
  return new Promise<CliRun>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    // 'close', not 'exit': only then has all of stdout and stderr been read
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output() });
    });
  });
}

/**
 * Polls until `check` holds; fails with `what` if `cli` ends first or after
 * `timeoutMs` (a safety net, not a timing assertion).
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  cli?: LiveCli,
  timeoutMs = 60_000,
): Promise<void> {
  let ended = false;
  void cli?.done.then(() => (ended = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (ended) {
      throw new Error(
        `the CLI ended before ${what}:\n${cli?.stderr() ?? ''}`.trim(),
      );
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    // a tenth of a second: each check may ask Redis or read /proc, and the
    // test processes share the cores with the CLIs they watch
    await new Promise((resolve) => setTimeout(resolve, 100));
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
