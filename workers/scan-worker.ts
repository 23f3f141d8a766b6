#!/usr/bin/env node
/**
 * A worker process on its own: `node dist/workers/scan-worker.js [options]`,
 * the same as `exoscope worker [options]` (REDIS_URL, DNS flags, --jobs, ...).
 * Builds the deps, starts the BullMQ worker, drains on SIGINT/SIGTERM.
 */
import { runQueueCommand } from '../src/cli/distributed-commands.js';

const io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
};
runQueueCommand('worker', process.argv.slice(2), io, process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      typeof code === 'string' && code.startsWith('EXO_')
        ? `exoscope: ${message}\n`
        : `exoscope: unexpected error: ${message}\n`,
    );
    process.exitCode = code === 'EXO_USAGE' ? 2 : 1;
  },
);
