#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { packageVersion } from '../adapters/package-version.js';
import { escapeControls } from '../core/untrusted-text.js';
import { closestWord } from './flag-suggest.js';
import { isUsageError, parseScanArgs, UsageError } from './options.js';
import { runScan } from './scan-command.js';
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

export const SCAN_HELP = `Usage: exoscope scan <input> [options]

Reads a CSV with a header (the domain column is found by name: domain,
website, url, email, ...; or --column) or a plain list (one entry a line);
<input> is a path or - for stdin. Every input row gives exactly one output
row, in input order, with the input's columns first.

Output:
  -o, --output FILE      write here (default: stdout); written to a temporary
                         file and renamed at the end
  -f, --format FMT       csv (default) or jsonl (one object a row, with every
                         DNS query and answer: the evidence to file)
      --force            replace an existing output file
      --column NAME      the input column holding the domain
  -d, --delimiter D      CSV output delimiter: , ; or tab (default: the
                         input's, so a ;-separated list gives ;-separated
                         output, as Excel expects in much of Europe)
  -q, --quiet            no summary on stderr
      --progress         progress line on stderr even when it is not a terminal
      --no-progress      never a progress line (default: only on a terminal)

DNS:
  -r, --resolver ADDR[:PORT]  resolver to ask (repeatable; default: the
                         system's, or EXOSCOPE_RESOLVERS, comma-separated)
  -c, --concurrency N    domains scanned at the same time (default 200)
  -t, --threads N        scan on N worker threads (default 1); use the cores
                         your resolver does not need (--concurrency is
                         shared); not with --redis (use --workers)
      --rate QPS         DNS queries per second for the whole run; 0 =
                         unlimited (default 0)
      --timeout MS       deadline of one query try, enforced by exoscope
                         (default 2000)
      --retries N        extra tries per query, each on the next resolver, on
                         timeout, SERVFAIL or REFUSED (default 2)
      --dns-client C     auto (default: exoscope's own client on pipelined
                         TCP connections, moving a resolver that will not do
                         TCP well to UDP, with a line on stderr), udp or tcp
                         (the same client on that transport only) or cares
                         (node:dns: twice the CPU of udp)
      --in-flight N      most queries waiting for an answer from each
                         resolver at once (default: --concurrency, at least
                         200; per thread with --threads); a domain takes
                         about 7.5 queries, so a scan makes at most
                         N / RTT / 7.5 domains a second: raise it (or
                         --concurrency) for a resolver across a network

Owners of MX addresses (ASN, organisation):
      --asn-source SRC   packaged (default: the offline dataset shipped with
                         exoscope), cymru (Team Cymru's DNS interface, through
                         the same resolvers) or none
      --asn-db FILE      your own, newer dataset: ip-location-db CSV or
                         iptoasn.com TSV, optionally .gz

Exchange server probe (off by default; see docs/probe.md):
      --probe            contact each candidate on-premises Exchange host
                         (onprem_hosts, then MX servers of no known
                         provider) over HTTPS: a few GETs a browser would
                         send, for its build; fills the exchange_* and
                         proxy* columns
      --probe-allow CIDR also contact this special-purpose range (loopback,
                         private, ...; repeatable); never contacted otherwise
      --probe-port PORT  HTTPS port (default 443)
      --probe-timeout MS deadline of each request (default 5000)
      --probe-concurrency N  hosts probed at once (default 16; per thread)

Distributed (see the README's "Scaling out"); the flags below need --redis:
      --redis URL        run the scan on BullMQ over Redis with local workers
                         (the same output; survives a crash: collect later)
      --workers N        local workers with --redis (default 2)
      --chunk-size N     rows per queue job (default 100)
      --scan ID          scan id in Redis (default: a fresh one)
      --prefix P         Redis key prefix (default: EXOSCOPE_PREFIX, or
                         exoscope)
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
      case 'scan': {
        const args = parseScanArgs(rest, env);
        if (args.help) {
          io.stdout.write(SCAN_HELP);
          return 0;
        }
        if (args.redis) {
          const { runDistributedScan } =
            await import('./distributed-commands.js');
          return await runDistributedScan(
            args.options,
            args.redis,
            io,
            env,
            args.distributed,
          );
        }
        return await runScan(args.options, io);
      }
      case 'report': {
        const { runReport } = await import('./report-command.js');
        return await runReport(rest, io);
      }
      case 'diff': {
        const { runDiff } = await import('./diff-command.js');
        return await runDiff(rest, io);
      }
      case 'enqueue':
      case 'worker':
      case 'status':
      case 'collect': {
        const { runQueueCommand } = await import('./distributed-commands.js');
        return await runQueueCommand(command, rest, io, env);
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

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
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

if (isEntryPoint()) {
  setFlagsFromString(HEAP_GROWING_FLAG);
  main(
    process.argv.slice(2),
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
