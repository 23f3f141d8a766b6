/**
 * Input files: messy spreadsheets and slow pipes through the built CLI, as
 * a user runs it, against a fake DNS server on loopback.
 */

import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_COLUMNS, neutralise } from '../../src/core/output-row.js';
import { startFakeDnsServer } from '../helpers/dns-server.js';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import { startCli, runCli, waitFor, residentBytes } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import {
  readCsv,
  expectNoFormula,
  expectOneLineError,
  tempFiles,
} from '../helpers/output-checks.js';
import { mx, a, dnsArgs, askedNames } from '../helpers/fake-dns.js';

let server: FakeDnsServer;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  server = await startFakeDnsServer({
    records: [
      mx('acme.test', 'mail.acme.test'),
      a('mail.acme.test', '198.18.0.10'),
      mx('xn--bcher-kva.test', 'mail.xn--bcher-kva.test'),
      a('mail.xn--bcher-kva.test', '198.18.0.11'),
      mx('globex.test', 'mail.globex.test'),
      a('mail.globex.test', '198.18.0.12'),
    ],
  });
  tmp = tempDir('input');
});
afterAll(async () => {
  await server?.close();
  tmp?.remove();
});

const dns = (): string[] => dnsArgs(server);

/** Writes an input file in the test's directory and returns its path. */
function input(name: string, content: string | Buffer): string {
  const path = join(tmp.path, name);
  writeFileSync(path, content);
  return path;
}

/** The queries sent for anything but the resolver pre-flight. */
function scanQueries(since: number): string[] {
  return askedNames(server)
    .slice(since)
    .filter((n) => !/^exoscope-preflight-\d\.invalid$/.test(n));
}

