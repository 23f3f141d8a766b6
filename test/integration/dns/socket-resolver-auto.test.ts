import { afterAll, describe, expect, it } from 'vitest';
import { createSocketResolver } from '../../../src/adapters/dns/socket-resolver.js';
import type { SocketResolverOptions } from '../../../src/adapters/dns/socket-resolver.js';
import { firstWave, startFakeDnsServer } from '../../helpers/dns-server.js';
import type {
  FakeDnsServer,
  FakeDnsServerOptions,
  FakeRecord,
} from '../../helpers/dns-server.js';
import { resolverContract } from '../../helpers/resolver-contract.js';

// On a server that takes pipelined TCP, `auto` behaves as `tcp`.
resolverContract(
  'auto',
  (options) => createSocketResolver({ ...options, transport: 'auto' }),
  'tcp',
);

const cleanups: (() => unknown)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `dN.test` A 10.0.0.N for N in 1..20. */
const RECORDS: FakeRecord[] = Array.from({ length: 20 }, (_, i) => ({
  name: `d${i + 1}.test`,
  type: 'A',
  data: `10.0.0.${i + 1}`,
}));
const NAMES = RECORDS.map((r) => r.name);

async function server(options: FakeDnsServerOptions): Promise<FakeDnsServer> {
  const s = await startFakeDnsServer({ records: RECORDS, ...options });
  cleanups.push(() => s.close());
  return s;
}

/** A resolver on `transport` (default auto) and the fall-backs it reported. */
function resolver(
  options: Omit<SocketResolverOptions, 'onFallback'>,
): ReturnType<typeof createSocketResolver> & { fallbacks: string[][] } {
  const fallbacks: string[][] = [];
  const r = createSocketResolver({
    transport: 'auto',
    socketsPerServer: 1,
    ...options,
    onFallback: (spec, reason) => fallbacks.push([spec, reason]),
  });
  cleanups.push(() => r.close());
  return Object.assign(r, { fallbacks });
}

function askAll(
  r: ReturnType<typeof resolver>,
  names: readonly string[],
): Promise<string[]> {
  return Promise.all(
    names.map(async (name) => (await r.query(name, 'A')).status),
  );
}

