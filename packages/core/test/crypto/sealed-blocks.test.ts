// The encrypted object format on its own: sizes, ranged reads across blocks, and every kind of
// tampering a store reader could do to one object.
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FileWorkers } from '../../dist/sync/chunking/index.js';
import { readAll } from '../../src/body.js';
import { EncryptedStore } from '../../src/crypto/encrypted-store.js';
import { openInPlace } from '../../src/crypto/open-in-place.js';
import type { OpenJob } from '../../src/crypto/open-job.js';
import {
  BLOCK,
  BLOCK_OVERHEAD,
  blockCount,
  openBlocks,
  openBlocksInto,
  plainSize,
  sealBlocks,
  sealInto,
  storedSize,
} from '../../src/crypto/sealed-blocks.js';
import { MemoryStore } from '../../src/memory-store.js';
import type { PutBody, PutOptions } from '../../src/store.js';

const KEY = randomBytes(32);
const SIZES = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17];
const STORED_BLOCK = BLOCK + BLOCK_OVERHEAD;

/** Decrypts `stored` fed in pieces of 1000 bytes, as a connection delivers them. */
const open = (stored: Buffer, size: number) => {
  const pieces = Array.from({ length: Math.ceil(stored.length / 1000) }, (_, i) =>
    stored.subarray(i * 1000, (i + 1) * 1000),
  );
  return readAll(openBlocks(KEY, pieces, 0, Math.max(1, Math.ceil(size / BLOCK)), 0, size, 'k'));
};

