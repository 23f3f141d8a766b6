import { spawn } from 'node:child_process';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createSocketResolver } from '../../../src/adapters/dns/socket-resolver.js';
import type { SocketResolverOptions } from '../../../src/adapters/dns/socket-resolver.js';
import { resolverContract } from '../../helpers/resolver-contract.js';

resolverContract(
  'tcp',
  (options) => createSocketResolver({ ...options, transport: 'tcp' }),
  'tcp',
);

const cleanups: (() => unknown)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function resolver(options: Omit<SocketResolverOptions, 'transport'>) {
  const r = createSocketResolver({
    timeoutMs: 1000,
    socketsPerServer: 1,
    ...options,
    transport: 'tcp',
  });
  cleanups.push(() => r.close());
  return r;
}

/** The address `10.0.0.N` answered for `dN.test`. */
function answerFor(query: DecodedPacket): Buffer {
  const question = query.questions?.[0];
  // The name comes in random letter case (DNS 0x20).
  const n = /^d(\d+)\.test$/i.exec(question?.name ?? '')?.[1] ?? '0';
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: query.questions ?? [],
    answers: question
      ? [{ name: question.name, type: 'A', ttl: 60, data: `10.0.0.${n}` }]
      : [],
  });
}

function frame(message: Buffer): Buffer {
  const framed = Buffer.alloc(2 + message.length);
  framed.writeUInt16BE(message.length, 0);
  message.copy(framed, 2);
  return framed;
}

interface Connection {
  socket: net.Socket;
  /** Queries received on this connection, in order. */
  queries: DecodedPacket[];
  /** 'data' events it took to receive them. */
  reads: number;
}

/**
 * A TCP DNS server on 127.0.0.1 whose replies `onQueries` writes: it gets the
 * connection after each read, with every query received on it so far.
 */
async function scriptedTcpServer(
  onQueries: (connection: Connection, fresh: DecodedPacket[]) => void,
): Promise<{ address: string; connections: Connection[] }> {
  const connections: Connection[] = [];
  const server = net.createServer((socket) => {
    const connection: Connection = { socket, queries: [], reads: 0 };
    connections.push(connection);
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      connection.reads++;
      pending = Buffer.concat([pending, chunk]);
      const fresh: DecodedPacket[] = [];
      while (
        pending.length >= 2 &&
        pending.length >= 2 + pending.readUInt16BE(0)
      ) {
        const length = pending.readUInt16BE(0);
        fresh.push(dnsPacket.decode(pending.subarray(2, 2 + length)));
        pending = pending.subarray(2 + length);
      }
      connection.queries.push(...fresh);
      onQueries(connection, fresh);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return { address: `127.0.0.1:${port}`, connections };
}

/**
 * A TCP port that completes no more handshakes: a child process listens with
 * a backlog of 1 and never accepts, and the queue is filled first, so the
 * kernel drops further SYNs and a connect hangs (as behind a firewall).
 */
async function fullListener(): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').createServer();
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         process.stdout.write(s.address().port + '\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (d: string) => {
      resolve(Number(d.trim()));
    });
    child.once('exit', () => reject(new Error('listener exited')));
  });
  // Fill the accept queue; these handshakes still complete in the kernel.
  for (let i = 0; i < 4; i++) {
    const filler = net.connect({ port, host: '127.0.0.1' });
    filler.on('error', () => {});
    cleanups.push(() => filler.destroy());
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  return `127.0.0.1:${port}`;
}

const names = (count: number) =>
  Array.from({ length: count }, (_, i) => `d${i + 1}.test`);

describe('tcp: pipelining', () => {
  it('sends a burst of queries on one connection in one write and matches replies in any order', async () => {
    const count = 50;
    const server = await scriptedTcpServer((connection, fresh) => {
      if (connection.queries.length === 1) {
        connection.socket.write(frame(answerFor(fresh[0] as DecodedPacket)));
      }
      if (connection.queries.length < 1 + count) return;
      // Every reply at once, last query first.
      const replies = connection.queries.slice(1).map(answerFor).reverse();
      connection.socket.write(Buffer.concat(replies.map(frame)));
    });
    const r = resolver({ servers: [server.address] });
    // The connection is up before the burst.
    expect((await r.query('d0.test', 'A')).status).toBe('ok');
    const write = vi.spyOn(net.Socket.prototype, 'write');
    try {
      const results = await Promise.all(
        names(count).map((n) => r.query(n, 'A')),
      );
      expect(results.map((x) => x.records)).toEqual(
        names(count).map((_, i) => [`10.0.0.${i + 1}`]),
      );
      const serverSockets = new Set(server.connections.map((c) => c.socket));
      const ours = write.mock.contexts.filter(
        (socket) => !serverSockets.has(socket as net.Socket),
      );
      // One write per turn of the event loop, not one per query.
      expect(ours).toHaveLength(1);
    } finally {
      write.mockRestore();
    }
    expect(server.connections).toHaveLength(1);
  });

  it('reads replies split at any byte', async () => {
    const server = await scriptedTcpServer((connection, fresh) => {
      const bytes = Buffer.concat(fresh.map(answerFor).map(frame));
      let at = 0;
      const drip = () => {
        if (at >= bytes.length || connection.socket.destroyed) return;
        connection.socket.write(bytes.subarray(at, at + 3));
        at += 3;
        setTimeout(drip, 1);
      };
      drip();
    });
    const r = resolver({ servers: [server.address] });
    const results = await Promise.all(names(3).map((n) => r.query(n, 'A')));
    expect(results.map((x) => x.records)).toEqual([
      ['10.0.0.1'],
      ['10.0.0.2'],
      ['10.0.0.3'],
    ]);
  });
});

