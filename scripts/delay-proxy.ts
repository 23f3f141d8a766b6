/**
 * A resolver across a network, on loopback: a TCP proxy in front of a DNS
 * server that holds every chunk of answers for a fixed time before passing
 * it on, so each query waits about that long (pipelining and out-of-order
 * answers go through untouched). For measuring what `--in-flight` does with
 * a round trip that is not ~0 ms, e.g. in front of the bench's Unbound:
 *
 *   node dist/scripts/delay-proxy.js --listen 5356 --upstream 127.0.0.1:5354 --delay-ms 20
 *   node dist/src/cli/main.js scan domains.csv -o out.csv --resolver 127.0.0.1:5356 --in-flight 500
 *
 * TCP only (exoscope's default client); loopback only.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '5356' },
    upstream: { type: 'string', default: '127.0.0.1:5354' },
    'delay-ms': { type: 'string', default: '20' },
  },
});
const listen = Number(values.listen);
const delayMs = Number(values['delay-ms']);
const colon = values.upstream.lastIndexOf(':');
const upstreamHost = values.upstream.slice(0, colon);
const upstreamPort = Number(values.upstream.slice(colon + 1));

net
  .createServer((client) => {
    const upstream = net.connect(upstreamPort, upstreamHost);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      setTimeout(() => client.write(chunk), delayMs);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  })
  .listen(listen, '127.0.0.1', () => {
    process.stdout.write(
      `delay-proxy: 127.0.0.1:${listen} -> ${values.upstream}, answers held ${delayMs} ms\n`,
    );
  });
