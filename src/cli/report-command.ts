import { basename, dirname, join } from 'node:path';
import { readResults } from '../adapters/result-source.js';
import type { ScanResults } from '../adapters/result-source.js';
import { readScanRecord } from '../adapters/scan-record-file.js';
import { writeOutputFile } from '../adapters/text-output.js';
import { diffScans, summariseChanges } from '../core/scan-diff.js';
import { escapeControls } from '../core/untrusted-text.js';
import { renderReport } from '../report/report-html.js';
import type { Baseline } from '../report/report-html.js';
import { buildModel } from '../report/report-model.js';
import { integer, parse, UsageError } from './options.js';
import type { ScanIo } from './scan-command.js';
import { packageVersion } from '../adapters/package-version.js';

/** Rows per HTML file before the listing moves to further pages. */
export const DEFAULT_PAGE_SIZE = 2000;

export const REPORT_HELP = `Usage: exoscope report <results> -o report.html [options]

Makes one self-contained HTML file from a scan's output (JSONL for the full
evidence; CSV works without it): summary charts with their numbers, the
action list first, every domain (per client with --group) with its DNS
evidence folded away, and the scan's metadata (from <results>.meta.json,
which scan and collect write beside their output). No script, no network:
it opens offline, from an e-mail attachment, and prints to PDF.

  -o, --output FILE      the HTML file to write (required)
      --group COLUMN     list domains per value of this input column
                         (e.g. client)
      --baseline FILE    an earlier scan (CSV or JSONL): its changes head
                         the report (see exoscope diff)
      --page-size N      rows in one HTML file (default ${DEFAULT_PAGE_SIZE}); above it the
                         listing goes to <name>-1.html, ... beside the main
                         file, which keeps the summary and action list
      --force            replace existing output files
  -q, --quiet            no summary on stderr
`;

function checkGroup(group: string | null, scan: ScanResults): void {
  if (group !== null && !scan.inputColumns.includes(group)) {
    throw new UsageError(
      `--group ${escapeControls(group)}: ${escapeControls(scan.path)} has no such input column (it has: ${scan.inputColumns.map(escapeControls).join(', ') || 'none'})`,
    );
  }
}

/** `exoscope report`; returns the exit code. */
export async function runReport(argv: string[], io: ScanIo): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      output: { type: 'string', short: 'o' },
      group: { type: 'string' },
      baseline: { type: 'string' },
      'page-size': { type: 'string' },
      force: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
    'report',
  );
  if (values.help) {
    io.stdout.write(REPORT_HELP);
    return 0;
  }
  const [path, extra] = positionals;
  if (path === undefined || extra !== undefined) {
    throw new UsageError(
      'report takes one results file: exoscope report <results> -o report.html',
    );
  }
  if (values.output === undefined || values.output === '-') {
    throw new UsageError('report needs -o FILE.html (the report is a file)');
  }
  const output = values.output;
  const pageSize = integer(
    '--page-size',
    values['page-size'],
    DEFAULT_PAGE_SIZE,
    10,
    1_000_000,
  );
  const group = values.group ?? null;
  const results = await readResults(path, true);
  checkGroup(group, results);
  let baseline: Baseline | null = null;
  if (values.baseline !== undefined) {
    const old = await readResults(values.baseline, false);
    const changes = diffScans(old.records, results.records, group);
    baseline = {
      name: basename(values.baseline),
      changes,
      summary: summariseChanges(changes, old.records, results.records, group),
    };
  }
  const times = results.records
    .map((r) => r.scannedAt)
    .filter(Boolean)
    .sort();
  const record = await readScanRecord(path);
  const model = buildModel(results.records, group, pageSize);
  const files = renderReport({
    model,
    meta: {
      results: {
        name: basename(path),
        sha256: results.sha256,
        format: results.format,
        bytes: results.bytes,
      },
      generated: new Date().toISOString(),
      exoscope: packageVersion(),
      record: record as Record<string, unknown> | null,
      resolversSeen: results.resolvers,
      firstScanned: times[0] ?? '',
      lastScanned: times.at(-1) ?? '',
      group,
    },
    baseline,
    evidence: (i) => results.evidence(i),
    fileName: basename(output),
  });
  let bytes = 0;
  let count = 0;
  for (const f of files) {
    count++;
    await writeOutputFile(
      join(dirname(output), f.name),
      f.html,
      values.force === true,
    );
    bytes += Buffer.byteLength(f.html);
  }
  if (!values.quiet) {
    io.stderr.write(
      `exoscope: report of ${results.records.length} rows (${model.actions.length} on the action list) -> ${escapeControls(output)}${count > 1 ? ` and ${count - 1} page files beside it` : ''} (${(bytes / 1e6).toFixed(1)} MB)\n`,
    );
  }
  return 0;
}
