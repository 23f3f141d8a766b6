/**
 * Child processes for the benchmark: run a command to completion, run one
 * under GNU time while sampling its /proc files, install a Debian package.
 * Every command is an argument array (spawn), never a shell string.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  TIME_FORMAT,
  parseProcStat,
  parseProcStatus,
  parseTimeOutput,
} from './bench-parse.js';
import type { ProcMemory } from './bench-parse.js';

/** Children still running, so an interrupted benchmark can end them. */
const live = new Set<ChildProcess>();

/** Sends `signal` to every child the benchmark started that is still running. */
export function killLiveChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of live) {
    // a child under GNU time: signal the measured process too (time itself
    // ignores nothing but would leave its child running)
    const pid = child.pid;
    if (pid !== undefined) {
      for (const c of childPids(pid)) safeKill(c, signal);
    }
    child.kill(signal);
  }
}

export interface TextResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to the end and returns its output; never throws for a non-zero exit. */
export function runText(
  cmd: string,
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /**
     * Run in a process group of its own and let it finish on Ctrl-C: for
     * apt-get (never interrupt dpkg).
     */
    shielded?: boolean;
  } = {},
): Promise<TextResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.shielded ?? false,
    });
    if (!options.shielded) live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = options.timeoutMs
      ? setTimeout(() => child.kill('SIGTERM'), options.timeoutMs)
      : null;
    child.on('error', (err) => (stderr += `${err.message}\n`));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Is `name` an executable on PATH (or an absolute path)? */
export function onPath(name: string): boolean {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, name));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Makes `binary` available by installing Debian package `pkg` with apt-get
 * when it is missing (running `apt-get update` once if the first try fails).
 * Returns false when it still is not there.
 */
export async function ensureDebianPackage(
  binary: string,
  pkg: string,
  log: (line: string) => void,
): Promise<boolean> {
  if (onPath(binary)) return true;
  if (!onPath('apt-get')) return false;
  log(`installing Debian package ${pkg} (apt-get)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '--no-install-recommends', pkg];
  const opts = { env, shielded: true };
  let r = await runText('apt-get', install, opts);
  if (r.code !== 0) {
    await runText('apt-get', ['update'], opts);
    r = await runText('apt-get', install, opts);
  }
  if (r.code !== 0) log(`apt-get install ${pkg} failed: ${lastLine(r.stderr)}`);
  return onPath(binary);
}

/** Direct children of a process (Linux /proc/<pid>/task/<pid>/children). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** /proc/<pid>/status memory figures; nulls when the process is gone. */
export function procMemory(pid: number): ProcMemory {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return { rssKb: null, hwmKb: null };
  }
}

/** CPU seconds of the DNS servers: Knot + Unbound, and Knot alone. */
export interface ServerCpu {
  total: number;
  auth: number;
}

/** CPU seconds so far of a process; null when it is gone. */
export function procCpuSeconds(pid: number): number | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** What a measured process cost. */
export interface Measurement {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Spawn to exit, measured here. */
  wallS: number;
  /** User + system CPU seconds (GNU time; else the last /proc sample). */
  cpuS: number | null;
  /** Peak resident set in KiB (GNU time's max RSS; else the highest VmHWM seen). */
  peakRssKb: number | null;
  /** The end of stderr, for error messages. */
  stderrTail: string;
}

export interface MeasuredProcess {
  /** The process being measured (not GNU time), once known. */
  pid(): number | null;
  child: ChildProcess;
  done: Promise<Measurement>;
  /** Signals the measured process (not GNU time, which would orphan it). */
  kill(signal?: NodeJS.Signals): void;
}

export interface MeasureOptions {
  /** GNU time binary, or null to rely on /proc sampling alone. */
  timeBin: string | null;
  /** Scratch file for GNU time's `-o`. */
  timeFile: string;
  env?: NodeJS.ProcessEnv;
  /** What to do with the child's stdout (default: ignore). */
  stdout?: 'ignore' | 'pipe';
  /** Called with every stderr chunk (the tail is kept anyway). */
  onStderr?: (chunk: string) => void;
  /** /proc sampling interval. Default 200 ms. */
  sampleMs?: number;
}

/**
 * Spawns `cmd args` (under GNU time when available) and samples the measured
 * process's /proc files until it exits: peak RSS and CPU seconds either way,
 * exact from GNU time, else from the last sample.
 */
export function runMeasured(
  cmd: string,
  args: readonly string[],
  options: MeasureOptions,
): MeasuredProcess {
  const argv = options.timeBin
    ? [options.timeBin, '-f', TIME_FORMAT, '-o', options.timeFile, cmd, ...args]
    : [cmd, ...args];
  const started = performance.now();
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: options.env ?? process.env,
    stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'],
  });
  live.add(child);
  let measuredPid: number | null = options.timeBin ? null : (child.pid ?? null);
  let peakKb: number | null = null;
  let lastCpu: number | null = null;
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    options.onStderr?.(chunk);
  });

  const sample = (): void => {
    if (measuredPid === null && child.pid !== undefined) {
      measuredPid = childPids(child.pid)[0] ?? null;
    }
    if (measuredPid === null) return;
    const mem = procMemory(measuredPid);
    if (mem.hwmKb !== null) peakKb = Math.max(peakKb ?? 0, mem.hwmKb);
    lastCpu = procCpuSeconds(measuredPid) ?? lastCpu;
  };
  const timer = setInterval(sample, options.sampleMs ?? 200);

  const done = new Promise<Measurement>((resolve) => {
    child.on('error', (err) => {
      stderrTail += `\n${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      live.delete(child);
      const wallS = (performance.now() - started) / 1000;
      let cpuS: number | null = lastCpu;
      let peakRssKb: number | null = peakKb;
      if (options.timeBin) {
        try {
          const t = parseTimeOutput(readFileSync(options.timeFile, 'utf8'));
          if (t) {
            cpuS = t.userS + t.sysS;
            peakRssKb = t.maxRssKb;
          }
        } catch {
          // no time file: keep the sampled figures
        }
        rmSync(options.timeFile, { force: true });
      }
      resolve({ code, signal, wallS, cpuS, peakRssKb, stderrTail });
    });
  });

  return {
    pid: () => {
      if (measuredPid === null) sample();
      return measuredPid;
    },
    child,
    done,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      const pid = measuredPid ?? (child.pid ? childPids(child.pid)[0] : null);
      if (pid) safeKill(pid, signal);
      else child.kill(signal);
    },
  };
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .pop() ?? ''
  );
}
