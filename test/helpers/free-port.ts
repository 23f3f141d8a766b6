import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A port on 127.0.0.1 that the OS has just handed out and that is free now
 * for TCP and UDP alike, for servers that cannot listen on port 0 and say
 * which port they got (redis-server, Knot, Unbound): the caller binds it
 * right after. `not` lists ports already chosen for the same set-up.
 */
export async function freePort(not: readonly number[] = []): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    if (!not.includes(port) && (await udpFree(port))) return port;
  }
}

function udpFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