describe('auto: TCP, and UDP for a server that will not do TCP', () => {
  it('asks a server that refuses TCP over UDP, and says so once', async () => {
    const udpOnly = await server({ tcp: false });
    const strict = resolver({ servers: [udpOnly.address], transport: 'tcp' });
    expect(await strict.query('d1.test', 'A')).toMatchObject({
      status: 'error',
      error: 'ECONNREFUSED',
    });

    const r = resolver({ servers: [udpOnly.address], retries: 0 });
    expect(await askAll(r, NAMES.slice(0, 5))).toEqual(Array(5).fill('ok'));
    expect(await askAll(r, NAMES.slice(5))).toEqual(Array(15).fill('ok'));
    expect(r.fallbacks).toEqual([
      [udpOnly.address, 'made no TCP connection (ECONNREFUSED)'],
    ]);
    expect(udpOnly.queries).toHaveLength(20);
    expect(udpOnly.queries.every((q) => q.proto === 'udp')).toBe(true);
  });

  it('moves a server that answers TCP queries one at a time to UDP', async () => {
    // A forwarder that answers a connection's queries in order, waiting
    // 3 s on its upstream for slow.test: everything behind it waits too.
    const inOrder = await server({
      tcpInOrder: (name) => (name === 'slow.test' ? 3000 : 1),
    });
    const ask = (r: ReturnType<typeof resolver>) =>
      Promise.all([r.query('slow.test', 'A'), askAll(r, NAMES)]);

    const strict = resolver({
      servers: [inOrder.address],
      transport: 'tcp',
      timeoutMs: 300,
      retries: 1,
    });
    const [, onTcp] = await ask(strict);
    expect(onTcp).toContain('timeout');

    const r = resolver({
      servers: [inOrder.address],
      timeoutMs: 300,
      retries: 1,
    });
    const before = inOrder.queries.length;
    const [slow, statuses] = await ask(r);
    expect(statuses).toEqual(Array(20).fill('ok'));
    // slow.test timed out once on TCP, then its second try went over UDP.
    expect(slow.status).toBe('nxdomain');
    expect(r.fallbacks).toEqual([
      [
        inOrder.address,
        'answers TCP queries one at a time (20 stuck behind one that timed out)',
      ],
    ]);
    const later = inOrder.queries.slice(before);
    expect(later.filter((q) => q.proto === 'udp')).toHaveLength(21);
  });

  it('stays on TCP when a concurrent server is slow for some names', async () => {
    const slowNames = await server({
      behaviour: (name) => (name.startsWith('slow') ? 'drop' : 'answer'),
    });
    const r = resolver({
      servers: [slowNames.address],
      timeoutMs: 300,
      retries: 1,
    });
    expect((await r.query('d1.test', 'A')).status).toBe('ok');
    // More than enough slow ones to be taken for a line, but the names
    // asked after the first slow one are answered: the server is not in line.
    const slow = Array.from({ length: 12 }, (_, i) => `slow${i}.test`);
    const [first, statuses, rest] = await Promise.all([
      r.query('slow.test', 'A'),
      askAll(r, NAMES),
      askAll(r, slow),
    ]);
    expect(first.status).toBe('timeout');
    expect(statuses).toEqual(Array(20).fill('ok'));
    expect(rest).toEqual(Array(12).fill('timeout'));
    expect(r.fallbacks).toEqual([]);
    expect(slowNames.queries.every((q) => q.proto === 'tcp')).toBe(true);
  });

  it('asks over UDP a server that takes TCP connections and never answers on them', async () => {
    const mute = await server({
      behaviour: (_name, _type, proto) => (proto === 'tcp' ? 'drop' : 'answer'),
    });
    const r = resolver({ servers: [mute.address], timeoutMs: 300 });
    expect(await askAll(r, NAMES.slice(0, 3))).toEqual(Array(3).fill('ok'));
    expect(r.fallbacks).toEqual([
      [mute.address, 'answered nothing over TCP for 300 ms'],
    ]);
  });

  it('moves a server that keeps closing connections under queries to UDP, on the third time', async () => {
    // dnsmasq closes a TCP connection when its upstream fails a query.
    let closes = 0;
    let limit = 2;
    const closing = await server({
      behaviour: (name) => {
        if (name !== 'bad.test' || closes >= limit) return 'answer';
        closes++;
        return 'close';
      },
    });
    const r = resolver({ servers: [closing.address], retries: 1 });
    const round = () =>
      Promise.all([r.query('bad.test', 'A'), askAll(r, NAMES.slice(0, 5))]);
    expect((await r.query('d1.test', 'A')).status).toBe('ok');

    // Closed twice (a restart, an idle timeout): it stays on TCP.
    const [once, good] = await round();
    expect(closes).toBe(2);
    expect(once.status).toBe('nxdomain');
    expect(good).toEqual(Array(5).fill('ok'));
    expect(r.fallbacks).toEqual([]);

    limit = Infinity;
    const [bad, rest] = await round();
    expect(rest).toEqual(Array(5).fill('ok'));
    expect(r.fallbacks).toEqual([
      [
        closing.address,
        'closed TCP connections with queries unanswered 3 times (EOF)',
      ],
    ]);
    // over UDP, the server's SERVFAIL for it
    expect(bad.status).toBe('servfail');
    expect(closing.queries.at(-1)?.proto).toBe('udp');
  });

  it('falls back per server: the other server stays on TCP', async () => {
    const udpOnly = await server({ tcp: false });
    const full = await server({});
    const r = resolver({ servers: [udpOnly.address, full.address] });
    expect(await askAll(r, NAMES)).toEqual(Array(20).fill('ok'));
    expect(r.fallbacks.map(([spec]) => spec)).toEqual([udpOnly.address]);
    expect(full.queries.length).toBeGreaterThan(0);
    expect(full.queries.every((q) => q.proto === 'tcp')).toBe(true);
    expect(udpOnly.queries.every((q) => q.proto === 'udp')).toBe(true);
  });

  it('puts at most 100 queries in flight on each UDP socket it falls back to, whatever TCP carried', async () => {
    const dropping = await server({ tcp: false, behaviour: () => 'drop' });
    const r = resolver({
      servers: [dropping.address],
      socketsPerServer: 2,
      maxInFlightPerSocket: 250,
      timeoutMs: 600,
      retries: 0,
    });
    const names = Array.from({ length: 600 }, (_, i) => `n${i}.test`);
    const statuses = await askAll(r, names);
    expect(statuses.every((s) => s === 'timeout')).toBe(true);
    expect(r.fallbacks).toHaveLength(1);
    // 2 sockets x 100 go out at once; the rest only as those time out
    expect(firstWave(dropping, 300)).toBe(200);
    expect(dropping.queries).toHaveLength(600);
  });
});
