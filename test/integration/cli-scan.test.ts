import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../src/core/output-row.js';
import { firstWave, startFakeDnsServer } from '../helpers/dns-server.js';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import { runCli } from '../helpers/cli.js';
import { readCsv } from '../helpers/output-checks.js';

let server: FakeDnsServer;
let dir: string;
const FORMULA = /^[=+\-@\t\r]/;

beforeAll(async () => {
  server = await startFakeDnsServer({
    records: [
      {
        name: 'contoso.test',
        type: 'MX',
        data: {
          preference: 0,
          exchange: 'contoso-test.mail.protection.outlook.com',
        },
      },
      {
        name: 'contoso-test.mail.protection.outlook.com',
        type: 'A',
        data: '52.101.1.1',
      },
      {
        name: 'autodiscover.contoso.test',
        type: 'CNAME',
        data: 'autodiscover.outlook.com',
      },
      { name: 'contoso.test', type: 'TXT', data: '=cmd|"/c calc"!A1' },
      {
        name: 'fabrikam.test',
        type: 'MX',
        data: { preference: 10, exchange: 'mail.fabrikam.test' },
      },
      { name: 'mail.fabrikam.test', type: 'A', data: '198.18.0.7' },
      { name: 'autodiscover.fabrikam.test', type: 'A', data: '198.18.0.7' },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'exoscope-cli-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const resolver = () => ['--resolver', server.address, '--asn-source', 'none'];

describe('exoscope scan (the built CLI)', () => {
  it('gives one row per input row, in order, carrying the input columns, neutralising formulas', async () => {
    const input = join(dir, 'clients.csv');
    writeFileSync(
      input,
      '\ufeffClient;Domain;Contract\r\n' +
        '=HYPERLINK("x");https://www.Contoso.test/login;+42\r\n' +
        'Fabrikam;fabrikam.test.;@SUM(1)\r\n' +
        'Dup;contoso.test;-1\r\n' +
        'Bad;not a domain;\r\n' +
        'IP;192.0.2.1;\r\n' +
        'Gone;absent.test;\r\n',
    );
    const out = join(dir, 'out.csv');
    const run = await runCli(['scan', input, '-o', out, ...resolver()]);
    expect(run.stderr).toContain('scanned 6 rows');
    expect(run.code).toBe(0);
    const rows = readCsv(readFileSync(out), ';');
    expect(rows.map((r) => r.scanned_domain)).toEqual([
      'contoso.test',
      'fabrikam.test',
      'contoso.test',
      '',
      '',
      'absent.test',
    ]);
    expect(rows.map((r) => r.classification)).toEqual([
      // a website is scanned as its registrable domain, not as www.<domain>
      'exchange-online',
      'exchange-onprem',
      'exchange-online',
      'invalid',
      'invalid',
      'no-mail',
    ]);
    expect(rows[0]?.flags).toBe('from-url;www;changed');
    expect(rows.map((r) => r.onprem_exchange)).toEqual([
      'none-seen',
      'possible',
      'none-seen',
      'unknown',
      'unknown',
      'none-seen',
    ]);
    expect(rows[1]?.onprem_hosts).toBe(
      'mail.fabrikam.test=198.18.0.7;autodiscover.fabrikam.test=198.18.0.7',
    );
    expect(rows[3]?.error).toMatch(/./);
    expect(Object.keys(rows[0] as object)).toEqual([
      'Client',
      'Domain',
      'Contract',
      ...RESULT_COLUMNS,
    ]);
    for (const row of rows)
      for (const cell of Object.values(row)) expect(cell).not.toMatch(FORMULA);
    expect(rows[0]?.Client).toBe(`'=HYPERLINK("x")`);
    expect(rows[2]?.spf).toBe('');
  });

  it('gives the same output on worker threads as on the main thread', async () => {
    const input = join(dir, 'threads.txt');
    const names = [
      'contoso.test',
      'fabrikam.test',
      'absent.test',
      'not a domain',
    ];
    // 1 000 rows: several batches per thread, and a short last batch
    writeFileSync(
      input,
      Array.from({ length: 1003 }, (_, i) => names[i % 4]).join('\n') + '\n',
    );
    const one = await runCli(['scan', input, '-q', ...resolver()]);
    const two = await runCli([
      'scan',
      input,
      '-q',
      '--threads',
      '3',
      ...resolver(),
    ]);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.stdout.split('\n')).toHaveLength(1003 + 2);
    expect(two.stdout).toBe(one.stdout);
  });

  it.each(['udp', 'tcp'])(
    'gives the same output with --dns-client %s, every query on it, as by default on TCP',
    async (client) => {
      const input = join(dir, 'tcp.txt');
      const names = ['contoso.test', 'fabrikam.test', 'absent.test'];
      writeFileSync(
        input,
        Array.from({ length: 300 }, (_, i) => names[i % 3]).join('\n') + '\n',
      );
      const asked = async (args: string[]) => {
        const before = server.queries.length;
        const run = await runCli(['scan', input, '-q', ...args, ...resolver()]);
        expect(run.code).toBe(0);
        expect(run.stderr).toBe('');
        const protos = new Set(
          server.queries.slice(before).map((q) => q.proto),
        );
        return { stdout: run.stdout, protos: [...protos] };
      };
      const auto = await asked([]);
      const chosen = await asked(['--dns-client', client]);
      expect(auto.protos).toEqual(['tcp']);
      expect(chosen.protos).toEqual([client]);
      expect(auto.stdout.split('\n')).toHaveLength(300 + 2);
      expect(chosen.stdout).toBe(auto.stdout);
    },
  );

  it.each([[[]], [['--threads', '2']]])(
    'scans by default through a resolver that takes no TCP, and says so once (%j)',
    async (extra: string[]) => {
      const udpOnly = await startFakeDnsServer({ tcp: false });
      try {
        const input = join(dir, 'udp-only.txt');
        writeFileSync(input, 'contoso.test\nabsent.test\n'.repeat(60));
        const run = await runCli([
          'scan',
          input,
          '--resolver',
          udpOnly.address,
          '--asn-source',
          'none',
          ...extra,
        ]);
        expect(run.code).toBe(0);
        const notice = `DNS resolver ${udpOnly.address} made no TCP connection (ECONNREFUSED): asking it over UDP from now on`;
        expect(run.stderr.split('\n')[0]).toBe(`exoscope: ${notice}`);
        // once as it happens, once in the summary
        expect(run.stderr.split(notice)).toHaveLength(3);
        expect(run.stderr).toContain(`\n  ${notice}\n`);
        expect(readCsv(run.stdout)).toHaveLength(120);
        expect(udpOnly.queries.length).toBeGreaterThan(0);
        expect(udpOnly.queries.every((q) => q.proto === 'udp')).toBe(true);
      } finally {
        await udpOnly.close();
      }
    },
  );

  it.each([[[]], [['--threads', '2']]])(
    'keeps scanning the rows after a domain whose servers never answer (%j)',
    async (extra: string[]) => {
      const lame = await startFakeDnsServer({
        behaviour: (name) => (name.startsWith('dead') ? 'drop' : 'answer'),
      });
      try {
        const input = join(dir, 'dead-first.txt');
        const fast = Array.from({ length: 1000 }, (_, i) => `d${i}.test`);
        writeFileSync(input, `dead.test\n${fast.join('\n')}\n`);
        const run = await runCli([
          'scan',
          input,
          '--resolver',
          lame.address,
          '--timeout',
          '4000',
          '--retries',
          '0',
          '--concurrency',
          '40',
          '--asn-source',
          'none',
          '-q',
          ...extra,
        ]);
        expect(run.code).toBe(0);
        const rows = readCsv(run.stdout);
        expect(rows.map((r) => r.scanned_domain)).toEqual([
          'dead.test',
          ...fast,
        ]);
        expect(rows[0]?.status).toBe('timeout');
        // Every other domain was asked while dead.test waited out its 4 s:
        // rows held back for it (output is in input order) do not stop the
        // scan.
        const at = (pick: (name: string) => boolean): number[] =>
          lame.queries.flatMap((q, i) =>
            pick(q.name) ? [lame.arrivals[i] ?? 0] : [],
          );
        const deadAt = Math.min(...at((n) => n === 'dead.test'));
        const lastFast = Math.max(...at((n) => /^d\d+\.test$/.test(n)));
        expect(lastFast - deadAt).toBeLessThan(4000);
      } finally {
        await lame.close();
      }
    },
  );

  it.each([
    [[], 320, 200],
    [['--concurrency', '300'], 320, 300],
    [['--in-flight', '30'], 120, 30],
    [['--in-flight', '30', '--dns-client', 'udp'], 120, 30],
    [['--in-flight', '30', '--threads', '2'], 120, 60],
  ])(
    'keeps at most --in-flight queries waiting on the resolver (%j, %i domains: %i)',
    async (extra: string[], count: number, wave: number) => {
      // Every domain's MX query is dropped: the next ones go out only as
      // those time out, so the first wave is the cap.
      const silent = await startFakeDnsServer({
        behaviour: (name) =>
          name.startsWith('exoscope-preflight') ? 'answer' : 'drop',
      });
      try {
        const input = join(dir, 'silent.txt');
        const domains = Array.from({ length: count }, (_, i) => `s${i}.test`);
        writeFileSync(input, `${domains.join('\n')}\n`);
        const run = await runCli([
          'scan',
          input,
          '--resolver',
          silent.address,
          '--timeout',
          '600',
          '--retries',
          '0',
          '--asn-source',
          'none',
          '-q',
          ...extra,
        ]);
        expect(run.code).toBe(0);
        const rows = readCsv(run.stdout);
        expect(rows.map((r) => r.status)).toEqual(Array(count).fill('timeout'));
        // (`auto` moves the silent resolver to UDP after a timeout and
        // asks the queries then on TCP again there: only the first wave counts.)
        // Names go out in random letter case (DNS 0x20).
        const domain = (q: { name: string }) =>
          q.name.toLowerCase().endsWith('.test');
        const asked = silent.queries.filter(domain);
        expect(new Set(asked.map((q) => q.name.toLowerCase())).size).toBe(
          count,
        );
        expect(firstWave(silent, 300, domain)).toBe(wave);
      } finally {
        await silent.close();
      }
    },
  );

  it('reads a plain list from stdin and writes JSONL with the evidence', async () => {
    const run = await runCli(
      ['scan', '-', '--format', 'jsonl', '-q', ...resolver()],
      {
        stdin: 'contoso.test\nfabrikam.test\n',
      },
    );
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.classification)).toEqual([
      'exchange-online',
      'exchange-onprem',
    ]);
    expect(lines.map((l) => l.onprem_exchange)).toEqual([
      'none-seen',
      'possible',
    ]);
    expect(lines[1]?.onprem_hosts).toEqual([
      {
        name: 'mail.fabrikam.test',
        addresses: ['198.18.0.7'],
        sources: ['mx'],
      },
      {
        name: 'autodiscover.fabrikam.test',
        addresses: ['198.18.0.7'],
        sources: ['autodiscover'],
      },
    ]);
    const ev = lines[0]?.evidence as {
      queries: {
        name: string;
        type: string;
        status: string;
        resolver: string;
      }[];
    };
    expect(ev.queries[0]).toMatchObject({
      name: 'contoso.test',
      type: 'MX',
      status: 'ok',
      resolver: server.address,
    });
  });

  it('refuses to replace an output file without --force', async () => {
    const input = join(dir, 'one.txt');
    writeFileSync(input, 'contoso.test\n');
    const out = join(dir, 'exists.csv');
    writeFileSync(out, 'keep me');
    const run = await runCli(['scan', input, '-o', out, ...resolver()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/exists; use --force/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const forced = await runCli([
      'scan',
      input,
      '-o',
      out,
      '--force',
      ...resolver(),
    ]);
    expect(forced.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('exchange-online');
  });

  it.each([
    [['scan'], 2, /needs an input/],
    [
      ['scan', 'x.csv', '--concurrency', 'lots'],
      2,
      /--concurrency must be a whole number/,
    ],
    [
      ['scan', 'x.csv', '--bogus'],
      2,
      /^exoscope: unknown option --bogus; see exoscope scan --help$/m,
    ],
    [
      ['scan', 'x.csv', '--dns-client', 'quic'],
      2,
      /--dns-client must be one of auto, udp, tcp, cares, got 'quic'/,
    ],
    [
      ['scan', 'x.csv', '--in-flight', '0'],
      2,
      /--in-flight must be a whole number from 1 to 8192, got '0'/,
    ],
    [['frobnicate'], 2, /unknown command/],
    [['scan', '/nonexistent/file.csv'], 1, /not found|no such/i],
  ])('%j exits %i with one line', async (args, code, message) => {
    const run = await runCli(args as string[]);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  /** Scans one domain against `resolver` with no retry; nothing may be written. */
  async function scanUnanswered(resolver: string, ...extra: string[]) {
    const input = join(dir, 'one.txt');
    writeFileSync(input, 'contoso.test\n');
    const out = join(dir, 'never.csv');
    const args = ['scan', input, '-o', out, '--resolver', resolver];
    const run = await runCli([...args, '--retries', '0', ...extra]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    return run;
  }

  it('fails fast with one message when no resolver answers', async () => {
    const run = await scanUnanswered('127.0.0.1:9', '--timeout', '300');
    expect(run.stderr).toMatch(
      /no DNS resolver answered \(127\.0\.0\.1:9, from --resolver\)/,
    );
  });

  it('says when a resolver takes no TCP with --dns-client tcp', async () => {
    const udpOnly = await startFakeDnsServer({ tcp: false });
    try {
      const run = await scanUnanswered(udpOnly.address, '--dns-client', 'tcp');
      expect(run.stderr).toMatch(
        /no DNS resolver answered over TCP \(127\.0\.0\.1:\d+, from --resolver\): ECONNREFUSED; .*--dns-client udp/,
      );
      expect(udpOnly.queries).toEqual([]);
    } finally {
      await udpOnly.close();
    }
  });

  it('documents every option with its default', async () => {
    const run = await runCli(['scan', '--help']);
    expect(run.code).toBe(0);
    for (const opt of [
      '--output',
      '--format',
      '--resolver',
      '--concurrency',
      '--rate',
      '--timeout',
      '--retries',
      '--in-flight',
      '--asn-source',
      '--asn-db',
      '--column',
      '--force',
    ]) {
      expect(run.stdout).toContain(opt);
    }
    expect((await runCli(['--help'])).stdout).toContain('exoscope scan');
  });
});
