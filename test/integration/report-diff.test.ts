/**
 * diff and report --baseline on two scans of a zone that changed between
 * them; scan, scan --redis and enqueue + worker + collect write the same
 * rows and a record (<output>.meta.json) the report reads the same way.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDnsServer } from '../helpers/dns-server.js';
import {
  WORLD_INPUT,
  WORLD_INPUT_AFTER,
  worldAfter,
  startWorldServer,
  worldDnsFlags,
} from '../helpers/report-world.js';
import { startCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { TempDir } from '../helpers/temp-dir.js';
import { readCsv } from '../helpers/output-checks.js';
import {
  REDIS_URL,
  freshPrefix,
  testRedis,
  dropPrefix,
} from '../helpers/queue-world.js';

let server: FakeDnsServer;
let dir: TempDir;
let redis: Redis;
let before: string;
let after: string;
let beforeCsv: string;
const prefixes: string[] = [];

const dns = (): string[] => worldDnsFlags(server);

beforeAll(async () => {
  server = await startWorldServer();
  dir = tempDir();
  redis = testRedis();
  const input1 = dir.file('clients.csv', WORLD_INPUT);
  before = join(dir.path, 'q1.jsonl');
  beforeCsv = join(dir.path, 'q1.csv');
  for (const [out, f] of [
    [before, 'jsonl'],
    [beforeCsv, 'csv'],
  ] as const) {
    const r = await runCli(['scan', input1, '-o', out, '-f', f, ...dns()]);
    expect(r.code, r.stderr).toBe(0);
  }
  server.setRecords(worldAfter());
  const input2 = dir.file('clients-q2.csv', WORLD_INPUT_AFTER);
  after = join(dir.path, 'q2.jsonl');
  const r = await runCli([
    'scan',
    input2,
    '-o',
    after,
    '-f',
    'jsonl',
    ...dns(),
  ]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  await redis?.quit();
  await server?.close();
  dir?.remove();
});

const EXPECTED = [
  ['new.test', 'Delta', 'added', 'classification', '', 'exchange-onprem'],
  ['exo.test', 'Alpha', 'tenant', 'tenant', '', 'contosoexo'],
  [
    'onprem.test',
    'Alpha',
    'classification',
    'classification',
    'exchange-onprem',
    'exchange-online',
  ],
  ['gw.test', 'Gamma', 'gateway', 'gateway', 'proofpoint', 'mimecast'],
  ['gone.test', 'Delta', 'removed', 'classification', 'no-mail', ''],
  [
    'onprem.test',
    'Alpha',
    'onprem_exchange',
    'onprem_exchange',
    'possible',
    'none-seen',
  ],
];

describe('exoscope diff on two scans of a changed zone', () => {
  it('writes one CSV row per change and a summary on stderr', async () => {
    const r = await runCli(['diff', beforeCsv, after, '--group', 'client']);
    expect(r.code, r.stderr).toBe(0);
    const rows = readCsv(r.stdout).map((c) => [
      c.domain,
      c.group,
      c.change,
      c.field,
      c.old,
      c.new,
    ]);
    expect(rows.sort()).toEqual([...EXPECTED].sort());
    expect(r.stderr).toContain(
      '1 client moved to Exchange Online (from on-premises Exchange)',
    );
    expect(r.stderr).toContain('1 domain added');
    expect(r.stderr).toContain('1 domain removed');
    expect(r.stderr).toContain('1 client changed gateway');
    expect(r.stderr).toContain('1 on-prem server no longer seen');
  });

  it('writes JSONL to a file, and refuses to replace it without --force', async () => {
    const out = join(dir.path, 'changes.jsonl');
    const r = await runCli([
      'diff',
      before,
      after,
      '-f',
      'jsonl',
      '-o',
      out,
      '-q',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { change: string });
    expect(lines.map((l) => l.change).sort()).toEqual([
      'added',
      'classification',
      'gateway',
      'onprem_exchange',
      'removed',
      'tenant',
    ]);
    const again = await runCli(['diff', before, after, '-o', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists; use --force/);
  });

  it('says what is wrong with a file that is not a scan, without a stack trace', async () => {
    const junk = dir.file('junk.jsonl', '{"a":1}\n');
    const r = await runCli(['diff', junk, after]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /junk\.jsonl: line 1: not an exoscope result record/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const missing = await runCli(['diff', join(dir.path, 'nope.csv'), after]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/);
  });

  it('report --baseline puts the same changes at the top of the page', async () => {
    const html = join(dir.path, 'q2.html');
    const r = await runCli([
      'report',
      after,
      '-o',
      html,
      '--baseline',
      before,
      '--group',
      'client',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    const changes = page.indexOf('id="changes"');
    expect(changes).toBeGreaterThan(0);
    expect(changes).toBeLessThan(page.indexOf('id="actions"'));
    expect(page).toContain(
      '1 client moved to Exchange Online (from on-premises Exchange)',
    );
    expect(page.match(/<tr class="change"/g)?.length).toBe(EXPECTED.length);
  });
});

describe('scan, scan --redis and collect: one record, one report', () => {
  /** The report with the parts that name the run (times, file names) cut. */
  function stable(html: string): string {
    return html
      .replace(/<section id="scan-metadata">[\s\S]*?<\/section>/, '')
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME')
      .replace(/[\d.]+ ms/g, 'MS')
      .replace(/<h1>[\s\S]*?<\/h1>/, '');
  }

  it('writes the same rows and a record each, and the reports agree', async () => {
    const input = dir.file('clients-q2b.csv', WORLD_INPUT_AFTER);
    const local = join(dir.path, 'local.jsonl');
    const viaRedis = join(dir.path, 'redis.jsonl');
    const collected = join(dir.path, 'collected.jsonl');
    const p1 = freshPrefix();
    const p2 = freshPrefix();
    prefixes.push(p1, p2);
    expect(
      (await runCli(['scan', input, '-f', 'jsonl', '-o', local, ...dns()]))
        .code,
    ).toBe(0);
    const r = await runCli(
      [
        'scan',
        input,
        '-f',
        'jsonl',
        '-o',
        viaRedis,
        '--redis',
        REDIS_URL,
        ...dns(),
      ],
      { env: { EXOSCOPE_PREFIX: p1 } },
    );
    expect(r.code, r.stderr).toBe(0);
    const env = { EXOSCOPE_PREFIX: p2, REDIS_URL };
    const enq = await runCli(
      ['enqueue', input, '-f', 'jsonl', '--scan', 'rep'],
      { env },
    );
    expect(enq.code, enq.stderr).toBe(0);
    const worker = startCli(['worker', ...dns()], { env, stdin: '' });
    try {
      const col = await runCli(['collect', 'rep', '-o', collected], { env });
      expect(col.code, col.stderr).toBe(0);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
    }

    // the rows: equal but for when each row and query finished (queries
    // run in parallel, so their order in the evidence is their finishing
    // order)
    const rows = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const o = JSON.parse(l) as {
            scanned_at?: string;
            evidence: {
              queries: { name: string; type: string; ms?: number }[];
            } | null;
          };
          delete o.scanned_at;
          const q = o.evidence?.queries ?? [];
          for (const x of q) delete x.ms;
          q.sort((x, y) =>
            `${x.name} ${x.type}`.localeCompare(`${y.name} ${y.type}`),
          );
          return o;
        });
    expect(rows(viaRedis)).toEqual(rows(local));
    expect(rows(collected)).toEqual(rows(local));

    const sha = JSON.parse(readFileSync(`${local}.meta.json`, 'utf8')) as {
      input: { sha256: string; rows: number; name: string };
      resolvers: string[];
      command: string;
    };
    expect(sha.input.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sha.resolvers).toEqual([server.address]);
    for (const [f, command] of [
      [viaRedis, 'scan --redis'],
      [collected, 'collect'],
    ] as const) {
      const m = JSON.parse(
        readFileSync(`${f}.meta.json`, 'utf8'),
      ) as typeof sha;
      expect(m.command).toBe(command);
      expect(m.input).toEqual(sha.input);
    }

    const reports: string[] = [];
    for (const f of [local, viaRedis, collected]) {
      const html = `${f}.html`;
      const rep = await runCli(['report', f, '-o', html, '--group', 'client']);
      expect(rep.code, rep.stderr).toBe(0);
      reports.push(readFileSync(html, 'utf8').replaceAll(basename(f), 'FILE'));
      expect(reports.at(-1)).toContain('clients-q2b.csv');
      expect(reports.at(-1)).toContain(sha.input.sha256);
    }
    expect(stable(reports[1]!)).toBe(stable(reports[0]!));
    expect(stable(reports[2]!)).toBe(stable(reports[0]!));
  });
});
