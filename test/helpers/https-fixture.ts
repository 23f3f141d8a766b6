/**
 * HTTPS servers on loopback addresses for the probe's tests: a self-signed
 * certificate made at test time (openssl), servers imitating Exchange and
 * others, each counting the TCP connections it accepted and the requests it
 * read.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

/**
 * Throws unless every network interface is loopback: the probe follows DNS
 * answers, so its tests run only where nothing else can be reached (inside
 * scripts/loopback-only.sh, which `npm run test:ci` uses).
 */
export function assertLoopbackOnly(): void {
  const outside = Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
    (addrs ?? []).filter((a) => !a.internal).map((a) => `${name} ${a.address}`),
  );
  if (outside.length > 0) {
    throw new Error(
      `the probe tests run only in a loopback-only network namespace; this one has ${outside.join(', ')}`,
    );
  }
}

/** A self-signed certificate for `names` (PEM key and certificate). */
export function selfSigned(names: string[]): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'exoscope-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '30',
        '-subj',
        `/CN=${names[0]}/O=exoscope test`,
        '-addext',
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(key, 'utf8'),
      cert: readFileSync(cert, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One request a fixture server read. */
export interface SeenRequest {
  path: string;
  host: string;
  userAgent: string;
  method: string;
  /** The TLS server name the client sent (SNI). */
  servername: string;
}

export interface FixtureServer {
  address: string;
  /** TCP connections accepted. */
  connections: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** How a fixture server behaves. */
export type Behaviour =
  | { kind: 'https'; handler: Handler }
  /** Accepts TCP connections and never says a word. */
  | { kind: 'silent' }
  /** Plain HTTP on the port the probe takes for HTTPS. */
  | { kind: 'http'; handler: Handler };

/** Starts a server on `address:port` (port 0: any; the real one is returned). */
export async function startServer(
  address: string,
  port: number,
  behaviour: Behaviour,
  tls: { key: string; cert: string },
): Promise<FixtureServer & { port: number }> {
  const fixture = {
    address,
    port,
    connections: 0,
    requests: [] as SeenRequest[],
    close: () => Promise.resolve(),
  };
  const sockets = new Set<net.Socket>();
  const record = (req: IncomingMessage): void => {
    fixture.requests.push({
      path: req.url ?? '',
      host: req.headers.host ?? '',
      userAgent: req.headers['user-agent'] ?? '',
      method: req.method ?? '',
      servername:
        ((req.socket as TLSSocket).servername as string | false | undefined) ||
        '',
    });
  };
  let server: net.Server;
  if (behaviour.kind === 'silent') {
    server = net.createServer();
  } else if (behaviour.kind === 'http') {
    server = http.createServer((req, res) => {
      record(req);
      behaviour.handler(req, res);
    });
  } else {
    server = https.createServer(tls, (req, res) => {
      record(req);
      behaviour.handler(req, res);
    });
  }
  // A TLS server's 'connection' is the TCP connection, before any handshake.
  server.on('connection', (socket: net.Socket) => {
    fixture.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  fixture.port = (server.address() as net.AddressInfo).port;
  fixture.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return fixture;
}
