// The stand-in's "model server": answers GET /health with 200 once it has "loaded", like vLLM's
// OpenAI server does. Started detached by the stand-in podman; killed by checkpoint, stop and rm.
import { createServer } from 'node:http';

const [port, bootMs = '0'] = process.argv.slice(2);
setTimeout(() => {
  createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/health' ? 'ok\n' : 'not found\n');
  }).listen(Number(port), '127.0.0.1');
}, Number(bootMs));