describe('sealed blocks', () => {
  it.each(SIZES)('a %i-byte object round-trips, its sizes map both ways', async (size) => {
    const plain = randomBytes(size);
    const stored = sealBlocks(KEY, plain);
    expect(stored.length).toBe(storedSize(size));
    expect(plainSize(stored.length)).toBe(size);
    expect((await open(stored, size)).equals(plain)).toBe(true);
  });

  it.each(SIZES)(
    'a %i-byte object sealed in place, in its own buffer, opens to its plaintext',
    async (size) => {
      const plain = randomBytes(size);
      const buffer = Buffer.alloc(storedSize(size));
      plain.copy(buffer);
      sealInto(KEY, buffer.subarray(0, size), buffer);
      expect((await open(buffer, size)).equals(plain)).toBe(true);
    },
  );

  it('no stored size is taken for another plaintext size, and impossible ones are refused', () => {
    for (const size of SIZES) expect(plainSize(storedSize(size))).toBe(size);
    for (const stored of [0, 27, STORED_BLOCK + 5]) expect(plainSize(stored)).toBeUndefined();
  });

  it('gives every block of every object a nonce of its own, the same plaintext sealed twice included', () => {
    const plain = Buffer.alloc(5 * BLOCK + 3); // equal blocks: only the nonces tell them apart
    const nonces = [sealBlocks(KEY, plain), sealBlocks(KEY, plain)].flatMap((stored) =>
      Array.from({ length: blockCount(plain.length) }, (_, i) =>
        stored.subarray(i * STORED_BLOCK, i * STORED_BLOCK + 12).toString('hex'),
      ),
    );
    expect(nonces).toHaveLength(12);
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  it('fails on a flipped byte anywhere, blocks reordered, a cut at a block boundary or inside one, the wrong key', async () => {
    const size = 3 * BLOCK + 17;
    const plain = randomBytes(size);
    const stored = sealBlocks(KEY, plain);
    const reordered = Buffer.concat([
      stored.subarray(STORED_BLOCK, 2 * STORED_BLOCK),
      stored.subarray(0, STORED_BLOCK),
      stored.subarray(2 * STORED_BLOCK),
    ]);
    const damaged: [string, Buffer, number][] = [
      ...[0, 11, 12, 5000, STORED_BLOCK - 1, stored.length - 1].map(
        (at) => [`byte ${at} flipped`, flip(stored, at), size] as [string, Buffer, number],
      ),
      ['blocks reordered', reordered, size],
      ['cut at a block boundary', stored.subarray(0, 2 * STORED_BLOCK), 2 * BLOCK],
      ['cut inside a block', stored.subarray(0, stored.length - 3), size],
    ];
    for (const [name, bytes, claimed] of damaged)
      await expect(open(bytes, claimed), name).rejects.toMatchObject({ code: 'Integrity' });
    await expect(readAll(openBlocks(randomBytes(32), [stored], 0, 4, 0, size, 'k'))).rejects.toThrow(
      'block 0 does not decrypt',
    );
  });

  it('leaves no cipher output to the garbage collector: 16 MiB sealed and opened add no buffer memory', () => {
    const plain = randomBytes(16 * 1024 * 1024 + 5);
    const stored = new Uint8Array(storedSize(plain.length));
    const opened = new Uint8Array(plain.length);
    const before = process.memoryUsage().arrayBuffers;
    sealInto(KEY, plain, stored);
    expect(openBlocksInto(KEY, stored, 0, blockCount(plain.length), opened, 0, plain.length)).toBe(-1);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(plain.equals(opened)).toBe(true);
  });

  it('through the store: a body lent with room is sealed in place and released when the inner store releases it', async () => {
    const puts: { body: Uint8Array; released: boolean }[] = [];
    class Recording extends MemoryStore {
      override async put(key: string, body: PutBody, options: PutOptions = {}) {
        const put = { body: body as Uint8Array, released: false };
        puts.push(put);
        const result = await super.put(key, body, options);
        put.released = true; // once stored, before the put settles
        options.onBodyReleased?.();
        return result;
      }
    }
    const store = new EncryptedStore(new Recording());
    store.useDataKey(KEY);
    const plain = randomBytes(3 * BLOCK + 5);
    const key = 'ckpt/packs/ab/abcdef.pack';
    const room = store.writeRoom(plain.length);
    expect(room).toBe(storedSize(plain.length) - plain.length);

    const lent = Buffer.alloc(plain.length + room);
    plain.copy(lent);
    let released = 0;
    const releasedFirst: boolean[] = [];
    await store.put(key, lent.subarray(0, plain.length), {
      inPlace: true,
      onBodyReleased: () => {
        released++;
        releasedFirst.push(puts[0]!.released);
      },
    });
    expect(puts[0]!.body.buffer).toBe(lent.buffer); // no buffer of its own
    expect(released).toBe(1);
    expect(releasedFirst).toEqual([true]); // not before the inner store let go of it
    expect((await readAll((await store.get(key)).body)).equals(plain)).toBe(true);

    // not lent (or lent without room): the caller's bytes stay as they were
    for (const options of [{}, { inPlace: true }]) {
      const roomy = Buffer.alloc(plain.length + ('inPlace' in options ? room - 1 : room));
      plain.copy(roomy);
      await store.put(key, roomy.subarray(0, plain.length), options);
      expect(puts.at(-1)!.body.buffer).not.toBe(roomy.buffer);
      expect(roomy.subarray(0, plain.length).equals(plain)).toBe(true);
      expect((await readAll((await store.get(key)).body)).equals(plain)).toBe(true);
    }
  });

  it('through the store: a shared buffer with room is decrypted in place on the workers, no buffer beside it', async () => {
    const inner = new MemoryStore();
    const workers = new FileWorkers({ threads: 1 });
    const store = new EncryptedStore(inner, () => workers);
    store.useDataKey(KEY);
    const plain = randomBytes(4 * 1024 * 1024 + 7);
    const key = 'ckpt/packs/ab/abcdef.pack';
    await store.put(key, plain, { size: plain.length });
    const buffer = new SharedArrayBuffer(plain.length + store.readRoom(plain.length));
    try {
      for (const [offset, length] of [
        [0, plain.length],
        [BLOCK - 10, 3 * BLOCK],
        [2 * BLOCK + 1, 2 * 1024 * 1024],
        [plain.length - 5, 5],
      ] as const) {
        const into = new Uint8Array(buffer, 0, length);
        const before = process.memoryUsage().arrayBuffers;
        const got = await store.get(key, { range: { offset, length }, into });
        const pieces: Uint8Array[] = [];
        for await (const piece of got.body) pieces.push(piece);
        expect(process.memoryUsage().arrayBuffers - before, `${offset}+${length}`).toBeLessThan(256 * 1024);
        expect(pieces.every((p) => p.buffer === buffer)).toBe(true);
        expect(Buffer.from(into).equals(plain.subarray(offset, offset + length))).toBe(true);
      }
      // a damaged block fails the read there
      const raw = await readAll((await inner.get(key)).body);
      await inner.put(key, flip(raw, 5 * STORED_BLOCK + 100), { size: raw.length });
      const got = await store.get(key, {
        range: { offset: 0, length: plain.length },
        into: new Uint8Array(buffer, 0, plain.length),
      });
      await expect(readAll(got.body)).rejects.toThrow('block 5 does not decrypt');
    } finally {
      await workers.close();
    }
  });

  it('in place: a read that arrives at once is two jobs for the threads, a slow one is delivered while it arrives', async () => {
    const workers = new FileWorkers({ threads: 1 });
    let jobs = 0;
    const counting = {
      open: (job: OpenJob) => {
        jobs++;
        return workers.open(job);
      },
    };
    const plain = randomBytes(8 * 1024 * 1024 + 7);
    const stored = sealBlocks(KEY, plain);
    const buffer = new SharedArrayBuffer(stored.length);
    const into = new Uint8Array(buffer, 0, plain.length);
    const blocks = blockCount(plain.length);
    const read = (body: Readable) =>
      openInPlace(
        counting,
        KEY,
        { body, first: 0, blocks, into, stored: stored.length, from: 0, to: plain.length },
        'k',
      );
    try {
      await readAll(read(Readable.from([stored])));
      expect(Buffer.from(into).equals(plain)).toBe(true);
      expect(jobs).toBe(2); // every whole block, then the short last one

      jobs = 0;
      new Uint8Array(buffer).fill(0);
      const body = new PassThrough();
      let sent = 0;
      const trickle = (async () => {
        for (; sent < stored.length; sent += 256 * 1024) {
          body.write(stored.subarray(sent, sent + 256 * 1024));
          await sleep(2);
        }
        body.end();
      })();
      const sentAtEachPiece: number[] = [];
      for await (const piece of read(body)) {
        expect(piece.buffer).toBe(buffer);
        sentAtEachPiece.push(sent);
      }
      await trickle;
      expect(Buffer.from(into).equals(plain)).toBe(true);
      expect(sentAtEachPiece[0]).toBeLessThan(stored.length);
      expect(jobs).toBeLessThan(8);
    } finally {
      await workers.close();
    }
  });

  it('in place: a read that fails while a job runs starts no job after it, so the buffer is free once it ends', async () => {
    const plain = randomBytes(12 * 1024 * 1024);
    const stored = sealBlocks(KEY, plain);
    const buffer = new SharedArrayBuffer(stored.length);
    const into = new Uint8Array(buffer, 0, plain.length);
    const started: OpenJob[] = [];
    let finish: (failed: number) => void = () => {};
    const held = {
      open: (job: OpenJob) => {
        started.push(job);
        return new Promise<number>((resolve) => {
          finish = resolve;
        });
      },
    };
    const body = new PassThrough();
    const blocks = blockCount(plain.length);
    const read = openInPlace(
      held,
      KEY,
      { body, first: 0, blocks, into, stored: stored.length, from: 0, to: plain.length },
      'k',
    );
    const outcome = readAll(read).then(
      () => 'ended',
      (error: Error) => error.message,
    );
    body.write(stored.subarray(0, 5 * 1024 * 1024)); // a first job starts, and is held
    await sleep(20);
    body.write(stored.subarray(5 * 1024 * 1024, 11 * 1024 * 1024)); // enough for a second, which waits
    await sleep(20);
    expect(started).toHaveLength(1);
    body.destroy(new Error('connection reset'));
    await sleep(20);
    finish(-1);
    expect(await outcome).toBe('connection reset');
    expect(started).toHaveLength(1);
  });

  it('through the store: ranged reads at any place read only the blocks they need', async () => {
    const inner = new MemoryStore();
    const store = new EncryptedStore(inner);
    store.useDataKey(KEY);
    const plain = randomBytes(5 * BLOCK + 100);
    const key = 'ckpt/packs/ab/abcdef.pack';
    expect(await store.put(key, plain, { size: plain.length })).toMatchObject({ size: plain.length });
    expect((await inner.head(key)).size).toBe(storedSize(plain.length));
    expect((await store.head(key)).size).toBe(plain.length);
    for (const [offset, length] of [
      [0, 1],
      [BLOCK - 10, 20],
      [2 * BLOCK, BLOCK],
      [5 * BLOCK + 50, 50],
      [5 * BLOCK + 50, 5000],
      [plain.length + 10, 10],
      [7, 0],
    ] as const) {
      const got = await store.get(key, { range: { offset, length } });
      const expected = plain.subarray(offset, offset + length);
      expect((await readAll(got.body)).equals(expected), `${offset}+${length}`).toBe(true);
      expect(got.range).toEqual({ offset: Math.min(offset, plain.length), length: expected.length });
    }
    // an object is bound to its name: the same bytes under another name do not decrypt
    const moved = 'ckpt/packs/ab/abcdee.pack';
    const raw = await readAll((await inner.get(key)).body);
    await inner.put(moved, raw, { size: raw.length });
    await expect(readAll((await store.get(moved)).body)).rejects.toMatchObject({ code: 'Integrity' });
    // metadata values are stored encrypted and read back in the clear
    const manifest = 'ckpt/models/m/x.json';
    await store.put(manifest, Buffer.from('{}'), { size: 2, metadata: { 'ckpt-lead': '2:abc' } });
    expect((await inner.head(manifest)).metadata?.['ckpt-lead']).not.toContain('abc');
    expect((await store.head(manifest)).metadata).toEqual({ 'ckpt-lead': '2:abc' });
    // an object no encrypted object could be: head refuses it, a listing shows its stored size
    const odd = 'ckpt/packs/ab/abcdef0.pack';
    await inner.put(odd, Buffer.alloc(5), { size: 5 });
    await expect(store.head(odd)).rejects.toMatchObject({ code: 'Integrity' });
    const listed = [];
    for await (const meta of store.list('ckpt/packs/')) listed.push([meta.key, meta.size]);
    expect(listed).toContainEqual([odd, 5]);
    expect(listed).toContainEqual([key, plain.length]);
    // what the engine does not seal passes unchanged
    await store.put('ckpt/pushes/p.json', Buffer.from('{"a":1}'), { size: 7 });
    expect((await readAll((await inner.get('ckpt/pushes/p.json')).body)).toString()).toBe('{"a":1}');
  });
});

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at]! ^= 1;
  return copy;
}