describe('tcp: connections that close', () => {
  it('asks again, without spending a try, what a connection closed on unanswered', async () => {
    // The server answers 5 queries a connection, then hangs up.
    const server = await scriptedTcpServer((connection, fresh) => {
      const answered = connection.queries.length - fresh.length;
      const now = fresh.slice(0, Math.max(0, 5 - answered));
      connection.socket.write(Buffer.concat(now.map(answerFor).map(frame)));
      if (answered + now.length >= 5) connection.socket.end();
    });
    const r = resolver({ servers: [server.address], retries: 0 });
    const results = await Promise.all(names(8).map((n) => r.query(n, 'A')));
    expect(results.map((x) => x.status)).toEqual(Array(8).fill('ok'));
    expect(results.map((x) => x.records)).toEqual(
      names(8).map((_, i) => [`10.0.0.${i + 1}`]),
    );
    expect(server.connections).toHaveLength(2);
  });

  it('gives an error, once resent, when every connection closes without an answer', async () => {
    const server = await scriptedTcpServer((connection) =>
      connection.socket.destroy(),
    );
    const r = resolver({ servers: [server.address], retries: 0 });
    const result = await r.query('d1.test', 'A');
    expect(result.status).toBe('error');
    expect(['EOF', 'ECONNRESET']).toContain(result.error);
    expect(server.connections).toHaveLength(2);
  });

  it('opens a new connection after the server closed an idle one', async () => {
    const server = await scriptedTcpServer((connection, fresh) => {
      connection.socket.write(Buffer.concat(fresh.map(answerFor).map(frame)));
    });
    const r = resolver({ servers: [server.address], retries: 0 });
    expect((await r.query('d1.test', 'A')).records).toEqual(['10.0.0.1']);
    server.connections[0]?.socket.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await r.query('d2.test', 'A')).records).toEqual(['10.0.0.2']);
    expect(server.connections).toHaveLength(2);
  });

  it('times out on a connection that takes queries and never answers', async () => {
    const server = await scriptedTcpServer(() => {});
    const r = resolver({
      servers: [server.address],
      timeoutMs: 200,
      retries: 1,
    });
    const result = await r.query('d1.test', 'A');
    expect(result.status).toBe('timeout');
    expect(server.connections.flatMap((c) => c.queries)).toHaveLength(2);
  });
});

describe('tcp: dead connections', () => {
  it('replaces a connection that went silent, and the retry answers', async () => {
    // The first connection answers once, then never again; later ones answer.
    const server = await scriptedTcpServer((connection, fresh) => {
      const first = connection === server.connections[0];
      if (first && connection.queries.length > 1) return;
      connection.socket.write(Buffer.concat(fresh.map(answerFor).map(frame)));
    });
    const r = resolver({
      servers: [server.address],
      timeoutMs: 200,
      retries: 1,
    });
    expect((await r.query('d1.test', 'A')).records).toEqual(['10.0.0.1']);
    const second = await r.query('d2.test', 'A');
    expect(second).toMatchObject({ status: 'ok', records: ['10.0.0.2'] });
    expect(server.connections).toHaveLength(2);
  });

  it('gives up connecting after the deadline of a try, as a timeout', async () => {
    const full = await fullListener();
    const r = resolver({ servers: [full], timeoutMs: 300, retries: 1 });
    const started = performance.now();
    const result = await r.query('d1.test', 'A');
    expect(result).toMatchObject({ status: 'timeout' });
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('tcp: configuration', () => {
  it('refuses an unknown transport', () => {
    expect(() =>
      createSocketResolver({
        servers: ['127.0.0.1'],
        transport: 'quic' as 'tcp',
      }),
    ).toThrow(/options.transport must be udp, tcp or auto/);
  });
});
