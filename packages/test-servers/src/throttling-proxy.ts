import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { throttleResponse } from './throttle-answers.js';

/** Options of {@link startThrottlingProxy}. */
export interface ThrottlingProxyOptions {
  /** The S3 server's port on 127.0.0.1. */
  target: number;
  /** Requests forwarded at once; one more is answered `503 SlowDown`, as S3 answers. */
  maxInFlight: number;
}

/** What a {@link ThrottlingProxy} saw. */
export interface ThrottlingStats {
  /** Requests that reached the proxy (the throttled ones included). */
  requests: number;
  /** Requests answered `503 SlowDown`. */
  throttled: number;
  /** The most requests forwarded at once. */
  peakInFlight: number;
}

/** A running {@link startThrottlingProxy}. */
export interface ThrottlingProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  stats(): ThrottlingStats;
  /** Stops accepting and drops every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of an S3 server (MinIO throttles nothing) that behaves like S3 under
 * load: it forwards at most `maxInFlight` requests at once (each until its answer has been sent
 * whole) and answers any other with `503 SlowDown` and S3's XML error (a `HEAD` answer without
 * a body, as S3 sends it).
 */
export async function startThrottlingProxy(options: ThrottlingProxyOptions): Promise<ThrottlingProxy> {
  const stats: ThrottlingStats = { requests: 0, throttled: 0, peakInFlight: 0 };
  const agent = new Agent({ keepAlive: true });
  let inFlight = 0;

  const slowDown = (req: IncomingMessage, res: ServerResponse) => {
    stats.throttled++;
    const { status, reason, type, headers, body } = throttleResponse('s3', req.url ?? '/');
    const sent = req.method === 'HEAD' ? '' : body;
    req.resume(); // a PUT's body is read and dropped: the connection stays usable
    res.writeHead(status, reason, {
      ...Object.fromEntries(headers.map((line) => line.split(': ', 2))),
      'content-type': type,
      'content-length': Buffer.byteLength(sent),
    });
    res.end(sent);
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, inFlight);
    res.once('close', () => inFlight--);
    const upstream = request(
      {
        host: '127.0.0.1',
        port: options.target,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => res.destroy());
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    stats.requests++;
    if (inFlight >= options.maxInFlight) slowDown(req, res);
    else forward(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ ...stats }),
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}
