/**
 * The distributed commands' manners (issue #19, "CLI habits"): `--prefix` on
 * `scan --redis`, a `;` input collected as `;` byte for byte, `queued`
 * before any worker, no key written for an unknown scan, the summary lines
 * of `scan`, and a Ctrl-C that says how to resume. The built CLI against the
 * test Redis, a fresh key prefix per test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { startCli, runCli, waitFor } from '../helpers/cli.js';

import { dnsArgs } from '../helpers/fake-dns.js';
import {
  REDIS_URL,
  keysUnder,
  QUEUE_DNS_TIMEOUT_MS,
  useQueueWorld,
} from '../helpers/queue-world.js';

const world = useQueueWorld();

/** `;`-separated, with a blank and a comment line to skip. */
const SEMICOLONS = [
  'id;domain;note',
  '1;contoso.test;a,b',
  '',
  '# not a row',
  '2;fabrikam.test;c',
  '3;onprem.test;d',
  '4;nomx.test;e',
  '',
].join('\n');

describe('distributed commands', () => {
  it('a ;-separated input: scan, scan --redis --prefix and enqueue/worker/collect write the same bytes, with the same summary lines', async () => {
    const input = world.dir.file('semi.csv', SEMICOLONS);
    const local = await runCli([
      'scan',
      input,
      ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS),
    ]);
    expect(local.code).toBe(0);
    expect(local.stdout.split('\n')[0]).toMatch(/^id;domain;note;/);
    const tail = (stderr: string): string[] => stderr.split('\n').slice(1);
    expect(tail(local.stderr)).toContain(
      '  skipped input lines: 1 blank, 1 comment',
    );

    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    // scan --redis takes --prefix: its keys live under it
    const scanPrefix = world.prefix();
    const viaRedis = await runCli(
      [
        'scan',
        input,
        '--redis',
        REDIS_URL,
        '--prefix',
        scanPrefix,
        '--chunk-size',
        '2',
        ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS),
      ],
      { env: { EXOSCOPE_PREFIX: '' } },
    );
    expect(viaRedis.code).toBe(0);
    expect(viaRedis.stdout).toBe(local.stdout);
    expect(tail(viaRedis.stderr)).toEqual(tail(local.stderr));
    // The scan's keys are gone once written; BullMQ's queue keys stay.
    expect(await keysUnder(world.redis, scanPrefix)).toContain(
      `${scanPrefix}:chunks:meta`,
    );

    const enq = await runCli(
      ['enqueue', input, '--scan', 'semi', '--chunk-size', '2'],
      { env },
    );
    expect(enq.code).toBe(0);
    const worker = startCli(
      ['worker', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)],
      {
        env,
        stdin: '',
      },
    );
    try {
      const out = join(world.dir.path, 'semi-collected.csv');
      const col = await runCli(['collect', 'semi', '-o', out], { env });
      expect(col.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(local.stdout);
      expect(tail(col.stderr).slice(0, 3)).toEqual(
        tail(local.stderr).slice(0, 3),
      );
      // collect --delimiter overrides the scan's
      const comma = await runCli(
        ['collect', 'semi', '--delimiter', ',', '--no-wait'],
        { env },
      );
      expect(comma.code).toBe(0);
      expect(comma.stdout.split('\n')[1]).toMatch(/^1,contoso\.test,"a,b",/);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
    }
  });

  it('status and collect of an unknown scan write no key to Redis', async () => {
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    expect(await keysUnder(world.redis, p)).toEqual([]);
    const status = await runCli(['status', 'never-made'], { env });
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/no scan 'never-made' in Redis/);
    const collect = await runCli(['collect', 'never-made'], { env });
    expect(collect.code).toBe(1);
    expect(await keysUnder(world.redis, p)).toEqual([]);
  });

  it('status of a scan no worker has touched says queued; once a worker runs, it is no longer queued', async () => {
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    const input = world.dir.file('queued.csv', SEMICOLONS);
    const enq = await runCli(['enqueue', input, '--scan', 'q'], { env });
    expect(enq.code).toBe(0);
    expect(enq.stderr).toMatch(/ 4 rows in 1 chunks/);
    const status = await runCli(['status', 'q'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout.split('\n')[0]).toMatch(/: queued$/);
    expect(status.stdout).toContain('no worker has taken a chunk');
    const json = await runCli(['status', 'q', '--json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ state: 'queued' });

    const worker = startCli(
      ['worker', ...dnsArgs(world.dns, QUEUE_DNS_TIMEOUT_MS)],
      {
        env,
        stdin: '',
      },
    );
    try {
      // its one chunk stored (read from Redis: polling `status` would start a
      // process each time), then what status says
      await waitFor(
        async () => (await world.redis.hlen(`${p}:scan:q:results`)) === 1,
        'the chunk stored',
        worker,
      );
      const after = await runCli(['status', 'q', '--json'], { env });
      expect(JSON.parse(after.stdout)).toMatchObject({ state: 'complete' });
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
    }
  });

  it('Ctrl-C of scan --redis says how to resume, and the same command with --scan finishes it', async () => {
    const p = world.prefix();
    const env = { EXOSCOPE_PREFIX: p, REDIS_URL };
    // Rows that are never answered keep the scan busy until the signal.
    const rows = ['domain', 'contoso.test'];
    for (let i = 0; i < 40; i++) rows.push(`slow${i}.test`);
    const input = world.dir.file('stop.csv', `${rows.join('\n')}\n`);
    const args = [
      'scan',
      input,
      '--redis',
      REDIS_URL,
      '--scan',
      'stopme',
      '--chunk-size',
      '5',
      ...dnsArgs(world.dns, 400),
    ];
    const child = startCli(args, { env, stdin: '' });
    await waitFor(
      async () =>
        (await world.redis.hget(`${p}:scan:stopme:meta`, 'chunks')) !== null,
      'the scan to be queued',
      undefined,
      30_000,
    );
    child.child.kill('SIGINT');
    const stopped = await child.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(
      'to resume: run the same command with --scan stopme',
    );
    const resumed = await runCli(args, { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.trimEnd().split('\n')).toHaveLength(42);
  });
});
