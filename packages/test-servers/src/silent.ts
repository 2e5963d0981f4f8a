import { createServer, type Socket } from 'node:net';

/** A server that accepts connections, reads every request and answers none. */
export interface SilentServer {
  port: number;
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Closes the server and every connection it holds. */
  stop(): Promise<void>;
}

/**
 * Starts a {@link SilentServer} on a free loopback port: what a hung store looks like to a client
 * (the connection is made, no byte ever comes back), so timeouts can be tested against it.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
