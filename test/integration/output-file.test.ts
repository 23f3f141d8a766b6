/**
 * Output files: what is written, under which name, and what is left when a
 * run is killed or interrupted or its output fails. The built CLI
 * against a fake DNS server on loopback that answers some names never, so a
 * run is still going when the test stops it.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../src/core/output-row.js';
import { startFakeDnsServer } from '../helpers/dns-server.js';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import { startCli, runCli, runCliToFile, waitFor } from '../helpers/cli.js';
import type { CliRun, LiveCli } from '../helpers/cli.js';
import { tempDir, smallTmpfs } from '../helpers/temp-dir.js';
import {
  RAW_CONTROL,
  readCsv,
  expectNoFormula,
  expectOneLineError,
  tempFiles,
} from '../helpers/output-checks.js';
import { mx, a, cname, txt, dnsArgs, askedNames } from '../helpers/fake-dns.js';

let server: FakeDnsServer;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  server = await startFakeDnsServer({
    records: [
      ...Array.from({ length: 40 }, (_, i) => [
        mx(`client${i}.test`, `mail.client${i}.test`),
        a(`mail.client${i}.test`, `198.18.7.${i}`),
      ]).flat(),
      mx('hostile.test', '=mx.hostile.test', 0),
      mx('hostile.test', 'mail.hostile.test', 10),
      a('mail.hostile.test', '198.18.8.1'),
      txt('hostile.test', 'v=spf1 include:+evil.test \u0007 -all'),
      txt('hostile.test', '@SUM(1+1)'),
      cname('autodiscover.hostile.test', '-ad.hostile.test'),
    ],
    // `*.silent.test` is never answered: each such domain holds the run up
    // for one query deadline (--timeout), however fast the rest is.
    behaviour: (name) => (name.endsWith('silent.test') ? 'drop' : 'answer'),
  });
  tmp = tempDir('output');
});
afterAll(async () => {
  await server?.close();
  tmp?.remove();
});

const dns = (): string[] => dnsArgs(server);
/** Slow names take a whole second each, four domains at a time. */
const SLOW = ['--timeout', '1000', '--retries', '0', '--concurrency', '4'];

function input(name: string, content: string): string {
  const path = join(tmp.path, name);
  writeFileSync(path, content);
  return path;
}

/** 200 domains, every fifth never answered: a run of about ten seconds. */
function slowList(): string[] {
  return Array.from({ length: 200 }, (_, i) =>
    i % 5 === 4 ? `d${i}.silent.test` : `client${i % 40}.test`,
  );
}

/** Data rows already in the run's temporary file in `dir` (no cell holds a line break). */
function rowsInTemp(dir: string): number {
  const [name] = tempFiles(dir);
  if (name === undefined) return 0;
  try {
    const text = readFileSync(join(dir, name), 'utf8');
    return Math.max(text.split('\n').length - 2, 0);
  } catch {
    return 0;
  }
}

/** Waits until `rows` rows are written, with the run still going. */
async function whenWritten(
  cli: LiveCli,
  dir: string,
  rows: number,
): Promise<void> {
  await waitFor(() => rowsInTemp(dir) >= rows, `${rows} rows written`, cli);
}

