import { describe, expect, it } from 'vitest';
import { readAll } from '../../src/body.js';
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
});