describe('input files', () => {
  it('BOM, CRLF, ; separator, quoted fields with separators and newlines, trailing tabs → parsed right', async () => {
    const semicolon = input(
      'semicolon.csv',
      '\ufeffClient;Domain;Notes\r\n' +
        '"Acme; Inc";acme.test;"first line\r\nsecond; with ""quotes"", commas"\r\n' +
        'Globex;"globex.test";plain\r\n',
    );
    const out = join(tmp.path, 'semicolon.out.csv');
    const run = await runCli(['scan', semicolon, '-o', out, ...dns()]);
    expect(run.stderr).toContain('scanned 2 rows');
    expect(run.code).toBe(0);
    // A ;-separated input gives ;-separated output.
    const rows = readCsv(readFileSync(out), ';');
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'Client',
      'Domain',
      'Notes',
      ...RESULT_COLUMNS,
    ]);
    expect(rows.map((r) => [r.Client, r.Domain, r.Notes])).toEqual([
      ['Acme; Inc', 'acme.test', 'first line\r\nsecond; with "quotes", commas'],
      ['Globex', 'globex.test', 'plain'],
    ]);
    expect(rows.map((r) => r.classification)).toEqual([
      'self-hosted',
      'self-hosted',
    ]);

    // Tab-separated, LF, every line ending in a stray tab.
    const tabs = input(
      'tabs.tsv',
      'domain\tcontact\t\nacme.test\tBob\t\nglobex.test\t\t\n',
    );
    const tsv = await runCli(['scan', tabs, ...dns()]);
    expect(tsv.code).toBe(0);
    const tsvRows = readCsv(tsv.stdout, '\t'); // tab-separated in and out
    expect(tsvRows.map((r) => [r.domain, r.contact, r.scanned_domain])).toEqual(
      [
        ['acme.test', 'Bob', 'acme.test'],
        ['globex.test', '', 'globex.test'],
      ],
    );

    // A plain list whose lines end in a tab: still one domain a line.
    const list = input('list-tabs.txt', 'acme.test\t\r\nglobex.test\t\r\n');
    const plain = await runCli(['scan', list, ...dns()]);
    expect(plain.code).toBe(0);
    expect(readCsv(plain.stdout).map((r) => r.scanned_domain)).toEqual([
      'acme.test',
      'globex.test',
    ]);
  });

  it('a single-column file headed "Client Domain" is read with a header, not as a data row', async () => {
    const path = input(
      'client-domain.csv',
      'Client Domain\nacme.test\nglobex.test\n',
    );
    const run = await runCli(['scan', path, ...dns()]);
    expect(run.code).toBe(0);
    const rows = readCsv(run.stdout);
    expect(rows.map((r) => r['Client Domain'])).toEqual([
      'acme.test',
      'globex.test',
    ]);
    expect(rows.map((r) => r.classification)).not.toContain('invalid');

    // Several columns, none with a known name, one that says what it holds.
    const multi = input(
      'primary-website.csv',
      'Client,Primary Website,Contact E-Mail\nAcme,https://acme.test/,bob@globex.test\n',
    );
    const many = await runCli(['scan', multi, ...dns()]);
    expect(many.code).toBe(0);
    expect(readCsv(many.stdout).map((r) => r.scanned_domain)).toEqual([
      'acme.test',
    ]);
  });

  it('blank and comment lines are skipped and counted; a header-only file gives no rows and says so', async () => {
    const path = input(
      'blanks.csv',
      '# exported 2024-03-01\n\ndomain,owner\n\nacme.test,A\n# globex.test,G\n  \n,\nglobex.test,G\n\n',
    );
    const run = await runCli(['scan', path, ...dns()]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('scanned 2 rows');
    expect(run.stderr).toContain('skipped input lines: 5 blank, 2 comment');
    expect(readCsv(run.stdout).map((r) => r.domain)).toEqual([
      'acme.test',
      'globex.test',
    ]);

    const headerOnly = input('header-only.csv', 'domain,owner\r\n\r\n');
    const none = await runCli(['scan', headerOnly, ...dns()]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('scanned 0 rows');
    expect(none.stderr).toContain('header but no data rows');
    expect(readCsv(none.stdout)).toEqual([]);
    expect(none.stdout.split('\n')[0]).toBe(
      ['domain', 'owner', ...RESULT_COLUMNS].join(','),
    );
  });

  it('an empty file, or one of only blank and comment lines → a clear message, exit 1, nothing written', async () => {
    for (const [name, content, message] of [
      ['empty.csv', '', /empty\.csv: the input is empty/],
      ['bom-only.csv', '\ufeff', /the input is empty/],
      ['comments.csv', '# nothing\n\n# yet\n', /no rows.*blank or comment/],
    ] as const) {
      const out = join(tmp.path, `${name}.out.csv`);
      const run = await runCli(['scan', input(name, content), '-o', out]);
      expectOneLineError(run, 1, message);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('Latin-1, UTF-16 without BOM, NUL bytes, binary files → a clear error naming the problem, nothing scanned', async () => {
    const cases: [string, Buffer, RegExp][] = [
      [
        'latin1.csv',
        Buffer.from('domain\nacme.test\nmüller.test\n', 'latin1'),
        /line 3 is not valid UTF-8 \(Latin-1 or Windows-1252\?\)/,
      ],
      [
        'utf16-nobom.csv',
        Buffer.from('domain\nacme.test\n', 'utf16le'),
        /UTF-16LE text without a byte-order mark/,
      ],
      [
        'nul.csv',
        Buffer.from('domain\nacme.test\nglo\0bex.test\n'),
        /line 3 contains a NUL byte/,
      ],
      [
        'book.xlsx',
        Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0, 0, 0]),
        /ZIP archive \(an \.xlsx workbook\?\)/,
      ],
      [
        'list.csv.gz',
        Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]),
        /gzip-compressed/,
      ],
      [
        'program.bin',
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x0a, 0xff]),
        /NUL byte/,
      ],
    ];
    for (const [name, content, message] of cases) {
      const before = server.queries.length;
      const out = join(tmp.path, `${name}.out.csv`);
      const run = await runCli(['scan', input(name, content), '-o', out]);
      expectOneLineError(run, 1, message);
      expect(run.stderr).toContain(name);
      expect(existsSync(out)).toBe(false);
      expect(scanQueries(before)).toEqual([]);
    }
  });

  it('UTF-16 with a BOM is unambiguous: decoded and scanned', async () => {
    const le = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('Domain,Name\r\nbücher.test,Bücher\r\n', 'utf16le'),
    ]);
    const run = await runCli(['scan', input('utf16le.csv', le), ...dns()]);
    expect(run.code).toBe(0);
    expect(readCsv(run.stdout)).toMatchObject([
      {
        Domain: 'bücher.test',
        Name: 'Bücher',
        scanned_domain: 'xn--bcher-kva.test',
        classification: 'self-hosted',
      },
    ]);
  });

  it('a Latin-1 byte deep in a large file stops the run with its line; no output file is left', async () => {
    const lines = ['domain'];
    for (let i = 0; i < 20_000; i++) lines.push(`host-${i}.invalid-entry`);
    const content = Buffer.concat([
      Buffer.from(`${lines.join('\n')}\n`),
      Buffer.from('caf\xe9.test\n', 'latin1'),
    ]);
    const out = join(tmp.path, 'deep.out.csv');
    const run = await runCli([
      'scan',
      input('deep-latin1.csv', content),
      '-o',
      out,
      ...dns(),
    ]);
    expectOneLineError(run, 1, /line 20002 is not valid UTF-8/);
    expect(existsSync(out)).toBe(false);
    expect(tempFiles(tmp.path)).toEqual([]);
  });

  it('a missing file, a directory, an unreadable file → one line, exit 1, nothing written, no query', async () => {
    const out = join(tmp.path, 'never.csv');
    const before = server.queries.length;
    const missing = await runCli([
      'scan',
      join(tmp.path, 'nope.csv'),
      '-o',
      out,
      ...dns(),
    ]);
    expectOneLineError(missing, 1, /nope\.csv: no such file/);

    const folder = join(tmp.path, 'a-folder');
    mkdirSync(folder);
    const directory = await runCli(['scan', folder, '-o', out, ...dns()]);
    expectOneLineError(directory, 1, /a-folder: is a directory/);

    // Root reads anything: run the CLI as nobody then.
    const locked = input('locked.csv', 'domain\nacme.test\n');
    chmodSync(locked, 0o000);
    chmodSync(tmp.path, 0o755);
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const unreadable = await runCli(
      ['scan', locked, '-o', out, ...dns()],
      asNobody,
    );
    expectOneLineError(unreadable, 1, /locked\.csv: permission denied/);

    expect(existsSync(out)).toBe(false);
    expect(scanQueries(before)).toEqual([]);
  });

  it('upper case, trailing dot, spaces, URLs, mailto and e-mail addresses, IDN, full-width and zero-width characters → normalised, the original kept', async () => {
    const entries = [
      'ACME.TEST',
      'acme.test.',
      '  acme.test  ',
      'https://www.Acme.test/login?next=/',
      'acme.test:8443',
      'mailto:bob@acme.test?subject=hi',
      'Bob@ACME.test',
      'Bob Smith <bob@acme.test>',
      'bücher.test',
      'ａｃｍｅ．ｔｅｓｔ',
      'ac\u200bme\u200d.test',
      '\ufeffacme.test',
    ];
    const path = input(
      'entries.csv',
      `Domain\n${entries.map((e) => `"${e}"`).join('\n')}\n`,
    );
    const run = await runCli(['scan', path, ...dns()]);
    expect(run.code).toBe(0);
    const rows = readCsv(run.stdout);
    expect(rows.map((r) => r.Domain)).toEqual(entries);
    expect(rows.map((r) => r.scanned_domain)).toEqual([
      'acme.test',
      'acme.test',
      'acme.test',
      'acme.test',
      'acme.test',
      'acme.test',
      'acme.test',
      'acme.test',
      'xn--bcher-kva.test',
      'acme.test',
      'acme.test',
      'acme.test',
    ]);
    expect(rows.map((r) => r.flags)).toEqual([
      'changed',
      'changed',
      '',
      'from-url;www;changed',
      'from-url;changed',
      'from-email;changed',
      'from-email;changed',
      'from-email;changed',
      'idn',
      'changed',
      'changed',
      // String.prototype.trim() counts U+FEFF as white space, like the spaces
      '',
    ]);
    expect(rows[8]?.classification).toBe('self-hosted');
    expect(askedNames(server)).toContain('xn--bcher-kva.test');
  });

  it('free text, IPs, CIDR, numbers, single labels, *.x, _x., over-long labels and names → invalid with the reason, no query sent', async () => {
    const cases: [string, string][] = [
      ['not a domain', 'not-a-hostname'],
      ['Acme Corporation', 'not-a-hostname'],
      ['192.0.2.1', 'ip-address'],
      ['2001:db8::1', 'ip-address'],
      ['http://[2001:db8::1]/', 'ip-address'],
      ['10.0.0.0/8', 'cidr'],
      ['2001:db8::/32', 'cidr'],
      ['12345', 'single-label'],
      ['1.2.3', 'numeric-tld'],
      ['localhost', 'single-label'],
      ['*.acme.test', 'wildcard'],
      ['_dmarc.acme.test', 'underscore-label'],
      [`${'a'.repeat(64)}.test`, 'label-too-long'],
      [`${Array(5).fill('b'.repeat(60)).join('.')}.test`, 'name-too-long'],
      ['-acme.test', 'bad-label-hyphen'],
      ['acme..test', 'not-a-hostname'],
      ['http://', 'url-without-host'],
      ['', 'empty'],
    ];
    const path = input(
      'invalid.csv',
      `name,domain\n${cases.map(([v], i) => `row ${i},"${v}"`).join('\n')}\n`,
    );
    const before = server.queries.length;
    const run = await runCli(['scan', path, ...dns()]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`scanned ${cases.length} rows`);
    const rows = readCsv(run.stdout);
    // The carried cell is kept, only made inert ('-acme.test starts with -).
    expect(rows.map((r) => r.domain)).toEqual(
      cases.map(([v]) => neutralise(v)),
    );
    expect(rows.map((r) => r.flags)).toEqual(
      cases.map(([, reason]) => `invalid-${reason}`),
    );
    for (const row of rows) {
      expect(row.classification).toBe('invalid');
      expect(row.status).toBe('invalid');
      expect(row.scanned_domain).toBe('');
      expect(row.error).toMatch(/./);
    }
    expect(scanQueries(before)).toEqual([]);
  });

  it('a public suffix alone and subdomains are scanned as given and flagged, not rewritten; a www. name as its registrable domain', async () => {
    const path = input(
      'suffixes.txt',
      'co.uk\nwww.example.com\nmail.example.co.uk\nexample.co.uk\n',
    );
    const before = server.queries.length;
    const run = await runCli(['scan', path, ...dns()]);
    expect(run.code).toBe(0);
    const rows = readCsv(run.stdout);
    expect(rows.map((r) => [r.scanned_domain, r.flags])).toEqual([
      ['co.uk', 'public-suffix'],
      ['example.com', 'www;changed'],
      ['mail.example.co.uk', 'subdomain'],
      ['example.co.uk', ''],
    ]);
    // The fake server knows none of them: NXDOMAIN, i.e. asked as given.
    expect(rows.map((r) => r.status)).toEqual([
      'nxdomain',
      'nxdomain',
      'nxdomain',
      'nxdomain',
    ]);
    const asked = scanQueries(before);
    for (const name of ['co.uk', 'example.com', 'mail.example.co.uk'])
      expect(asked).toContain(name);
    expect(asked).not.toContain('www.example.com');
  });

  it('cells that look like formulas in any carried column (and the header) are neutralised', async () => {
    const path = input(
      'formulas.csv',
      '=HYPERLINK("http://x";"y"),domain,+note,-n,@who,tab,cr,wide\n' +
        '=1+2,acme.test,+SUM(A1),-3,@SUM(1),"\tx","\rx",＝1+1\n' +
        '"=cmd|\' /C calc\'!A0",=acme.test,ok,,,,,\n',
    );
    const run = await runCli(['scan', path, ...dns()]);
    expect(run.code).toBe(0);
    expectNoFormula(run.stdout);
    const rows = readCsv(run.stdout);
    expect(Object.keys(rows[0] ?? {}).slice(0, 8)).toEqual([
      `'=HYPERLINK("http://x";"y")`,
      'domain',
      "'+note",
      "'-n",
      "'@who",
      'tab',
      'cr',
      'wide',
    ]);
    expect(Object.values(rows[0] ?? {}).slice(0, 8)).toEqual([
      "'=1+2",
      'acme.test',
      "'+SUM(A1)",
      "'-3",
      "'@SUM(1)",
      "'\tx",
      "'\rx",
      "'＝1+1",
    ]);
    expect(rows[1]).toMatchObject({
      domain: "'=acme.test",
      classification: 'invalid',
    });
  });

  // Flat memory and progress on a 1 M-row input are checked by the memory
  // run of `npm run bench` (scripts/bench-memory.ts); here, on 20 k rows,
  // that the pipeline streams: rows come out before the input has ended,
  // every row once and in order, in bounded memory.
  it('a large input streams: rows come out before it ends, every row once and in order', async () => {
    const half = 10_000;
    // Mostly entries that need no query, and few distinct domains: the run
    // measures the pipeline, not DNS.
    const lines = (from: number): string =>
      Array.from({ length: half }, (_v, k) => {
        const i = from + k;
        const domain =
          i % 4 === 0
            ? `client-${i % 97}.test`
            : i % 4 === 1
              ? 'acme.test'
              : `not a domain ${i}`;
        return `${i},${domain}\n`;
      }).join('');
    const cli = startCli(['scan', '-', ...dns()]);
    const pid = cli.child.pid as number;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(pid) ?? 0);
    }, 50);
    try {
      cli.child.stdin.write(`id,domain\n${lines(0)}`);
      // half the input still to come: rows must already be written
      await waitFor(
        () => cli.stdout().split('\n').length > half / 2,
        'rows on stdout before the input ends',
        cli,
      );
      cli.child.stdin.end(lines(half));
      const run = await cli.done;
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`scanned ${2 * half} rows`);
    } finally {
      clearInterval(sampler);
      cli.child.stdin.end();
    }
    expect(peak).toBeLessThan(300 * 1024 * 1024);
    const ids = cli
      .stdout()
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => Number(line.split(',')[0]));
    expect(ids).toEqual(Array.from({ length: 2 * half }, (_v, i) => i));
  });
});

