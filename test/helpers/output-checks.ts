/** Checks on what the CLI wrote: CSV read back, formulas, errors, leftovers. */
import { readdirSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import type { CliRun } from './cli.js';

/** A spreadsheet formula start (OWASP): what no written cell may begin with. */
export const FORMULA_START = /^[=+\-@\t\r]/;

/** A raw BEL or ESC: what must never reach a terminal from a name. */
// eslint-disable-next-line no-control-regex
export const RAW_CONTROL = /[\x07\x1b]/;

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
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at |Error:|node:internal/);
  expect(run.code).toBe(code);
}

/** Files in `dir` whose name looks like exoscope's temporary output. */
export function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^\..*\.tmp$/.test(name));
}
