import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One chunk of a resumable upload as it passed the proxy. */
export interface SeenChunk {
  contentRange: string | undefined;
  googHash: string | undefined;
}

/**
 * An HTTP proxy in front of a GCS JSON API server (fake-gcs-server) that records the chunks of
 * resumable uploads and can damage one on its way (one byte flipped, as a broken link would) or
 * pass on only its first half (as when GCS keeps part of a chunk: the server then acknowledges
 * that half). Session URLs (`Location`) point at the proxy, so chunks pass it too.
 */
export async function startUploadProxy(target: string) {
  const chunks: SeenChunk[] = [];
  /** The 1-based numbers of the chunks to damage and to halve; 0: none. */
  let faults = { damage: 0, halve: 0 };
  const server = createServer((request, response) => {
    forward(request).then(
      ({ status, headers, body }) => {
        response.writeHead(status, headers).end(body);
      },
      (error: unknown) => {
        response.writeHead(502).end(String(error));
      },
    );
  });
  /** Headers of the hop itself, never forwarded (fetch sets its own). */
  const hop = ['host', 'connection', 'keep-alive', 'content-length', 'content-encoding', 'transfer-encoding'];
  async function forward(request: IncomingMessage) {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    let body = Buffer.concat(parts);
    if (request.method === 'PUT' && request.url?.includes('upload_id=')) {
      const contentRange = request.headers['content-range'];
      chunks.push({ contentRange, googHash: request.headers['x-goog-hash'] as string | undefined });
      if (chunks.length === faults.damage && body.length > 0) body[0]! ^= 0xff;
      const from = /^bytes (\d+)-\d+\/\*$/.exec(contentRange ?? '')?.[1];
      if (chunks.length === faults.halve && from !== undefined) {
        body = body.subarray(0, body.length / 2);
        request.headers['content-range'] = `bytes ${from}-${Number(from) + body.length - 1}/*`;
      }
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !hop.includes(name)) {
        headers.set(name, value);
      }
    }
    const upstream = await fetch(target + request.url, {
      method: request.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const answer: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!hop.includes(name)) {
        answer[name] = name === 'location' ? value.replace(target, endpoint) : value;
      }
    });
    return { status: upstream.status, headers: answer, body: Buffer.from(await upstream.arrayBuffer()) };
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    /** The chunks seen since the last {@link reset}. */
    chunks,
    /** Forgets the chunks seen; counting from now (1-based), damages or halves the chunks given. */
    reset(next: { damage?: number; halve?: number } = {}) {
      chunks.length = 0;
      faults = { damage: 0, halve: 0, ...next };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