// A stdin that delivers slowly must not hold the scan back until 64 KiB or
// its end: the first rows are scanned as soon as they arrive.
describe('streaming input', () => {
  it('rows piped in slowly are scanned as they arrive', async () => {
    const before = server.queries.length;
    const cli = startCli(['scan', '-', '--format', 'jsonl', ...dns()]);
    try {
      // The parser holds the last line back until the next bytes show
      // where it ends: a pipe's rows arrive one line late, not 64 KiB late.
      cli.child.stdin.write('domain\nacme.test\nglobex.test\nlast.test\n');
      await waitFor(
        () => askedNames(server).slice(before).includes('mail.globex.test'),
        'the piped rows to be scanned',
        cli,
      );
    } finally {
      cli.child.stdin.end();
    }
    const run = await cli.done;
    expect(run.code).toBe(0);
    const rows = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { domain: string });
    expect(rows.map((r) => r.domain)).toEqual([
      'acme.test',
      'globex.test',
      'last.test',
    ]);
  });

  it('a row with more fields than the header: every row once, the extra ones flagged, kept in JSONL, counted in the summary', async () => {
    const path = input(
      'wide.csv',
      [
        'name,domain,note',
        'Acme,acme.test,ok',
        'Globex,globex.test,"a, b",extra one,=extra two',
        'Trailing,acme.test,x,,',
        'Last,globex.test,',
      ].join('\n'),
    );
    for (const threads of ['1', '2']) {
      const run = await runCli(['scan', path, '--threads', threads, ...dns()]);
      expect(run.code).toBe(0);
      const rows = readCsv(run.stdout);
      expect(rows.map((r) => r.name)).toEqual([
        'Acme',
        'Globex',
        'Trailing',
        'Last',
      ]);
      expect(rows.map((r) => r.flags?.includes('extra-fields'))).toEqual([
        false,
        true,
        false, // empty extra fields lose nothing
        false,
      ]);
      expect(rows[1]).toMatchObject({
        note: 'a, b',
        classification: 'self-hosted',
        error:
          'the row has 5 fields, the header 3: the 2 extra ones are not in the CSV output (use -f jsonl to keep them)',
      });
      expect(run.stderr).toContain(
        'rows with more fields than the header: 1 (flag extra-fields',
      );
    }
    const jsonl = await runCli(['scan', path, '-f', 'jsonl', ...dns()]);
    const records = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { input: Record<string, string> });
    expect(records[1]?.input).toEqual({
      name: 'Globex',
      domain: 'globex.test',
      note: 'a, b',
      extra_1: 'extra one',
      extra_2: '=extra two',
    });
  });
});
