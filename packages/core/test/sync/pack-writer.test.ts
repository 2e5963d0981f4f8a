import { describe, expect, it } from 'vitest';
import { readAll } from '../../src/body.js';
import { StoreError } from '../../src/errors.js';
import { MemoryStore } from '../../src/memory-store.js';
import type { PutBody, PutOptions, PutResult } from '../../src/store.js';
import { packKey } from '../../src/sync/layout.js';
import { PackWriter } from '../../src/sync/pack-writer.js';

/** Puts take a few milliseconds, so that uploads are in flight while more chunks arrive. */
class SlowStore extends MemoryStore {
  override async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    await new Promise((resolve) => setTimeout(resolve, 3));
    return super.put(key, body, options);
  }
}

describe('PackWriter', () => {
  it('overlapping adds across pack boundaries all land in stored packs, at their offsets', async () => {
    const store = new SlowStore();
    const packs = new PackWriter(store, { packSize: 1000, maxInFlight: 1 });
    const chunk = (i: number) => Buffer.alloc(90 + (i % 7) * 30, i);
    const placed = await Promise.all(Array.from({ length: 200 }, (_, i) => packs.add(chunk(i))));
    const written = new Set(await packs.finish());
    for (const [i, at] of placed.entries()) {
      expect(written.has(at.packId), `chunk ${i}'s pack was stored`).toBe(true);
      const got = await store.get(packKey(at.packId), {
        range: { offset: at.offset, length: chunk(i).length },
      });
      expect((await readAll(got.body, 1 << 20, 'pack')).equals(chunk(i)), `chunk ${i}'s bytes`).toBe(true);
    }
  });

  it('reuses a buffer the store released before its put settled, within both bounds', async () => {
    /** Copies the body, releases it, and settles 5 ms later: a filesystem store's fsync and rename. */
    class ReleasingStore extends MemoryStore {
      holding = 0;
      running = 0;
      maxHolding = 0;
      maxRunning = 0;
      readonly buffers = new Set<ArrayBufferLike>();
      override async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
        this.maxHolding = Math.max(this.maxHolding, ++this.holding);
        this.maxRunning = Math.max(this.maxRunning, ++this.running);
        this.buffers.add((body as Uint8Array).buffer);
        await new Promise((resolve) => setTimeout(resolve, 1));
        const copy = Buffer.from(body as Uint8Array);
        this.holding--;
        options?.onBodyReleased?.();
        await new Promise((resolve) => setTimeout(resolve, 5));
        this.running--;
        return super.put(key, copy, options);
      }
    }
    const store = new ReleasingStore();
    const packs = new PackWriter(store, { packSize: 1000, maxInFlight: 2, maxUploads: 4 });
    const chunk = (i: number) => Buffer.alloc(100, i);
    const placed = await Promise.all(Array.from({ length: 300 }, (_, i) => packs.add(chunk(i))));
    expect((await packs.finish()).length).toBe(30);
    for (const [i, at] of placed.entries()) {
      const got = await store.get(packKey(at.packId), { range: { offset: at.offset, length: 100 } });
      expect((await readAll(got.body, 1 << 20, 'pack')).equals(chunk(i)), `chunk ${i}'s bytes`).toBe(true);
    }
    expect(store.maxHolding).toBe(2);
    expect(store.maxRunning).toBe(4); // more uploads than bodies held: released ones cost no memory
    expect(store.buffers.size).toBeLessThanOrEqual(3); // the pack filling and the two held
  });

  it('reports each pack with its hashed chunks before its upload starts, and its version once stored', async () => {
    const store = new SlowStore();
    const events: string[] = [];
    const packs = new PackWriter(store, {
      packSize: 1000,
      maxInFlight: 1,
      onUpload: (pack) => {
        events.push(
          `upload ${pack.id} ${pack.size} ${pack.chunks.map((c) => `${c.hash}@${c.offset}+${c.length}`)}`,
        );
      },
      onStored: (id, version) => events.push(`stored ${id} ${version}`),
    });
    const placed = await Promise.all(
      ['a', 'b', 'c'].map((hash) => packs.addWith(400, (target) => target.fill(hash), hash)),
    );
    const [first, second] = await packs.finish();
    const version = async (id: string) => (await store.head(packKey(id))).version;
    expect(placed.map((p) => p.packId)).toEqual([first, first, second]);
    expect(events).toEqual([
      `upload ${first} 800 a@0+400,b@400+400`,
      `stored ${first} ${await version(first!)}`,
      `upload ${second} 400 c@0+400`,
      `stored ${second} ${await version(second!)}`,
    ]);
  });

  it('fails when an upload fails after releasing its body', async () => {
    class FailingStore extends MemoryStore {
      override async put(_key: string, _body: PutBody, options?: PutOptions): Promise<PutResult> {
        options?.onBodyReleased?.();
        throw new StoreError('Unavailable', 'the disk went away', { operation: 'put' });
      }
    }
    const packs = new PackWriter(new FailingStore(), { packSize: 1000, maxInFlight: 1, maxUploads: 2 });
    const adds = Array.from({ length: 50 }, (_, i) => packs.add(Buffer.alloc(100, i)));
    await Promise.allSettled(adds);
    await expect(packs.finish()).rejects.toThrow('the disk went away');
  });

  it('lends each pack to a store with write room: its buffer has the room after the body, and is reused', async () => {
    /** Takes `length / 10` bytes past each body, as an encrypted store seals there. */
    class RoomyStore extends MemoryStore {
      readonly lent: { bytes: number; room: number; buffer: ArrayBufferLike }[] = [];
      writeRoom(length: number): number {
        return Math.ceil(length / 10);
      }
      override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
        const bytes = body as Uint8Array;
        if (options.inPlace)
          this.lent.push({
            bytes: bytes.length,
            room: bytes.buffer.byteLength - bytes.byteOffset - bytes.length,
            buffer: bytes.buffer,
          });
        const result = await super.put(key, body, options);
        options.onBodyReleased?.();
        return result;
      }
    }
    const store = new RoomyStore();
    const packs = new PackWriter(store, { packSize: 1000, maxInFlight: 1 });
    for (let i = 0; i < 30; i++) await packs.add(Buffer.alloc(300, i));
    await packs.add(Buffer.alloc(2500, 1)); // larger than a pack: a buffer of its own, with room too
    const written = await packs.finish();
    expect(store.lent).toHaveLength(written.length);
    for (const { bytes, room } of store.lent) expect(room).toBeGreaterThanOrEqual(Math.ceil(bytes / 10));
    expect(new Set(store.lent.map((l) => l.buffer)).size).toBeLessThan(store.lent.length);
  });
});
