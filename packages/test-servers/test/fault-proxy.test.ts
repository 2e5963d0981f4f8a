// The fault-injecting proxy in front of a plain node:http server: untouched traffic passes byte
// for byte; each kind of fault, alone on every connection, does what it says and is counted.
import { createHash } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultKind, type FaultProxy, startFaultProxy } from '../src/index.js';

const MiB = 1024 * 1024;
let server: Server;
let port: number;
/** Requests the server received. */
let received = 0;

const made = new Map<number, Buffer>();
/** `n` bytes that differ from offset to offset. */
const bytes = (n: number) => {
  let out = made.get(n);
  if (!out) {
    out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = (i ^ (i >>> 8) ^ (i >>> 16)) & 0xff;
    made.set(n, out);
  }
  return out;
};

beforeAll(async () => {
  // GET|HEAD /bytes/<n>: n bytes with a length; /chunked/<n>: n bytes in 7 chunks; PUT: the body's sha256
  server = createServer((req, res) => {
    received++;
    const [, what, n] = (req.url ?? '').split('/');
    if (req.method === 'PUT') {
      const hash = createHash('sha256');
      req.on('data', (data) => hash.update(data));
      req.on('end', () => res.end(hash.digest('hex')));
      return;
    }
    const body = bytes(Number(n) || 0);
    if (what === 'chunked') {
      const step = Math.ceil(body.length / 7);
      for (let i = 0; i < body.length; i += step) res.write(body.subarray(i, i + step));
      res.end();
    } else res.setHeader('content-length', body.length).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request through `proxy`; rejects with what the client saw go wrong. */
function send(
  proxy: FaultProxy,
  options: { method?: string; path: string; body?: Buffer; agent?: Agent; timeoutMs?: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${proxy.endpoint}${options.path}`, {
      method: options.method ?? 'GET',
      agent: options.agent ?? false,
      timeout: options.timeoutMs,
      headers: options.body ? { 'content-length': options.body.length } : {},
    });
    req.on('timeout', () => req.destroy(new Error('idle timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (data: Buffer) => parts.push(data));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted')));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        const length = res.headers['content-length'];
        if (!res.complete || (length !== undefined && options.method !== 'HEAD' && body.length !== +length))
          reject(new Error(`short body: ${body.length} of ${length}`));
        else resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.end(options.body);
  });
}

/** A proxy where every connection gets a fault of `kind`, seeded. */
const faulty = (kind: FaultKind, dialect: 's3' | 'gcs' | 'azure' = 's3', stallMs = 300) => {
  let state = 7;
  const random = () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
  return startFaultProxy({ target: port, probability: 1, random, dialect, stallMs, kinds: [kind] });
};

describe('startFaultProxy', () => {
  it('without faults, forwards every request and answer byte for byte over kept-alive connections', async () => {
    const proxy = await startFaultProxy({
      target: port,
      probability: 0,
      random: Math.random,
      dialect: 's3',
      stallMs: 1000,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    try {
      const sizes = [0, 1, 1000, 3 * MiB + 5];
      const results = await Promise.all([
        ...sizes.map((n) => send(proxy, { path: `/bytes/${n}`, agent })),
        ...sizes.map((n) => send(proxy, { path: `/chunked/${n}`, agent })),
        ...sizes.map((n) => send(proxy, { method: 'HEAD', path: `/bytes/${n}`, agent })),
        send(proxy, { method: 'PUT', path: '/up', body: bytes(2 * MiB), agent }),
      ]);
      for (const [i, n] of sizes.entries()) {
        expect(results[i]!.body.equals(bytes(n))).toBe(true);
        expect(results[i + 4]!.body.equals(bytes(n))).toBe(true);
        expect(results[i + 8]!.headers['content-length']).toBe(String(n));
      }
      expect(results[12]!.body.toString()).toBe(
        createHash('sha256')
          .update(bytes(2 * MiB))
          .digest('hex'),
      );
      const stats = proxy.stats();
      expect(stats.requests).toBe(13);
      expect(stats.connections).toBeLessThanOrEqual(2);
      expect(stats.injected).toEqual({ reset: 0, cut: 0, stall: 0, throttle: 0 });
    } finally {
      agent.destroy();
      await proxy.close();
    }
  });

  it.each([
    ['cut', /short body|aborted|socket hang up/],
    ['reset', /ECONNRESET|socket hang up|aborted|short body/],
  ] as const)(
    '%s: a faulty exchange fails on the client, the others pass whole; each fault is counted',
    async (kind, error) => {
      const proxy = await faulty(kind);
      try {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 24 }, (_, i) =>
            i % 2 ? send(proxy, { path: `/chunked/${MiB}` }) : send(proxy, { path: `/bytes/${MiB}` }),
          ),
        );
        const failed = outcomes.filter((outcome) => outcome.status === 'rejected');
        for (const outcome of failed) expect(String(outcome.reason)).toMatch(error);
        for (const outcome of outcomes)
          if (outcome.status === 'fulfilled') expect(outcome.value.body.equals(bytes(MiB))).toBe(true);
        // one connection per request: only faults aimed at a connection's first exchange happen
        expect(failed.length).toBeGreaterThan(4);
        expect(proxy.stats().injected[kind]).toBe(failed.length);
      } finally {
        await proxy.close();
      }
    },
  );

  it('stall: holds an exchange for stallMs, then lets it through whole; a client that gives up first sees silence', async () => {
    const proxy = await faulty('stall', 's3', 600);
    try {
      const timed = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const started = performance.now();
          const answer = await send(proxy, { method: 'PUT', path: '/up', body: bytes(MiB) });
          expect(answer.body.toString()).toBe(createHash('sha256').update(bytes(MiB)).digest('hex'));
          return performance.now() - started;
        }),
      );
      const stalls = proxy.stats().injected.stall;
      expect(stalls).toBeGreaterThan(2);
      expect(timed.filter((ms) => ms >= 600).length).toBeGreaterThanOrEqual(stalls);
    } finally {
      await proxy.close();
    }

    const long = await faulty('stall', 's3', 60_000);
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, () => send(long, { path: `/bytes/${MiB}`, timeoutMs: 300 })),
      );
      const timedOut = outcomes.filter((outcome) => outcome.status === 'rejected');
      for (const outcome of timedOut) expect(String(outcome.reason)).toContain('idle timeout');
      expect(long.stats().injected.stall).toBeGreaterThan(2);
      expect(timedOut.length).toBeGreaterThanOrEqual(long.stats().injected.stall);
    } finally {
      await long.close();
    }
  });

  it.each([
    ['s3', 503, 'application/xml', /<Code>SlowDown<\/Code>.*<Resource>\/bucket\/key<\/Resource>/s],
    ['gcs', 429, 'application/json; charset=UTF-8', /"reason":"rateLimitExceeded"/],
    ['azure', 503, 'application/xml', /<Code>ServerBusy<\/Code>/],
  ] as const)(
    'throttle (%s): answers %i itself, the server never sees the request',
    async (dialect, status, type, body) => {
      const proxy = await faulty('throttle', dialect);
      const before = received;
      try {
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            i % 2
              ? send(proxy, { path: '/bucket/key?x=1' })
              : send(proxy, { method: 'PUT', path: '/bucket/key', body: bytes(256 * 1024) }),
          ),
        );
        const throttled = answers.filter((answer) => answer.status === status);
        expect(throttled.length).toBeGreaterThan(2);
        for (const answer of throttled) {
          expect(answer.headers['content-type']).toBe(type);
          expect(answer.body.toString()).toMatch(body);
          if (dialect === 'azure') expect(answer.headers['x-ms-error-code']).toBe('ServerBusy');
        }
        expect(answers.filter((answer) => answer.status === 200)).toHaveLength(12 - throttled.length);
        expect(received - before).toBe(12 - throttled.length);
        expect(proxy.stats().injected.throttle).toBe(throttled.length);
        const head = await Promise.all(
          Array.from({ length: 8 }, () => send(proxy, { method: 'HEAD', path: '/bytes/10' })),
        );
        for (const answer of head) expect(answer.body).toHaveLength(0);
      } finally {
        await proxy.close();
      }
    },
  );
});
