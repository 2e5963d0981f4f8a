// What a store holds that no committed generation needs, read straight from its keys (not
// through gc, whose work it checks): packs no manifest lists, push leases, trash records, clock
// objects, summary keys of generations gone, anything else.
import { buffer } from 'node:stream/consumers';
import type { ObjectStore } from '@ckpt/core';

/** Something a store holds that no committed generation needs. */
export interface Leftover {
  what: string;
  count: number;
  bytes: number;
  /** Whether `gc` removes it, or only the service does, after its own expiry. */
  gcRemoves: boolean;
}

const MANIFEST = /^ckpt\/models\/.+\.json$/;
const PACK = /^ckpt\/packs\/[0-9a-f]{2}\/([0-9a-f]+)\.pack$/;
/** A summary key (what `ls` shows of a generation): `$1.json` is its manifest's key. */
const SUMMARY = /^(ckpt\/models\/.+\/[^/.]+)\.[A-Za-z0-9_-]+\.summary$/;

/** Keys of `store` that no manifest under `ckpt/models/` needs, grouped by kind. */
export async function unreferencedKeys(store: ObjectStore): Promise<Leftover[]> {
  const needed = new Set<string>();
  const manifests = new Set<string>();
  const others: { key: string; size: number }[] = [];
  for await (const { key, size } of store.list('')) {
    if (!MANIFEST.test(key)) {
      others.push({ key, size });
      continue;
    }
    manifests.add(key);
    const manifest = JSON.parse((await buffer((await store.get(key)).body)).toString()) as {
      packs: string[];
    };
    for (const id of manifest.packs) needed.add(id);
  }
  const groups = new Map<string, Leftover>();
  for (const { key, size } of others) {
    const pack = PACK.exec(key)?.[1];
    if (pack && needed.has(pack)) continue;
    const summaryOf = SUMMARY.exec(key)?.[1];
    if (summaryOf && manifests.has(`${summaryOf}.json`)) continue;
    const what = pack
      ? 'packs'
      : summaryOf
        ? 'summary keys'
        : (key.match(/^ckpt\/(pushes|trash|clock)\//)?.[1] ?? key);
    const group = groups.get(what) ?? { what, count: 0, bytes: 0, gcRemoves: true };
    group.count++;
    group.bytes += size;
    groups.set(what, group);
  }
  return [...groups.values()];
}
