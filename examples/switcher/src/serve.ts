import { createServer, type Server } from 'node:http';
import type { SwitcherMetrics } from './metrics.js';

/** Serves `GET /metrics` for Prometheus to scrape. Resolves once listening; `port` 0 picks a free one. */
export function serveMetrics(metrics: SwitcherMetrics, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      metrics.format().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
