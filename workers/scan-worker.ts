#!/usr/bin/env node
/**
 * The BullMQ worker process: `exoscope worker` runs here (the Docker
 * image's default command), and so does
 * `node dist/workers/scan-worker.js [options]` (REDIS_URL, DNS flags,
 * --jobs, ...). Builds the deps, starts the worker, drains on SIGINT/SIGTERM.
 */
import { isEntryPoint, runCli } from '../src/cli/main.js';
import type { ScanIo } from '../src/cli/scan-command.js';
import { workerCommand } from '../src/cli/worker-command.js';

/** `exoscope worker ...` in this process; returns the exit code. */
export function workerProcess(
  argv: string[],
  io: ScanIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  return workerCommand(argv, io, env, () => {
    // BullMQ gave up closing with Redis down and left its timers running
    // (taskforcesh/bullmq#4656): exit once the last lines are written.
    setTimeout(() => process.exit(), 1000).unref();
  });
}

// Run on its own: the same path as `exoscope worker` (errors, exit codes).
if (isEntryPoint(import.meta.url)) runCli(['worker', ...process.argv.slice(2)]);
