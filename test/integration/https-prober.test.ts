/**
 * The HTTPS prober's limits, against servers on loopback addresses. Runs
 * only in a loopback-only network namespace (scripts/loopback-only.sh).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpsProber } from '../../src/adapters/https-prober.js';
import {
  addressPolicy,
  parseAllowedRange,
} from '../../src/core/address-policy.js';
import type { AllowedRange } from '../../src/core/address-policy.js';
import {
  assertLoopbackOnly,
  selfSigned,
  startServer,
} from '../helpers/https-fixture.js';
import type { FixtureServer, Handler } from '../helpers/https-fixture.js';

assertLoopbackOnly();

const ADDRESSES = ['127.0.0.31', '127.0.0.32', '127.0.0.33', '127.0.0.34'];
const servers: FixtureServer[] = [];
let port = 0;
let open = 0;
let most = 0;

/** Answers each request after a while, counting the requests open at once. */
const slow: Handler = (_req, res) => {
  most = Math.max(most, ++open);
  setTimeout(() => {
    open--;
    res.writeHead(200, { 'X-OWA-Version': '15.2.1748.49' }).end();
  }, 40);
};

beforeAll(async () => {
  const tls = selfSigned(['limits.test']);
  for (const address of ADDRESSES) {
    const s = await startServer(
      address,
      port,
      { kind: 'https', handler: slow },
      tls,
    );
    port = s.port;
    servers.push(s);
  }
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function prober(concurrency: number) {
  return createHttpsProber({
    policy: addressPolicy([parseAllowedRange('127.0.0.0/8') as AllowedRange]),
    port,
    timeoutMs: 5000,
    concurrency,
    userAgent: 'exoscope-test',
  });
}

describe('createHttpsProber limits', () => {
  it('sends at most 2 requests at once to one address', async () => {
    most = 0;
    const p = prober(16);
    const hosts = Array.from({ length: 10 }, (_, i) => `h${i}.shared.test`);
    const results = await Promise.all(
      hosts.map((host) => p.probe({ host, addresses: [ADDRESSES[0]!] })),
    );
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThan(0);
  });

  it('probes at most --probe-concurrency hosts at once', async () => {
    most = 0;
    const p = prober(3);
    const hosts = Array.from({ length: 12 }, (_, i) => ({
      host: `h${i}.spread.test`,
      addresses: [ADDRESSES[i % ADDRESSES.length]!],
    }));
    const results = await Promise.all(hosts.map((h) => p.probe(h)));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(most).toBeLessThanOrEqual(3);
  });

  it('probes a host once per run, and never an address the policy refuses', async () => {
    const p = prober(4);
    const before = servers[1]!.requests.length;
    const target = { host: 'once.test', addresses: [ADDRESSES[1]!] };
    const [a, b] = await Promise.all([p.probe(target), p.probe(target)]);
    expect(a).toBe(b);
    expect(servers[1]!.requests.length - before).toBe(1);
    const refused = createHttpsProber({
      policy: addressPolicy([]),
      port,
      timeoutMs: 5000,
      concurrency: 4,
      userAgent: 'exoscope-test',
    });
    const connections = servers[2]!.connections;
    const r = await refused.probe({
      host: 'blocked.test',
      addresses: ['::ffff:127.0.0.33', ADDRESSES[2]!],
    });
    expect(r.status).toBe('blocked-address');
    expect(servers[2]!.connections).toBe(connections);
  });
});
