#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { packageVersion } from '../adapters/package-version.js';
import { escapeControls } from '../core/untrusted-text.js';
import { closestWord } from './flag-suggest.js';
import { isUsageError, UsageError } from './options.js';
import { scanCommand } from './scan-command.js';
import type { ScanIo } from './scan-command.js';
import { safeText } from '../core/untrusted-text.js';

export const MAIN_HELP = `exoscope — where does each domain's mail live? Exchange Online, on-premises
Exchange, hybrid, or elsewhere; with the DNS evidence for every verdict.

Usage:
  exoscope scan <input.csv|-> [options]    classify every row of a domain list
  exoscope report <results> -o FILE.html   an HTML report to file or print
  exoscope diff <old> <new>                what changed between two scans
  exoscope --help | scan --help            this text / every scan option
  exoscope --version

Scaling out over Redis (BullMQ): enqueue, worker, status, collect — see
\`exoscope <command> --help\` and the README's "Scaling out".

Exit codes: 0 the run finished (even with unresolved rows); 1 input, output or
setup error; 2 usage error (a wrong flag or flag value); 130 interrupted (rows
finished so far are written).
`;

const COMMANDS = [
  'scan',
  'report',
  'diff',
  'enqueue',
  'worker',
  'status',
  'collect',
] as const;

/** Runs the CLI; returns the exit code. Errors with a code become one line. */
export async function main(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(MAIN_HELP);
        return command === undefined ? 2 : 0;
      case '-v':
      case '--version':
        io.stdout.write(`${packageVersion()}\n`);
        return 0;
      case 'scan':
        return await scanCommand(rest, io, env);
      case 'report': {
        const { runReport } = await import('./report-command.js');
        return await runReport(rest, io);
      }
      case 'diff': {
        const { runDiff } = await import('./diff-command.js');
        return await runDiff(rest, io);
      }
      // BullMQ and ioredis are loaded only for the commands that use them.
      case 'enqueue': {
        const { enqueueCommand } = await import('./enqueue-command.js');
        return await enqueueCommand(rest, io, env);
      }
      case 'worker': {
        const { workerProcess } = await import('../../workers/scan-worker.js');
        return await workerProcess(rest, io, env);
      }
      case 'status': {
        const { statusCommand } = await import('./status-command.js');
        return await statusCommand(rest, io, env);
      }
      case 'collect': {
        const { collectCommand } = await import('./collect-command.js');
        return await collectCommand(rest, io, env);
      }
      default: {
        const guess = closestWord(command, COMMANDS);
        throw new UsageError(
          `unknown command '${safeText(command, 80)}'${guess ? ` (did you mean ${guess}?)` : ''}; see exoscope --help`,
        );
      }
    }
  } catch (err) {
    return reportError(err, io);
  }
}

/** One line on stderr for a known error; a short line and code 1 for a bug. */
function reportError(err: unknown, io: ScanIo): number {
  // A message may quote a file name or a value given: escaped for the terminal.
  const line = (text: string): boolean =>
    io.stderr.write(`exoscope: ${escapeControls(text)}\n`);
  if (isUsageError(err)) {
    line((err as Error).message);
    return 2;
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('EXO_')) {
    line((err as Error).message);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  line(`unexpected error: ${message}`);
  if (process.env.EXOSCOPE_DEBUG && err instanceof Error)
    io.stderr.write(`${err.stack}\n`);
  return 1;
}

/** Whether the module at `moduleUrl` is the script this process runs. */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}

/**
 * V8 lets the old space grow to up to 4 × the live heap before a full GC:
 * a long scan's live heap is 30-60 MB, its RSS passed 300 MB by 1 M rows.
 * Growing by at most 3 × keeps it near 220 MB for the same CPU (100 000
 * domains, one process, two runs each: default 251-267 MB and 52-53 s CPU;
 * 3 ×: 219-220 MB, 51-52 s; 2 ×: 184 MB but 56-58 s). V8 reads the flag
 * each time it sets the next limit, so setting it at start-up works; it is
 * process-wide (worker threads too).
 */
const HEAP_GROWING_FLAG = '--heap-growing-percent=200';

/** Runs the CLI as this process, with `argv` (the arguments after the script). */
export function runCli(argv: string[]): void {
  setFlagsFromString(HEAP_GROWING_FLAG);
  main(
    argv,
    { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
    process.env,
  ).then(
    (code) => {
      process.exitCode = code;
      // The command is over: a library's leftover timer or socket (BullMQ
      // after a Redis restart) must not keep the process alive.
      setTimeout(() => process.exit(), 2000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`exoscope: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

if (isEntryPoint(import.meta.url)) runCli(process.argv.slice(2));
