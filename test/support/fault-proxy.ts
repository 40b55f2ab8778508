/**
 * A loopback TCP proxy that breaks connections deterministically: the
 * first `faults` connections that carry more than `afterBytes` bytes to the
 * client are reset (or stalled: kept open, sending nothing more) at exactly
 * that byte. Used in front of fake-gcs-server to test store reads.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface FaultProxyOptions {
  upstream: string;
  afterBytes: number;
  mode: 'reset' | 'stall';
  /** How many connections to break; Infinity breaks every one. */
  faults: number;
}

export interface FaultProxy {
  url: string;
  /** Connections broken so far. */
  broken(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  let broken = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const server = connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(server);
    let sent = 0;
    let stalled = false;
    client.on('data', (chunk: Buffer) => server.write(chunk));
    server.on('data', (chunk: Buffer) => {
      if (stalled) return;
      if (broken < options.faults && sent + chunk.length > options.afterBytes) {
        client.write(chunk.subarray(0, options.afterBytes - sent));
        broken++;
        if (options.mode === 'reset') {
          client.resetAndDestroy();
          server.destroy();
        } else {
          stalled = true;
        }
        return;
      }
      sent += chunk.length;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', () => {
      if (!stalled) end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    broken: () => broken,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
