import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { readAll } from '@ckpt/core/backend';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../src/index.js';
import { expectCode, tempRoot } from './helpers.js';

describe('FsStore get and head', () => {
  it('returns ranges, clipped past the end as the contract says', async () => {
    const store = new FsStore({ root: await tempRoot() });
    const data = Buffer.from('0123456789');
    await store.put('k', data);
    const cases: [{ offset: number; length?: number }, string, number][] = [
      [{ offset: 2, length: 3 }, '234', 2],
      [{ offset: 7 }, '789', 7],
      [{ offset: 8, length: 100 }, '89', 8],
      [{ offset: 10 }, '', 10],
      [{ offset: 50, length: 5 }, '', 10],
      [{ offset: 3, length: 0 }, '', 3],
    ];
    for (const [range, text, offset] of cases) {
      const result = await store.get('k', { range });
      expect((await readAll(result.body)).toString(), JSON.stringify(range)).toBe(text);
      expect(result.range).toEqual({ offset, length: text.length });
      expect(result.size).toBe(10);
    }
    await expectCode(store.get('k', { range: { offset: -1 } }), 'InvalidArgument');
    await expectCode(store.get('k', { range: { offset: 0, length: 1.5 } }), 'InvalidArgument');
  });

  it('a file truncated under a reader makes the body error Integrity, never end early', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    await store.put('k', Buffer.alloc(4 * 1024 * 1024, 7));
    const result = await store.get('k');
    await truncate(path.join(root, 'k'), 1024 * 1024);
    await expectCode(readAll(result.body), 'Integrity');
  });

  it('a body keeps the object it opened even when a put replaces the key meanwhile', async () => {
    const store = new FsStore({ root: await tempRoot() });
    await store.put('k', Buffer.alloc(3 * 1024 * 1024, 1));
    const result = await store.get('k');
    await store.put('k', Buffer.alloc(10, 2));
    const got = await readAll(result.body);
    expect(got.equals(Buffer.alloc(3 * 1024 * 1024, 1))).toBe(true);
    expect((await store.head('k')).size).toBe(10);
  });

  it('abort destroys the body with Aborted', async () => {
    const store = new FsStore({ root: await tempRoot() });
    await store.put('k', Buffer.alloc(8 * 1024 * 1024));
    const controller = new AbortController();
    const result = await store.get('k', { signal: controller.signal });
    const reading = readAll(result.body);
    controller.abort();
    await expectCode(reading, 'Aborted');
    await expectCode(store.get('k', { signal: AbortSignal.abort() }), 'Aborted');
  });

  it('reads into a caller buffer and yields views of it; a destroyed body writes nothing after close', async () => {
    const store = new FsStore({ root: await tempRoot() });
    const data = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    await store.put('k', data);
    const into = new Uint8Array(new SharedArrayBuffer(4 * 1024 * 1024 + 100), 100);
    const range = { offset: 1000, length: 4 * 1024 * 1024 };
    let at = 0;
    for await (const piece of (await store.get('k', { range, into })).body as AsyncIterable<Buffer>) {
      expect(piece.buffer).toBe(into.buffer);
      expect(piece.byteOffset).toBe(into.byteOffset + at);
      at += piece.length;
    }
    expect(at).toBe(range.length);
    expect(Buffer.from(into).equals(data.subarray(1000, 1000 + range.length))).toBe(true);

    into.fill(0);
    const result = await store.get('k', { range, into });
    result.body.once('data', () => result.body.destroy());
    await new Promise((resolve) => result.body.once('close', resolve));
    const after = Buffer.from(into);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Buffer.from(into).equals(after)).toBe(true);

    // too small: ignored, the body brings its own buffers
    const small = new Uint8Array(10);
    const got = await readAll((await store.get('k', { range: { offset: 0, length: 20 }, into: small })).body);
    expect(got.equals(data.subarray(0, 20))).toBe(true);
    expect(small.every((b) => b === 0)).toBe(true);
  });

  it('head and get agree on size, version and time; a missing key is NotFound', async () => {
    const store = new FsStore({ root: await tempRoot() });
    const before = Date.now();
    const put = await store.put('a/b', Buffer.from('hello'));
    const head = await store.head('a/b');
    const got = await store.get('a/b');
    got.body.destroy();
    expect(head).toEqual({ key: 'a/b', size: 5, version: put.version, lastModified: head.lastModified });
    expect(got.version).toBe(put.version);
    expect(Math.abs(head.lastModified.getTime() - before)).toBeLessThan(5000);
    await expectCode(store.get('a/c'), 'NotFound');
    await expectCode(store.head('a'), 'NotFound'); // a folder is not an object
    const error = await expectCode(store.get('a/b/c'), 'NotFound');
    expect(error.message).toBe('get a/b/c: no such key');
  });
});
