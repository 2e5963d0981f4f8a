import type { GroupTests } from '../define.js';
import { expectKeys, expectStored, expectStoreError } from '../util/checks.js';
import { patternBytes } from '../util/pattern.js';

const CHUNK = 64 * 1024;

/** A signal that has already fired. */
function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort(new Error('caller gave up'));
  return controller.signal;
}

/** The caller's AbortSignal: already fired, or firing while a put streams. */
export const abortTests: GroupTests = () => [
  {
    name: 'an already-aborted signal fails a put with Aborted and writes nothing',
    async run(ctx) {
      const before = patternBytes(100, 91);
      await ctx.store.put('abort/existing', before);
      for (const key of ['abort/existing', 'abort/new']) {
        const signal = aborted();
        const bytes = patternBytes(200, 92);
        await expectStoreError(() => ctx.store.put(key, bytes, { signal }), 'Aborted', `put ${key} (bytes)`);
        async function* stream() {
          yield bytes;
        }
        await expectStoreError(
          () => ctx.store.put(key, stream(), { signal }),
          'Aborted',
          `put ${key} (stream)`,
        );
      }
      await expectStored(ctx, 'abort/existing', before);
      await expectKeys(ctx, ['abort/existing'], 'after the aborted puts');
    },
  },
  {
    name: 'an already-aborted signal fails get and list with Aborted',
    async run(ctx) {
      await ctx.store.put('abort/a', patternBytes(10, 93));
      await expectStoreError(() => ctx.store.get('abort/a', { signal: aborted() }), 'Aborted', 'get');
      await expectStoreError(
        async () => {
          for await (const _meta of ctx.store.list('', { signal: aborted() })) {
            // reading the first page must already fail
          }
        },
        'Aborted',
        'list',
      );
    },
  },
  {
    name: 'aborting while a put streams fails it with Aborted and leaves the key as it was',
    timeoutMs: 60_000,
    async run(ctx) {
      const before = patternBytes(100, 94);
      await ctx.store.put('abort/pages-1.img', before);
      for (const key of ['abort/pages-1.img', 'abort/pages-2.img']) {
        const controller = new AbortController();
        async function* body() {
          for (let i = 0; i < 64; i++) {
            if (i === 4) controller.abort(new Error('caller gave up'));
            yield patternBytes(CHUNK, 95 + i);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
        await expectStoreError(
          () => ctx.store.put(key, body(), { signal: controller.signal }),
          'Aborted',
          `put ${key} aborted midway`,
        );
      }
      await expectStored(ctx, 'abort/pages-1.img', before);
      await expectKeys(ctx, ['abort/pages-1.img'], 'after the aborted puts');
    },
  },
];
