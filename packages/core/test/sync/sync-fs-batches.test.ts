import { expect, it } from 'vitest';
import { eachSliced, SYNC_SLICE } from '../../src/sync/sync-fs-batches.js';

it('runs fn on every item in order, letting the event loop turn every slice', async () => {
  const seen: number[] = [];
  const turns: number[] = [];
  const items = Array.from({ length: 2 * SYNC_SLICE + 10 }, (_, i) => i);
  // an immediate scheduled now runs at the first turn, then schedules the next one
  const watch = () =>
    setImmediate(() => {
      turns.push(seen.length);
      if (seen.length < items.length) watch();
    });
  watch();
  await eachSliced(items, (i) => seen.push(i));
  expect(seen).toEqual(items);
  // it yielded before item SYNC_SLICE and before item 2 * SYNC_SLICE: never more than a slice unbroken
  expect(turns).toContain(SYNC_SLICE - 1);
  expect(turns).toContain(2 * SYNC_SLICE - 1);
});
