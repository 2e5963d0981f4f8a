import { createServer, type Server } from 'node:http';
import type { SwitcherMetrics } from './metrics.js';

/** Serves `GET /metrics` for Prometheus to scrape. Resolves once listening; `port` 0 picks a free one. */
export function serveMetrics(metrics: SwitcherMetrics, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.format());
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
