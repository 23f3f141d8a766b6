/**
 * The command line's manners (issue #19, "CLI habits"; issue #16 item 11):
 * typos get a suggestion, usage errors exit 2, flags that need --redis say
 * so, progress has a total, errors say where a resolver came from, and a
 * `;`-separated list gives `;`-separated output. The built CLI, spawned.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflight } from '../../src/run/deps.js';
import type { DnsPort } from '../../src/core/dns.js';
import type { AsnPort } from '../../src/core/ip-owner.js';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { TempDir } from '../helpers/temp-dir.js';
import { dnsArgs } from '../helpers/fake-dns.js';
import { startDns, QUEUE_DNS_TIMEOUT_MS } from '../helpers/queue-world.js';

let dns: FakeDnsServer;
let dir: TempDir;

beforeAll(async () => {
  dns = await startDns();
  dir = tempDir();
});
afterAll(async () => {
  await dns?.close();
  dir?.remove();
});

/** One line on stderr, no stack trace, and the exit code. */
function expectOneLine(
  run: { code: number | null; stderr: string },
  code: number,
): string {
  expect(run.code).toBe(code);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

describe('mistyped flags', () => {
  it.each([
    [
      ['scan', 'x.csv', '--resovler', '127.0.0.1'],
      'unknown option --resovler (did you mean --resolver?); see exoscope scan --help',
    ],
    [
      ['scan', 'x.csv', '--resovler=127.0.0.1'],
      'unknown option --resovler (did you mean --resolver?); see exoscope scan --help',
    ],
    [
      ['scan', 'x.csv', '--conc', '5'],
      'unknown option --conc (did you mean --concurrency?); see exoscope scan --help',
    ],
    [
      ['scan', 'x.csv', '--frobnicate'],
      'unknown option --frobnicate; see exoscope scan --help',
    ],
    [
      ['scan', 'x.csv', '--resolver'],
      '--resolver needs a value; see exoscope scan --help',
    ],
    [
      ['scan', 'x.csv', '--force=yes'],
      '--force takes no value; see exoscope scan --help',
    ],
    [
      ['status', 'q4', '--jsn'],
      'unknown option --jsn (did you mean --json?); see exoscope status --help',
    ],
    [
      ['collect', 'q4', '--no-wiat'],
      'unknown option --no-wiat (did you mean --no-wait?); see exoscope collect --help',
    ],
    [
      ['worker', '--concurency', '3'],
      'unknown option --concurency (did you mean --concurrency?); see exoscope worker --help',
    ],
    [
      ['enqueue', 'x.csv', '--chunksize', '3'],
      'unknown option --chunksize (did you mean --chunk-size?); see exoscope enqueue --help',
    ],
    [
      ['sacn', 'x.csv'],
      "unknown command 'sacn' (did you mean scan?); see exoscope --help",
    ],
  ])(
    '%j: one line naming it and the closest flag, exit 2',
    async (args, line) => {
      const run = await runCli(args);
      expect(expectOneLine(run, 2)).toBe(`exoscope: ${line}`);
    },
  );
});

describe('usage errors exit 2 everywhere', () => {
  it.each([
    [['scan', 'x.csv', '--resolver', '1.2.3'], /--resolver: '1\.2\.3' is not/],
    [['scan', 'x.csv', '--resolver', 'dns.example'], /--resolver: 'dns/],
    [
      ['scan', 'x.csv', '--redis', 'redis://127.0.0.1:1', '--scan', 'b@d'],
      /--scan: scan id 'b@d' must be/,
    ],
    [
      ['scan', 'x.csv', '--redis', 'redis://127.0.0.1:1', '--prefix', 'a:b'],
      /--prefix: prefix 'a:b' must be/,
    ],
    [
      ['enqueue', 'x.csv', '--redis', 'redis://127.0.0.1:1', '--scan', 'b@d'],
      /--scan: scan id 'b@d'/,
    ],
    [['status', 'b@d', '--redis', 'redis://127.0.0.1:1'], /scan id 'b@d'/],
    [['collect', 'b@d', '--redis', 'redis://127.0.0.1:1'], /scan id 'b@d'/],
    [['status', 'q4', '--redis', 'ftp://127.0.0.1'], /not a Redis URL/],
    [['scan', 'x.csv', '--delimiter', '|'], /--delimiter must be/],
  ])('%j', async (args, message) => {
    const run = await runCli(args, { env: { REDIS_URL: '' } });
    expect(expectOneLine(run, 2)).toMatch(message);
  });

  it('a bad address in EXOSCOPE_RESOLVERS is named as such, exit 2', async () => {
    const run = await runCli(['scan', 'x.csv'], {
      env: { EXOSCOPE_RESOLVERS: '127.0.0.1:99999' },
    });
    expect(expectOneLine(run, 2)).toMatch(
      /EXOSCOPE_RESOLVERS: '127\.0\.0\.1:99999' is not a resolver address/,
    );
  });
});

describe('flags that need --redis, and --threads that does not go with it', () => {
  it.each([
    ['--workers', '3'],
    ['--chunk-size', '10'],
    ['--scan', 'q4'],
    ['--prefix', 'mine'],
  ])('%s without --redis is refused, exit 2', async (flag, value) => {
    const run = await runCli(['scan', 'x.csv', flag, value]);
    expect(expectOneLine(run, 2)).toBe(
      `exoscope: ${flag} works only with --redis URL (the distributed mode); see exoscope scan --help`,
    );
  });

  it('--threads with --redis is refused, exit 2', async () => {
    const run = await runCli([
      'scan',
      'x.csv',
      '--redis',
      'redis://127.0.0.1:1',
      '--threads',
      '2',
    ]);
    expect(expectOneLine(run, 2)).toMatch(
      /--threads does not work with --redis: use --workers/,
    );
  });
});

describe('flag combinations that would do nothing', () => {
  const redis = ['--redis', 'redis://127.0.0.1:1'];
  it.each([
    [
      ['scan', 'x.csv', '--format', 'jsonl', '--delimiter', ';'],
      'exoscope: --delimiter works only with CSV output, not with --format jsonl',
    ],
    [
      ['enqueue', 'x.csv', '-f', 'jsonl', '-d', 'tab', ...redis],
      'exoscope: --delimiter works only with CSV output, not with --format jsonl',
    ],
    [
      ['scan', 'x.csv', '--force'],
      'exoscope: --force works only with --output FILE (it replaces an existing file)',
    ],
    [
      ['scan', 'x.csv', '-o', '-', '--force'],
      'exoscope: --force works only with --output FILE (it replaces an existing file)',
    ],
    [
      ['collect', 'q4', '--force', ...redis],
      'exoscope: --force works only with --output FILE (it replaces an existing file)',
    ],
    [
      ['scan', 'x.csv', '--progress', '--no-progress'],
      'exoscope: --progress and --no-progress contradict each other: give one of them',
    ],
    [
      ['collect', 'q4', '--progress', '--no-progress', ...redis],
      'exoscope: --progress and --no-progress contradict each other: give one of them',
    ],
    [
      ['scan', 'x.csv', '--asn-source', 'cymru', '--asn-db', 'asn.csv'],
      'exoscope: --asn-db takes the place of --asn-source: give one of them',
    ],
    [
      ['worker', '--asn-source', 'none', '--asn-db', 'asn.csv', ...redis],
      'exoscope: --asn-db takes the place of --asn-source: give one of them',
    ],
    [
      ['worker', '--chunk-size', '50', ...redis],
      'exoscope: --chunk-size works only with --rate-domains N (it is the chunk size the rate assumes); see exoscope worker --help',
    ],
    [
      ['worker', '--chunk-size', '50', '--rate-domains', '0', ...redis],
      'exoscope: --chunk-size works only with --rate-domains N (it is the chunk size the rate assumes); see exoscope worker --help',
    ],
  ])('%j is refused, exit 2', async (args, message) => {
    const run = await runCli(args);
    expect(expectOneLine(run, 2)).toBe(message);
  });
});

describe('messages that say what to do', () => {
  it('a missing input file: where it was looked for, and what to give', async () => {
    const run = await runCli(['scan', 'no-such-list.csv']);
    const line = expectOneLine(run, 1);
    expect(line).toContain('no-such-list.csv: no such file in ');
    expect(line).toContain('or - to read stdin');
  });

  it.each([
    [
      'flag' as const,
      /\(127\.0\.0\.1:9, from --resolver\): .*; check the address and port, or pass a resolver that answers with --resolver/,
    ],
    [
      'env' as const,
      /\(127\.0\.0\.1:9, from EXOSCOPE_RESOLVERS\): .*; fix or unset EXOSCOPE_RESOLVERS/,
    ],
  ])(
    'no resolver answers (%s): the message names where the address came from',
    async (origin, message) => {
      const input = dir.file('one.txt', 'contoso.test\n');
      const args = ['scan', input, '--retries', '0', '--timeout', '300'];
      const run =
        origin === 'flag'
          ? await runCli([...args, '--resolver', '127.0.0.1:9'])
          : await runCli(args, {
              env: { EXOSCOPE_RESOLVERS: '127.0.0.1:9' },
            });
      expect(expectOneLine(run, 1)).toMatch(message);
    },
  );

  it("the system's resolvers: the message names /etc/resolv.conf and --resolver", async () => {
    // No network: a DNS port that never answers stands in for the system's.
    const silent: DnsPort = {
      query: (name, type) =>
        Promise.resolve({
          name,
          type,
          status: 'timeout' as const,
          records: [],
          resolver: '192.0.2.53:53',
          ms: 300,
        }),
    };
    const asn: AsnPort = {
      lookup: () =>
        Promise.resolve({ asn: null, org: '', prefix: '', source: 'none' }),
    };
    const err = await preflight({
      deps: { dns: silent, sharedDns: silent, asn },
      resolvers: ['192.0.2.53:53'],
      resolverOrigin: 'system',
      dnsClient: 'udp',
    }).then(
      () => null,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err?.code).toBe('EXO_RESOLVER_UNREACHABLE');
    expect(err?.message).toMatch(
      /\(192\.0\.2\.53:53, from \/etc\/resolv\.conf\): .*this machine's resolver does not answer: pass one that does with --resolver ADDR\[:PORT\] \(or set EXOSCOPE_RESOLVERS\)/,
    );
  });
});

describe('the progress line of a file input', () => {
  it('shows the total, the percentage and the ETA', async () => {
    // The last domain is never answered: its two tries of 1.2 s each keep
    // the run going past the 2 s after which a plain progress line is due.
    const input = dir.file(
      'progress.csv',
      'id,domain\n1,contoso.test\n# a comment\n\n2,fabrikam.test\n3,slow-last.test\n',
    );
    const run = await runCli([
      'scan',
      input,
      '--progress',
      ...dnsArgs(dns, 1200).slice(0, 4),
      '--timeout',
      '1200',
      '--retries',
      '1',
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^exoscope: progress: 3 of 3 rows \(100 %\) · ETA 0 s · \d+\/s · 1 unresolved · \d+ s$/m,
    );
  });
});

describe('the delimiter', () => {
  const semicolons = 'id;domain;note\n1;contoso.test;a,b\n2;fabrikam.test;c\n';

  it('a ;-separated input gives ;-separated output', async () => {
    const input = dir.file('semi.csv', semicolons);
    const run = await runCli([
      'scan',
      input,
      ...dnsArgs(dns, QUEUE_DNS_TIMEOUT_MS),
    ]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id;domain;note;/);
    expect(lines[1]).toMatch(/^1;contoso\.test;a,b;/);
    expect(lines[1]).toContain(';exchange-online;');
  });

  it('--delimiter overrides it; tab and , too', async () => {
    const input = dir.file('semi2.csv', semicolons);
    const comma = await runCli([
      'scan',
      input,
      '--delimiter',
      ',',
      ...dnsArgs(dns, QUEUE_DNS_TIMEOUT_MS),
    ]);
    expect(comma.code).toBe(0);
    expect(comma.stdout.split('\n')[1]).toMatch(/^1,contoso\.test,"a,b",/);
    const out = join(dir.path, 'tab.tsv');
    const tab = await runCli([
      'scan',
      input,
      '-d',
      'tab',
      '-o',
      out,
      ...dnsArgs(dns, QUEUE_DNS_TIMEOUT_MS),
    ]);
    expect(tab.code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[1]).toMatch(
      /^1\tcontoso\.test\ta,b\t/,
    );
  });

  it('a list of domains with stray ; at the line ends is still a list: comma output', async () => {
    const input = dir.file('list.txt', 'contoso.test;\nfabrikam.test;\n');
    const run = await runCli([
      'scan',
      input,
      ...dnsArgs(dns, QUEUE_DNS_TIMEOUT_MS),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(
      /^input,column_2,scanned_domain,/,
    );
  });

  it('a comma input stays comma-separated', async () => {
    const input = join(dir.path, 'comma.csv');
    writeFileSync(input, 'domain,note\ncontoso.test,x;y\n');
    const run = await runCli([
      'scan',
      input,
      ...dnsArgs(dns, QUEUE_DNS_TIMEOUT_MS),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[1]).toMatch(/^contoso\.test,x;y,/);
  });
});
