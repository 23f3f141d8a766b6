#!/usr/bin/env node
/**
 * What `--probe` costs a scan: `node dist/scripts/bench-probe.js [--domains N]`
 * inside a loopback-only network namespace (it refuses to run elsewhere).
 *
 * A portfolio of N domains (default 2000) on a DNS server in this process:
 * 10 % with their own Exchange server (an HTTPS server on a loopback address
 * of its own, announcing a build), 30 % with an own MX host on a
 * documentation address (refused by the probe: `blocked-address`, never
 * contacted), 60 % at Exchange Online Protection (no candidate). Scans it
 * with and without `--probe --probe-allow 127.0.0.0/8`, checks every
 * Exchange domain came out `ok`, and prints both wall times.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { startFakeDnsServer } from '../test/helpers/dns-server.js';
import type { FakeRecord } from '../test/helpers/dns-server.js';
import {
  assertLoopbackOnly,
  selfSigned,
  startServer,
} from '../test/helpers/https-fixture.js';
import type { FixtureServer } from '../test/helpers/https-fixture.js';

const CLI = resolve(fileURLToPath(import.meta.url), '../../src/cli/main.js');

function run(args: string[]): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? done({ ms: performance.now() - started, stdout })
        : fail(new Error(`exoscope exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  assertLoopbackOnly();
  const { values } = parseArgs({
    options: { domains: { type: 'string' } },
  });
  const n = Number(values.domains ?? 2000);
  const records: FakeRecord[] = [];
  const exchange: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = `d${i}.probe-bench.test`;
    if (i % 10 === 0) {
      const k = exchange.length;
      const address = `127.0.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
      exchange.push(address);
      records.push(
        {
          name: d,
          type: 'MX',
          data: { preference: 10, exchange: `mail.${d}` },
        },
        { name: `mail.${d}`, type: 'A', data: address },
      );
    } else if (i % 10 <= 3) {
      records.push(
        {
          name: d,
          type: 'MX',
          data: { preference: 10, exchange: `mail.${d}` },
        },
        { name: `mail.${d}`, type: 'A', data: `198.51.100.${i % 250}` },
      );
    } else {
      const eop = `d${i}-probe-bench-test.mail.protection.outlook.com`;
      records.push(
        { name: d, type: 'MX', data: { preference: 0, exchange: eop } },
        { name: eop, type: 'A', data: '52.101.1.1' },
        {
          name: `autodiscover.${d}`,
          type: 'CNAME',
          data: 'autodiscover.outlook.com',
        },
      );
    }
  }
  const dns = await startFakeDnsServer({ records });
  const tls = selfSigned(['exchange.probe-bench.test']);
  const servers: FixtureServer[] = [];
  let port = 0;
  for (const address of exchange) {
    const s = await startServer(
      address,
      port,
      {
        kind: 'https',
        handler: (req, res) => {
          res
            .writeHead(req.url === '/owa/' ? 302 : 200, {
              'X-OWA-Version': '15.1.2507.16',
              Location: '/owa/auth/logon.aspx',
            })
            .end('<html></html>');
        },
      },
      tls,
    );
    port = s.port;
    servers.push(s);
  }
  const dir = mkdtempSync(join(tmpdir(), 'exoscope-bench-probe-'));
  try {
    const input = join(dir, 'domains.txt');
    writeFileSync(
      input,
      `${Array.from({ length: n }, (_, i) => `d${i}.probe-bench.test`).join('\n')}\n`,
    );
    const base = [
      'scan',
      input,
      '-r',
      dns.address,
      '--asn-source',
      'none',
      '-q',
    ];
    const plain = await run(base);
    const probed = await run([
      ...base,
      '--probe',
      '--probe-allow',
      '127.0.0.0/8',
      '--probe-port',
      String(port),
    ]);
    const rows = parse(probed.stdout, { columns: true }) as Record<
      string,
      string
    >[];
    const ok = rows.filter((r) => r.probe_status === 'ok').length;
    if (ok !== exchange.length) {
      throw new Error(
        `${ok} of ${exchange.length} Exchange domains came out ok`,
      );
    }
    const connections = servers.reduce((s, x) => s + x.connections, 0);
    console.log(
      [
        `domains ${n}, Exchange servers ${exchange.length} (all ok), connections ${connections}`,
        `scan without --probe: ${(plain.ms / 1000).toFixed(2)} s`,
        `scan with --probe:    ${(probed.ms / 1000).toFixed(2)} s`,
        `cost: ${((probed.ms - plain.ms) / 1000).toFixed(2)} s, ${((probed.ms - plain.ms) / exchange.length).toFixed(1)} ms per Exchange domain`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all(servers.map((s) => s.close()));
    await dns.close();
  }
}

await main();
