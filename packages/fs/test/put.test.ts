import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readAll } from '@ckpt/core/backend';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../src/index.js';
import { expectCode, internalFiles, tempRoot } from './helpers.js';

async function* chunks(count: number, size: number, fill: number, pause = false) {
  for (let i = 0; i < count; i++) {
    if (pause) await sleep(0);
    yield Buffer.alloc(size, fill);
  }
}

describe('FsStore put', () => {
  it('a size mismatch fails Integrity, keeps the old object and leaves no temp file', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    await store.put('k', Buffer.from('old'));
    await expectCode(store.put('k', chunks(4, 1000, 1), { size: 3999 }), 'Integrity');
    await expectCode(store.put('k', chunks(4, 1000, 1), { size: 4001 }), 'Integrity');
    await expectCode(store.put('new/key', Buffer.from('abc'), { size: 2 }), 'Integrity');
    expect(await readFile(path.join(root, 'k'), 'utf8')).toBe('old');
    expect(await readdir(root)).toEqual(['.ckpt-fs', 'k']); // no folder "new" left either
    expect(await internalFiles(root)).toEqual([]);
  });

  it('releases the body once every byte is written, before the object is visible', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    const body = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
    const seen: string[] = [];
    const onBodyReleased = () => {
      body.fill(0); // the caller reuses its buffer
      const tmp = path.join(root, '.ckpt-fs', 'tmp');
      seen.push(...readdirSync(tmp).map((name) => `temp ${statSync(path.join(tmp, name)).size}`));
      seen.push(existsSync(path.join(root, 'a', 'k')) ? 'visible' : 'not visible');
    };
    await store.put('a/k', body, { onBodyReleased });
    expect(seen).toEqual([`temp ${body.length}`, 'not visible']);
    expect((await readFile(path.join(root, 'a', 'k'))).equals(Buffer.alloc(body.length, 7))).toBe(true);
  });

  it('stops reading a body as soon as it passes options.size', async () => {
    const store = new FsStore({ root: await tempRoot() });
    let produced = 0;
    async function* endless() {
      for (;;) {
        produced++;
        yield Buffer.alloc(64 * 1024);
      }
    }
    await expectCode(store.put('k', endless(), { size: 100_000 }), 'Integrity');
    expect(produced).toBe(2);
  });

  it('abort fails Aborted, removes the temp file and leaves the key as it was', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    await store.put('k', Buffer.from('old'));
    const controller = new AbortController();
    const body = chunks(10_000, 64 * 1024, 2, true);
    const put = store.put('k', body, { signal: controller.signal });
    await sleep(30);
    controller.abort();
    await expectCode(put, 'Aborted');
    expect(await readFile(path.join(root, 'k'), 'utf8')).toBe('old');
    expect(await internalFiles(root)).toEqual([]);
    await expectCode(store.put('k', Buffer.from('x'), { signal: AbortSignal.abort() }), 'Aborted');
  });

  it('abort also ends a put whose body stream stalls, and destroys that stream', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    const stalled = new Readable({ read() {} });
    stalled.push(Buffer.from('first bytes'));
    const put = store.put('k', stalled, { signal: AbortSignal.timeout(50) });
    await expectCode(put, 'Aborted');
    expect(stalled.destroyed).toBe(true);
    expect(await internalFiles(root)).toEqual([]);
    await expectCode(store.head('k'), 'NotFound');
  });

  it('a body that errors fails the put and stores nothing', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    async function* failing() {
      yield Buffer.from('part');
      throw new Error('disk of the source vanished');
    }
    const error = await expectCode(store.put('k', failing()), 'Internal');
    expect(error.message).toMatch(/put k: reading the body failed: disk of the source vanished/);
    await expectCode(store.head('k'), 'NotFound');
    expect(await internalFiles(root)).toEqual([]);
  });

  it('copies chunks, so a producer that reuses its buffer still stores the right bytes', async () => {
    const store = new FsStore({ root: await tempRoot() });
    async function* reusing() {
      const buffer = Buffer.alloc(1000);
      for (let i = 0; i < 5; i++) {
        buffer.fill(i);
        yield buffer;
      }
    }
    await store.put('k', reusing());
    const expected = Buffer.concat([0, 1, 2, 3, 4].map((i) => Buffer.alloc(1000, i)));
    expect((await readAll((await store.get('k')).body)).equals(expected)).toBe(true);
  });

  it('gives every put a new version, even same-size puts in quick succession (no ABA)', async () => {
    const store = new FsStore({ root: await tempRoot() });
    const versions = new Set<string>();
    for (let i = 0; i < 50; i++) versions.add((await store.put('k', Buffer.from([i % 2]))).version);
    expect(versions.size).toBe(50);
    const first = await store.put('k', Buffer.from('a'));
    await store.put('k', Buffer.from('b'));
    await store.put('k', Buffer.from('a'));
    await expectCode(
      store.put('k', Buffer.from('c'), { mode: { update: first.version } }),
      'PreconditionFailed',
    );
    await store.delete('k');
    const recreated = await store.put('k', Buffer.from('a'));
    expect(recreated.version).not.toBe(first.version);
    expect((await store.head('k')).version).toBe(recreated.version);
  });

  it('a reader during a big write sees the whole old object or the whole new one', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    const size = 8 * 1024 * 1024;
    const oldBytes = Buffer.alloc(size, 0xaa);
    const newBytes = Buffer.alloc(size, 0xbb);
    await store.put('big', oldBytes);
    let done = false;
    const writing = store.put('big', chunks(size / 65536, 65536, 0xbb, true)).finally(() => {
      done = true;
    });
    const seen = { old: 0, new: 0 };
    while (!done) {
      const got = await readAll((await store.get('big')).body);
      if (got.equals(oldBytes)) seen.old++;
      else if (got.equals(newBytes)) seen.new++;
      else throw new Error(`a reader saw a mixed object of ${got.length} bytes`);
    }
    await writing;
    expect(seen.old).toBeGreaterThan(0);
    expect((await readAll((await store.get('big')).body)).equals(newBytes)).toBe(true);
  });

  it('sweeps temp files a crashed writer left an hour ago, and list never shows temp files', async () => {
    const root = await tempRoot();
    const tmp = path.join(root, '.ckpt-fs', 'tmp');
    await mkdir(tmp, { recursive: true });
    await writeFile(path.join(tmp, 'crashed.tmp'), 'half');
    await writeFile(path.join(tmp, 'live.tmp'), 'being written');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(tmp, 'crashed.tmp'), twoHoursAgo, twoHoursAgo);
    const store = new FsStore({ root });
    const listed: string[] = [];
    for await (const meta of store.list()) listed.push(meta.key);
    expect(listed).toEqual([]);
    await store.put('k', Buffer.from('x')); // the first write sweeps
    expect(await readdir(tmp)).toEqual(['live.tmp']);
  });

  it('holds on to no chunk once written, with or without an abort signal', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const store = new FsStore({ root: await tempRoot() });
    for (const signal of [undefined, new AbortController().signal]) {
      const refs: WeakRef<Buffer>[] = [];
      let alive = -1;
      async function* body() {
        for (let i = 0; i < 64; i++) {
          const chunk = Buffer.alloc(i % 2 ? 100_000 : 2 * 1024 * 1024, i);
          refs.push(new WeakRef(chunk));
          yield chunk;
        }
        await sleep(0);
        gc();
        alive = refs.filter((ref) => ref.deref() !== undefined).length;
      }
      await store.put('k', body(), { signal });
      expect(alive, signal ? 'with a signal' : 'without a signal').toBeLessThanOrEqual(2);
    }
  });

  it('streams a body of many chunks in order, with bounded writes', async () => {
    const store = new FsStore({ root: await tempRoot() });
    async function* numbered() {
      for (let i = 0; i < 3000; i++) yield Buffer.from(`${i},`);
    }
    const result = await store.put('k', Readable.from(numbered()));
    const text = (await readAll((await store.get('k')).body)).toString();
    expect(text.split(',').slice(0, -1).map(Number)).toEqual([...Array(3000).keys()]);
    expect(result.size).toBe(Buffer.byteLength(text));
  });
});
