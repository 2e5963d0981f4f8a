import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCheckpoint, oracle } from '@ckpt/bench/workload';
import { Checkpoints, type ProgressEvent, StoreError, withEvents } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { treeDigest } from '@ckpt/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelSwitcher, type Runtime, SwitcherMetrics, serveMetrics } from '../src/index.js';

// A switcher embedding the real engine on a real filesystem store. The runtime stands in for CRIU:
// a dump writes a CRIU-like image directory (the bench workload generator, a new version each
// time), a restore checks that the directory is exactly the dump it names.

const size = 24 * 2 ** 20;

/** Every dump on every machine: a model's process state carries on from machine to machine. */
const dumps: { model: string; version: number; digest: string }[] = [];

/** A stand-in for CRIU: a dump writes the model's next version; a restore says which dump it found. */
class FakeCriu implements Runtime {
  readonly restores: { model: string; version: number }[] = [];

  async dump(model: string, dir: string): Promise<void> {
    const version = dumps.filter((d) => d.model === model).length;
    await generateCheckpoint(dir, { seed: model, version, totalBytes: size });
    dumps.push({ model, version, digest: await treeDigest(dir) });
  }

  async restore(model: string, dir: string): Promise<void> {
    const found = await treeDigest(dir);
    const dump = dumps.find((d) => d.model === model && d.digest === found);
    if (!dump) throw new Error(`${dir} is not a checkpoint of ${model} that was dumped`);
    this.restores.push({ model, version: dump.version });
  }
}

let work: string;
let store: FsStore;
let checkpoints: Checkpoints;
let metrics: SwitcherMetrics;
let server: Server;
/** Called when a pack upload starts (the store below the engine is wrapped to see it). */
let onPackPut: (() => void) | undefined;

/** `store` with a hook on pack uploads, everything else passed through. */
function watchPacks(inner: FsStore): FsStore {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'put')
        return (
          key: string,
          ...rest: Parameters<FsStore['put']> extends [string, ...infer R] ? R : never
        ) => {
          if (key.startsWith('ckpt/packs/')) onPackPut?.();
          return target.put(key, ...rest);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ckpt-switcher-'));
  metrics = new SwitcherMetrics();
  store = new FsStore({ root: join(work, 'store') });
  checkpoints = new Checkpoints(withEvents(watchPacks(store), metrics.storeListener), {
    stateDir: join(work, 'state'),
  });
  server = await serveMetrics(metrics, 0);
});

afterAll(async () => {
  await checkpoints.close();
  await store.close();
  await new Promise((done) => server.close(done));
  await rm(work, { recursive: true, force: true });
});

/** A machine of its own (own local directories) sharing the store. */
function machine(name: string) {
  const criu = new FakeCriu();
  return {
    criu,
    switcher: new ModelSwitcher({ checkpoints, runtime: criu, root: join(work, name), metrics }),
  };
}

async function scrape(): Promise<Map<string, number>> {
  const { port } = server.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await response.text());
}

/**
 * Parses Prometheus' text format strictly enough to catch what a scraper rejects: every sample's
 * family declared by `# TYPE` before it and once only, names and labels well formed, values numbers,
 * no series twice. Returns each series (`name{labels}`) with its value.
 */
function parseExposition(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const series = new Map<string, number>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const labels = '\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*\\}';
  const sample = new RegExp(`^(${name})(${labels})? (-?[0-9.e+-]+|NaN|[+-]Inf)$`);
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|summary|histogram|untyped)$/.exec(line);
    if (type) {
      expect(types.has(type[1]!), `${type[1]} declared twice`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const match = sample.exec(line);
    expect(match, `not a sample: ${line}`).not.toBeNull();
    const [, metric, labelText = '', value] = match!;
    const family = types.has(metric!) ? metric! : metric!.replace(/_(sum|count|bucket)$/, '');
    expect(types.has(family), `${metric} has no # TYPE`).toBe(true);
    if (types.get(family) === 'counter') expect(Number(value)).toBeGreaterThanOrEqual(0);
    const key = `${metric}${labelText}`;
    expect(series.has(key), `${key} twice`).toBe(false);
    series.set(key, Number(value));
  }
  return series;
}

