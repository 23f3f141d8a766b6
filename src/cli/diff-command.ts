import { stringify } from 'csv-stringify/sync';
import { readResults } from '../adapters/result-source.js';
import { writeOutputFile } from '../adapters/text-output.js';
import { neutralise } from '../core/output-row.js';
import {
  CHANGE_COLUMNS,
  diffScans,
  summariseChanges,
} from '../core/scan-diff.js';
import { escapeControls } from '../core/untrusted-text.js';
import { parse, UsageError } from './options.js';
import type { ScanIo } from './scan-command.js';

export const DIFF_HELP = `Usage: exoscope diff <old> <new> [options]

Compares two scans (CSV or JSONL output of scan/collect, in any mix): the
domains added and removed, and every change of classification,
onprem_exchange, gateway, tenant and patch state (the probe's columns). One
row per change: domain, group, change, field, old, new. A short summary goes
to stderr.

  -o, --output FILE      write here (default: stdout)
  -f, --format FMT       csv (default) or jsonl
      --group COLUMN     the input column naming the client (counts clients
                         in the summary, and fills the group column)
      --force            replace an existing output file
  -q, --quiet            no summary on stderr
`;

/** `exoscope diff`; returns the exit code. */
export async function runDiff(argv: string[], io: ScanIo): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      output: { type: 'string', short: 'o' },
      format: { type: 'string', short: 'f' },
      group: { type: 'string' },
      force: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
    'diff',
  );
  if (values.help) {
    io.stdout.write(DIFF_HELP);
    return 0;
  }
  const [oldPath, newPath, extra] = positionals;
  if (oldPath === undefined || newPath === undefined || extra !== undefined) {
    throw new UsageError('diff takes two files: exoscope diff <old> <new>');
  }
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') {
    throw new UsageError(`--format must be csv or jsonl, got '${format}'`);
  }
  const group = values.group ?? null;
  const older = await readResults(oldPath, false);
  const newer = await readResults(newPath, false);
  for (const scan of [older, newer]) {
    if (group !== null && !scan.inputColumns.includes(group)) {
      throw new UsageError(
        `--group ${escapeControls(group)}: ${escapeControls(scan.path)} has no such input column (it has: ${scan.inputColumns.map(escapeControls).join(', ') || 'none'})`,
      );
    }
  }
  const changes = diffScans(older.records, newer.records, group);
  const text =
    format === 'csv'
      ? stringify(
          changes.map((c) => CHANGE_COLUMNS.map((k) => neutralise(c[k]))),
          { header: true, columns: [...CHANGE_COLUMNS] },
        )
      : changes.map((c) => `${JSON.stringify(c)}\n`).join('');
  if (values.output === undefined || values.output === '-') {
    io.stdout.write(text);
  } else {
    await writeOutputFile(values.output, text, values.force === true);
  }
  if (!values.quiet) {
    const lines = summariseChanges(
      changes,
      older.records,
      newer.records,
      group,
    );
    io.stderr.write(
      `exoscope: ${older.records.length} → ${newer.records.length} rows; ${changes.length} change${changes.length === 1 ? '' : 's'}\n` +
        lines.map((l) => `  ${escapeControls(l)}\n`).join(''),
    );
  }
  return 0;
}