describe('the output of a run', () => {
  it('the written CSV parsed back: one row per input data row, no cell starts a formula', async () => {
    const lines = [
      '# client list, exported',
      'Client,Website,Contact,Notes',
      '=HYPERLINK("http://evil.test"),hostile.test,@bob,"+1 555, ext. 2"',
      'Acme,client1.test,-,"two\nlines"',
      '',
      'Acme again,client1.test,"\tTab","\rCR"',
      'Nobody,not a domain,=1+1,',
      'Gone,gone.test,,',
      'Bare,,,',
    ];
    const dataRows = 6;
    const path = input('mixed.csv', `${lines.join('\r\n')}\r\n`);
    const out = join(tmp.path, 'mixed.out.csv');
    const run = await runCli(['scan', path, '-o', out, ...dns()]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`scanned ${dataRows} rows`);
    const written = readFileSync(out);
    expectNoFormula(written);
    const rows = readCsv(written);
    expect(rows).toHaveLength(dataRows);
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'Client',
      'Website',
      'Contact',
      'Notes',
      ...RESULT_COLUMNS,
    ]);
    expect(rows.map((r) => r.Website)).toEqual([
      'hostile.test',
      'client1.test',
      'client1.test',
      'not a domain',
      'gone.test',
      '',
    ]);
    expect(rows.map((r) => r.classification)).toEqual([
      'exchange-onprem',
      'self-hosted',
      'self-hosted',
      'invalid',
      'no-mail',
      'invalid',
    ]);
    expect(rows[0]).toMatchObject({
      Client: '\'=HYPERLINK("http://evil.test")',
      Contact: "'@bob",
      Notes: "'+1 555, ext. 2",
      mx_hosts: "'=mx.hostile.test;mail.hostile.test",
      autodiscover: "'-ad.hostile.test",
      spf: 'v=spf1 include:+evil.test \\x07 -all',
    });
    expect(rows[2]).toMatchObject({ Contact: "'\tTab", Notes: "'\rCR" });

    // JSONL: one object a row too
    const jsonl = await runCli(['scan', path, '-f', 'jsonl', ...dns()]);
    expect(jsonl.code).toBe(0);
    const records = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { row: number; classification: string });
    expect(records.map((r) => r.row)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('an existing output is refused without --force, and kept as it was', async () => {
    const path = input('one.txt', 'client1.test\n');
    const out = join(tmp.path, 'exists.csv');
    writeFileSync(out, 'keep me\n');
    const run = await runCli(['scan', path, '-o', out, ...dns()]);
    expectOneLineError(run, 1, /exists\.csv exists; use --force/);
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
    expect(tempFiles(tmp.path)).toEqual([]);
  });

  it('kill -9 mid-run: nothing under the real name (an old file stays whole); the next run is not blocked and clears the leftover', async () => {
    const dir = tempDir('kill9');
    try {
      const path = join(dir.path, 'clients.txt');
      writeFileSync(path, `${slowList().join('\n')}\n`);
      const out = join(dir.path, 'results.csv');

      const cli = startCli(['scan', path, '-o', out, ...SLOW, ...dns()]);
      await whenWritten(cli, dir.path, 3);
      cli.child.kill('SIGKILL');
      const killed = await cli.done;
      expect(killed.signal).toBe('SIGKILL');
      expect(existsSync(out)).toBe(false);
      // The hidden temporary file is what kill -9 leaves: no half file
      // under the real name, nothing a spreadsheet or script would pick up.
      const leftovers = tempFiles(dir.path);
      expect(leftovers).toHaveLength(1);
      expect(leftovers[0]).toMatch(/^\.results\.csv\.\d+\.[0-9a-f]+\.tmp$/);

      // With --force over an existing file: the old file stays whole.
      writeFileSync(out, 'previous results\n');
      const forced = startCli([
        'scan',
        path,
        '-o',
        out,
        '--force',
        ...SLOW,
        ...dns(),
      ]);
      // Starting, it removes the leftover of the killed run (that process
      // is gone); then it writes a temporary file of its own.
      await waitFor(
        () =>
          !tempFiles(dir.path).includes(leftovers[0] as string) &&
          rowsInTemp(dir.path) > 2,
        'the second run to write rows',
        forced,
      );
      forced.child.kill('SIGKILL');
      await forced.done;
      expect(readFileSync(out, 'utf8')).toBe('previous results\n');

      // A later normal run is not blocked, publishes, and clears leftovers.
      const quick = join(dir.path, 'quick.txt');
      writeFileSync(quick, 'client1.test\nclient2.test\n');
      const next = await runCli([
        'scan',
        quick,
        '-o',
        out,
        '--force',
        ...dns(),
      ]);
      expect(next.code).toBe(0);
      expect(readCsv(readFileSync(out)).map((r) => r.input)).toEqual([
        'client1.test',
        'client2.test',
      ]);
      expect(tempFiles(dir.path)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it('Ctrl-C mid-scan: the finished rows are kept as results.partial.csv, in input order; the summary says how far; exit 130', async () => {
    const dir = tempDir('sigint');
    try {
      const list = slowList();
      const path = join(dir.path, 'clients.txt');
      writeFileSync(path, `${list.join('\n')}\n`);
      const out = join(dir.path, 'results.csv');
      const before = server.queries.length;
      const cli = startCli(['scan', path, '-o', out, ...SLOW, ...dns()]);
      await whenWritten(cli, dir.path, 5);
      cli.child.kill('SIGINT');
      const run = await cli.done;

      expect(run.code).toBe(130);
      expect(run.stderr).toMatch(/^exoscope: INTERRUPTED after \d+ rows/m);
      const done = Number(/stopped after data row (\d+)/.exec(run.stderr)?.[1]);
      expect(done).toBeGreaterThanOrEqual(5);
      expect(done).toBeLessThan(list.length);
      expect(run.stderr).toContain(`(input line ${done})`);
      expect(run.stderr).toContain('results.partial.csv');
      expect(run.stderr).toContain('results.csv was not written');
      expect(run.stderr).not.toMatch(/\n\s+at /);

      // Not under the real name: a partial result is never taken for a whole one.
      expect(existsSync(out)).toBe(false);
      const partial = join(dir.path, 'results.partial.csv');
      const rows = readCsv(readFileSync(partial));
      expect(rows).toHaveLength(done);
      expect(rows.map((r) => r.input)).toEqual(list.slice(0, done));
      // every kept row is a finished scan, not a casualty of the stop
      for (const row of rows) {
        expect(row.error).not.toMatch(/not scanned|ECANCELLED/);
        expect(['self-hosted', 'unresolved']).toContain(row.classification);
      }
      expect(tempFiles(dir.path)).toEqual([]);
      // nothing was asked after the stop beyond the domains in flight
      const asked = new Set(askedNames(server).slice(before));
      expect(asked.has(list[list.length - 1] as string)).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it('Ctrl-C with the output on stdout: the rows so far are there, in order; SIGTERM acts the same', async () => {
    const list = slowList();
    const path = input('stdout-list.txt', `${list.join('\n')}\n`);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const cli = startCli(['scan', path, ...SLOW, ...dns()]);
      await waitFor(
        () => cli.stdout().split('\n').length > 6,
        'rows on stdout',
        cli,
      );
      cli.child.kill(signal);
      const run = await cli.done;
      expect(run.code).toBe(130);
      expect(run.stderr).toContain('they were written to stdout');
      const done = Number(/stopped after data row (\d+)/.exec(run.stderr)?.[1]);
      const rows = readCsv(run.stdout);
      expect(rows).toHaveLength(done);
      expect(rows.map((r) => r.input)).toEqual(list.slice(0, done));
    }
  });

  it('Ctrl-C while stdin is waiting for more: the run stops at once with the rows read so far', async () => {
    const before = server.queries.length;
    const cli = startCli(['scan', '-', ...dns()]);
    // The line after the last one read lets the parser hand that one over.
    cli.child.stdin.write('client1.test\nclient2.test\nclient3.test\nmore');
    await waitFor(
      () => askedNames(server).slice(before).includes('mail.client3.test'),
      'the first rows to be scanned',
      cli,
    );
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(readCsv(run.stdout).map((r) => r.input)).toEqual([
      'client1.test',
      'client2.test',
      'client3.test',
    ]);
    expect(run.stderr).toContain('stopped after data row 3 (input line 3)');
  });

  it('Ctrl-C before the scan starts (waiting for the resolver check) → exit 130 at once, one line, nothing written', async () => {
    // A resolver that never answers the pre-flight question: the CLI is
    // still setting up when the signal comes.
    const mute = await startFakeDnsServer({ behaviour: () => 'drop' });
    try {
      const out = join(tmp.path, 'never-started.csv');
      const cli = startCli([
        'scan',
        input('early.txt', 'client1.test\n'),
        '-o',
        out,
        '--resolver',
        mute.address,
        '--timeout',
        '30000',
      ]);
      await waitFor(() => mute.queries.length > 0, 'the pre-flight', cli);
      cli.child.kill('SIGINT');
      const run = await cli.done;
      expectOneLineError(run, 130, /interrupted before the scan started/);
      expect(existsSync(out)).toBe(false);
      expect(tempFiles(tmp.path)).toEqual([]);
    } finally {
      await mute.close();
    }
  });

  it('a second Ctrl-C stops at once and keeps the rows written so far', async () => {
    const dir = tempDir('sigint2');
    try {
      const list = Array.from({ length: 200 }, (_, i) =>
        i % 2 === 1 ? `d${i}.silent.test` : `client${i % 40}.test`,
      );
      const path = join(dir.path, 'clients.txt');
      writeFileSync(path, `${list.join('\n')}\n`);
      const out = join(dir.path, 'results.csv');
      // A long deadline: after the first Ctrl-C the in-flight domains still
      // take seconds, so the second one comes while it waits for them.
      const cli = startCli([
        'scan',
        path,
        '-o',
        out,
        '--timeout',
        '20000',
        '--retries',
        '0',
        '--concurrency',
        '4',
        ...dns(),
      ]);
      await whenWritten(cli, dir.path, 1);
      cli.child.kill('SIGINT');
      await waitFor(
        () => cli.stderr().includes('stopping'),
        'the first Ctrl-C to be taken',
        cli,
      );
      cli.child.kill('SIGINT');
      const run = await cli.done;
      expect(run.code).toBe(130);
      expect(run.stderr).toMatch(/interrupted again: stopped at once/);
      expect(existsSync(out)).toBe(false);
      const rows = readCsv(readFileSync(join(dir.path, 'results.partial.csv')));
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows.map((r) => r.input)).toEqual(list.slice(0, rows.length));
      expect(tempFiles(dir.path)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});

/** Ten quick domains, one a line. */
const QUICK = `${Array.from({ length: 10 }, (_, i) => `client${i}.test`).join('\n')}\n`;

/** `scan` of a slow list to `out`, run until it has a temporary file there. */
async function slowScanWriting(
  dir: string,
  out: string,
  extra: string[] = [],
): Promise<LiveCli> {
  const path = join(dir, 'slow.txt');
  if (!existsSync(path)) writeFileSync(path, `${slowList().join('\n')}\n`);
  const cli = startCli(['scan', path, '-o', out, ...extra, ...SLOW, ...dns()]);
  await waitFor(() => tempFiles(dir).length > 0, 'a temporary file', cli);
  return cli;
}

/** The domains `pipedScanWriting` feeds a run. */
const PIPED = Array.from({ length: 40 }, (_, i) => `client${i}.test`);

/**
 * `scan -` to `out` with `PIPED` on stdin, left open: the run writes its
 * temporary file and goes on until the test ends its stdin.
 */
async function pipedScanWriting(dir: string, out: string): Promise<LiveCli> {
  const cli = startCli(['scan', '-', '-o', out, ...dns()]);
  cli.child.stdin.write(`${PIPED.join('\n')}\n`);
  await waitFor(() => tempFiles(dir).length > 0, 'a temporary file', cli);
  return cli;
}

describe('output files', () => {
  it('CSV and JSONL to stdout on /dev/full: exit 1 with one line naming the error, every time', async () => {
    const path = input('full.txt', QUICK);
    const runs: Promise<CliRun>[] = [];
    // a few runs of each format: the error must not depend on the timing
    for (const format of ['csv', 'jsonl', 'csv', 'jsonl']) {
      runs.push(
        runCliToFile(['scan', path, '-f', format, ...dns()], '/dev/full'),
      );
    }
    for (const run of await Promise.all(runs)) {
      expectOneLineError(
        run,
        1,
        /^exoscope: cannot write stdout: ENOSPC: no space left on device$/m,
      );
    }
  });

  it('-o /dev/full and -o on a full file system: one line naming the error, exit 1, nothing left behind', async () => {
    const path = input('full-o.txt', QUICK);
    const device = await runCli(['scan', path, '-o', '/dev/full', ...dns()]);
    expectOneLineError(
      device,
      1,
      /cannot write \/dev\/full: ENOSPC: no space left on device/,
    );

    // A 16 KiB tmpfs (root only): the temporary file fills it.
    const fs = smallTmpfs();
    if (fs === null) return; // not root: /dev/full above is the proof
    try {
      const big = input(
        'big.txt',
        `${Array.from({ length: 400 }, (_, i) => `client${i % 40}.test`).join('\n')}\n`,
      );
      const out = join(fs.path, 'results.csv');
      const run = await runCli(['scan', big, '-o', out, ...dns()]);
      expectOneLineError(
        run,
        1,
        /cannot write .*results\.csv: ENOSPC: no space left on device/,
      );
      expect(readdirSync(fs.path)).toEqual([]);
    } finally {
      fs.remove();
    }
  });

  it('two runs to the same -o: one publishes, the other exits 1 and says where its rows are; neither replaces the other', async () => {
    const dir = tempDir('race');
    try {
      const out = join(dir.path, 'results.csv');
      const first = await pipedScanWriting(dir.path, out);
      const second = await pipedScanWriting(dir.path, out);
      await waitFor(
        () => tempFiles(dir.path).length === 2,
        'both runs writing',
        second,
      );
      first.child.stdin.end();
      second.child.stdin.end();
      const runs = [await first.done, await second.done];
      const codes = runs.map((r) => r.code).sort();
      expect(codes).toEqual([0, 1]);
      const loser = runs.find((r) => r.code === 1) as CliRun;
      expectOneLineError(
        loser,
        1,
        /results\.csv was created by something else during the run; not replaced\. This run's rows are in .*results\.new\.csv/,
      );
      for (const name of ['results.csv', 'results.new.csv']) {
        const rows = readCsv(readFileSync(join(dir.path, name)));
        expect(rows.map((r) => r.input)).toEqual(PIPED);
      }
      expect(tempFiles(dir.path)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it('a file created under the output name during the run is not replaced', async () => {
    const dir = tempDir('appeared');
    try {
      const out = join(dir.path, 'results.csv');
      const cli = await pipedScanWriting(dir.path, out);
      writeFileSync(out, 'written by someone else\n');
      cli.child.stdin.end();
      const run = await cli.done;
      expectOneLineError(run, 1, /rows are in .*results\.new\.csv/);
      expect(readFileSync(out, 'utf8')).toBe('written by someone else\n');
      expect(
        readCsv(readFileSync(join(dir.path, 'results.new.csv'))),
      ).toHaveLength(PIPED.length);
      expect(tempFiles(dir.path)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it('a FIFO and a character device are written into, never replaced, --force or not; a symlink is followed to its file', async () => {
    const dir = tempDir('nodes');
    try {
      const path = input('nodes.txt', QUICK);
      const fifo = join(dir.path, 'pipe');
      execFileSync('mkfifo', [fifo]);
      for (const force of [[], ['--force']]) {
        const reader = new Promise<string>((resolve, reject) =>
          readFile(fifo, 'utf8').then(resolve, reject),
        );
        const run = await runCli([
          'scan',
          path,
          '-o',
          fifo,
          ...force,
          ...dns(),
        ]);
        expect(run.code).toBe(0);
        expect(readCsv(await reader).map((r) => r.input)).toEqual(
          QUICK.trim().split('\n'),
        );
        expect(lstatSync(fifo).isFIFO()).toBe(true);
      }
      expect(tempFiles(dir.path)).toEqual([]);

      // A null device of our own (mknod: root only), so that a failure
      // here never touches the system's /dev/null.
      const nul = join(dir.path, 'null');
      let device = true;
      try {
        execFileSync('mknod', [nul, 'c', '1', '3']);
      } catch {
        device = false;
      }
      if (device) {
        const run = await runCli([
          'scan',
          path,
          '-o',
          nul,
          '--force',
          ...dns(),
        ]);
        expect(run.code).toBe(0);
        expect(lstatSync(nul).isCharacterDevice()).toBe(true);
      }

      // A symlink to a regular file: the file is what -o means.
      const real = join(dir.path, 'real.csv');
      const link = join(dir.path, 'link.csv');
      writeFileSync(real, 'old\n');
      symlinkSync(real, link);
      const refused = await runCli(['scan', path, '-o', link, ...dns()]);
      expectOneLineError(refused, 1, /link\.csv exists; use --force/);
      const forced = await runCli([
        'scan',
        path,
        '-o',
        link,
        '--force',
        ...dns(),
      ]);
      expect(forced.code).toBe(0);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readCsv(readFileSync(real))).toHaveLength(10);
      // A symlink to nothing is refused, and nothing is created.
      const dangling = join(dir.path, 'dangling.csv');
      symlinkSync(join(dir.path, 'missing.csv'), dangling);
      const none = await runCli(['scan', path, '-o', dangling, ...dns()]);
      expectOneLineError(none, 1, /dangling\.csv is a symlink to nothing/);
      expect(existsSync(join(dir.path, 'missing.csv'))).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it('Ctrl-C never overwrites an existing results.partial.csv: a free name, named in the summary', async () => {
    const dir = tempDir('partial-taken');
    try {
      const out = join(dir.path, 'results.csv');
      const taken = join(dir.path, 'results.partial.csv');
      writeFileSync(taken, "somebody else's file\n");
      const cli = await slowScanWriting(dir.path, out);
      await whenWritten(cli, dir.path, 3);
      cli.child.kill('SIGINT');
      const run = await cli.done;
      expect(run.code).toBe(130);
      expect(readFileSync(taken, 'utf8')).toBe("somebody else's file\n");
      const kept = join(dir.path, 'results.partial-2.csv');
      expect(run.stderr).toContain(`-> ${kept}`);
      expect(run.stderr).toContain(`they are in ${kept}`);
      const done = Number(/stopped after data row (\d+)/.exec(run.stderr)?.[1]);
      expect(readCsv(readFileSync(kept))).toHaveLength(done);
    } finally {
      dir.remove();
    }
  });

  it('an output name with control characters is printed escaped', async () => {
    const dir = tempDir('names');
    try {
      const path = input('names.txt', 'client1.test\n');
      const out = join(dir.path, 'evil\x1b[2J\x07.csv');
      const run = await runCli(['scan', path, '-o', out, ...dns()]);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('evil\\x1b[2J\\x07.csv');
      expect(run.stderr).not.toMatch(RAW_CONTROL);
      // and in an error
      const again = await runCli(['scan', path, '-o', out, ...dns()]);
      expectOneLineError(again, 1, /evil\\x1b\[2J\\x07\.csv exists/);
      expect(again.stderr).not.toMatch(RAW_CONTROL);
    } finally {
      dir.remove();
    }
  });
});