describe('a model switcher embedding Checkpoints', () => {
  it('evicts (push with progress) and loads on another machine, with the bytes and metrics to show', async () => {
    const a = machine('a');
    a.switcher.started('llama-8b');
    const events: ProgressEvent[] = [];
    const pushed = await a.switcher.evict({ onProgress: (e) => events.push(e) });
    expect(a.switcher.active).toBeUndefined();
    expect(pushed.chunksReused).toBe(0);
    expect(events.some((e) => e.phase === 'upload' && e.bytesDone > 0)).toBe(true);

    const b = machine('b');
    const pulled = await b.switcher.load('llama-8b');
    expect(b.criu.restores).toEqual([{ model: 'llama-8b', version: 0 }]);
    expect(b.switcher.active).toBe('llama-8b');
    expect(pulled.generation).toBe(pushed.generation);

    // the next checkpoint shares most of its bytes with the first: the push sends little more
    // than the workload's oracle says is new (the manifest and chunk boundaries cost the rest)
    const again = await b.switcher.evict();
    const { newBytes } = oracle('llama-8b', 0, 1, { totalBytes: size });
    expect(again.chunksReused).toBeGreaterThan(0);
    expect(again.bytesTransferred).toBeLessThan(2 * newBytes);
    expect(again.bytesTransferred).toBeLessThan(pushed.bytesTransferred / 2);

    const m = await scrape();
    expect(m.get('ckpt_switcher_operations_total{op="push",result="ok"}')).toBe(2);
    expect(m.get('ckpt_switcher_operations_total{op="pull",result="ok"}')).toBe(1);
    expect(m.get('ckpt_switcher_bytes_total{op="push"}')).toBe(pushed.bytes + again.bytes);
    expect(m.get('ckpt_switcher_transferred_bytes_total{op="pull"}')).toBe(pulled.bytesTransferred);
    expect(m.get('ckpt_switcher_chunks_reused_total{op="push"}')).toBe(again.chunksReused);
    expect(m.get('ckpt_switcher_duration_seconds_count{op="push"}')).toBe(2);
    expect(m.get('ckpt_switcher_duration_seconds_sum{op="push"}')).toBeGreaterThan(0);
    expect(m.get('ckpt_switcher_store_requests_total{op="put"}')).toBeGreaterThan(0);
    expect(m.get('ckpt_switcher_running_bytes{op="push",of="done"}')).toBe(0);
    expect([...m.keys()].some((k) => k.startsWith('ckpt_switcher_active_model'))).toBe(false);
  });

  it('cancels a push: the store keeps its generations as they were, and the checkpoint pushes later', async () => {
    const c = machine('c');
    c.switcher.started('qwen-32b');
    const before = (await scrape()).get('ckpt_switcher_operations_total{op="push",result="aborted"}');
    // cancelled while its first pack uploads: past the scan, before the commit
    const controller = new AbortController();
    let running: string[] = [];
    let scraped: Promise<void> | undefined;
    onPackPut = () => {
      scraped ??= metrics.format().then((text) => {
        running = [...parseExposition(text).keys()];
        controller.abort();
      });
    };
    try {
      await expect(c.switcher.evict({ signal: controller.signal })).rejects.toSatisfy((e) =>
        StoreError.is(e, 'Aborted'),
      );
    } finally {
      onPackPut = undefined;
    }
    await scraped;
    expect(running).toContain('ckpt_switcher_running_bytes{op="push",of="total",phase="upload"}');
    expect((await scrape()).get('ckpt_switcher_running_bytes{op="push",of="total"}')).toBe(0);
    await expect(checkpoints.generations('qwen-32b')).rejects.toSatisfy((e) => StoreError.is(e, 'NotFound'));
    expect((await scrape()).get('ckpt_switcher_operations_total{op="push",result="aborted"}')).toBe(
      before! + 1,
    );

    const pushed = await c.switcher.push('qwen-32b');
    expect((await checkpoints.generations('qwen-32b')).map((g) => g.generation)).toEqual([pushed.generation]);
    const d = machine('d');
    await d.switcher.load('qwen-32b');
    expect(d.criu.restores).toEqual([{ model: 'qwen-32b', version: 0 }]);
    expect((await scrape()).get('ckpt_switcher_active_model{model="qwen-32b"}')).toBe(1);
  });

  it('loads a pinned generation instead of the latest', async () => {
    const e = machine('e');
    e.switcher.started('mistral-7b');
    const first = await e.switcher.evict();
    const f = machine('f');
    await f.switcher.load('mistral-7b');
    const second = await f.switcher.evict();
    expect(second.generation).not.toBe(first.generation);

    // f's local directory holds version 1; the pinned pull brings version 0 back over it
    const pinned = await f.switcher.load('mistral-7b', { generation: first.generation });
    expect(pinned.generation).toBe(first.generation);
    expect(f.criu.restores).toEqual([
      { model: 'mistral-7b', version: 0 },
      { model: 'mistral-7b', version: 0 },
    ]);
    await f.switcher.evict();
    const latest = await f.switcher.switchTo('mistral-7b');
    expect(latest.pulled.upToDate).toBe(true);
    await expect(f.switcher.load('mistral-7b')).rejects.toThrow(/mistral-7b is loaded/);
  });
});
