import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { CLOCK, PUSHES, pushIdOf, pushKey } from './layout.js';
import { readJsonRecord } from './stored-generations.js';

/** A base generation a push may reuse chunks from. */
export interface BaseGeneration {
  model: string;
  generation: string;
}

/** What a push in flight tells `gc` (`ckpt/pushes/<id>.json`), renewed while it runs. */
const recordShape = z.object({
  format: z.literal('ckpt-push/1'),
  model: z.string(),
  /** Generations whose packs the push may reuse. */
  bases: z.array(z.object({ model: z.string(), generation: z.string() })),
  /** Packs an earlier push stored that this one may reuse (push-resume.ts). */
  packs: z.array(z.string()).optional(),
  /** The store's time of the record's first write: every pack the push writes is younger. */
  startedAt: z.string().optional(),
  /** The record is renewed this often; one older than {@link DEAD_AFTER} times that is a dead push's. */
  renewMs: z.number().positive(),
});
type PushRecord = z.infer<typeof recordShape>;

/** How often a push renews its record by default. */
export const RENEW_MS = 30_000;
/** A record not renewed for this many intervals belongs to a dead push. */
const DEAD_AFTER = 4;
/**
 * A push that went this many intervals without a renewal refuses to commit: the margin to
 * {@link DEAD_AFTER} covers the time a renewal takes to reach the store.
 */
const LOST_AFTER = 3;

/**
 * A push's lease on the data it needs: a record in the store that names the generations (and the
 * packs of an earlier push) the push reuses and says when it started, renewed every `renewMs`
 * while the push runs, removed when it ends. `gc` keeps every pack a live push may reference
 * (see gc.ts). A push that could not renew its record in time (a stalled process, an unreachable
 * store) may have been taken for dead, so it must not commit: {@link confirm} says so.
 */
export class PushLease {
  readonly #store: ObjectStore;
  readonly #key: string;
  #record: PushRecord;
  #timer: NodeJS.Timeout | undefined;
  /** When the last renewal that succeeded was sent (monotonic ms), and the longest gap seen. */
  #lastSent = performance.now();
  #longestGap = 0;
  #renewing: Promise<void> = Promise.resolve();

  private constructor(store: ObjectStore, record: PushRecord) {
    this.#store = store;
    this.#key = pushKey(randomBytes(16).toString('hex'));
    this.#record = record;
  }

  /**
   * Writes the record (before the push reads any base manifest or checks any of `packs`) and
   * starts renewing it.
   */
  static async take(
    store: ObjectStore,
    model: string,
    bases: BaseGeneration[],
    options: { renewMs?: number; packs?: string[]; signal?: AbortSignal } = {},
  ): Promise<PushLease> {
    const { renewMs = RENEW_MS, packs = [], signal } = options;
    const lease = new PushLease(store, {
      format: 'ckpt-push/1',
      model,
      bases,
      ...(packs.length ? { packs } : {}),
      renewMs,
    });
    await lease.#write(signal);
    const meta = await store.head(lease.#key, { signal });
    lease.#record = { ...lease.#record, startedAt: meta.lastModified.toISOString() };
    lease.#timer = setInterval(() => void lease.#renew(), renewMs);
    lease.#timer.unref();
    return lease;
  }

  /**
   * Renews the record once more and throws `Conflict` unless it was renewed in time throughout
   * the push: only then can no `gc` have taken the push for dead and collected its data.
   */
  async confirm(model: string): Promise<void> {
    await this.#renew();
    const limit = this.#record.renewMs * LOST_AFTER;
    if (this.#longestGap > limit || performance.now() - this.#lastSent > limit) {
      throw new StoreError(
        'Conflict',
        `the push could not renew its lease for ${Math.max(this.#longestGap, performance.now() - this.#lastSent).toFixed(0)} ms: gc may have collected its data; push again`,
        { operation: 'push', key: model },
      );
    }
  }

  /** Stops renewing and removes the record (best effort: a dead record expires on its own). */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#renewing;
    await this.#store.delete(this.#key).catch(() => undefined);
  }

  #renew(): Promise<void> {
    this.#renewing = this.#renewing.then(async () => {
      const sent = performance.now();
      try {
        await this.#write();
      } catch {
        return; // the gap keeps growing; confirm() refuses the commit if it grows too long
      }
      this.#longestGap = Math.max(this.#longestGap, sent - this.#lastSent);
      this.#lastSent = sent;
    });
    return this.#renewing;
  }

  async #write(signal?: AbortSignal): Promise<void> {
    const body = Buffer.from(JSON.stringify(this.#record));
    await this.#store.put(this.#key, body, { size: body.length, signal });
  }
}

/** A push `gc` must consider alive: what it may reuse, and the store time it started. */
export interface LivePush {
  bases: BaseGeneration[];
  /** Packs of an earlier push it may reuse. */
  packs: string[];
  startedAt: number;
}

/**
 * The pushes in flight at store time `now`, and the keys of records whose push is dead (not
 * renewed for {@link DEAD_AFTER} of its renewal intervals). A record that cannot be read counts as a live push
 * that started at the beginning of time: it protects every pack until it expires.
 */
export async function readPushes(
  store: ObjectStore,
  now: number,
  signal?: AbortSignal,
): Promise<{ live: LivePush[]; dead: string[] }> {
  const live: LivePush[] = [];
  const dead: string[] = [];
  for await (const meta of store.list(PUSHES, { signal })) {
    if (!pushIdOf(meta.key)) continue;
    const age = now - meta.lastModified.getTime();
    const record = await readRecord(store, meta.key, signal);
    if (record === null) continue; // removed since it was listed: that push has ended
    const renewMs = record?.renewMs ?? RENEW_MS;
    if (age > DEAD_AFTER * renewMs) dead.push(meta.key);
    else
      live.push({
        bases: record?.bases ?? [],
        packs: record?.packs ?? [],
        startedAt: record ? Date.parse(record.startedAt ?? meta.lastModified.toISOString()) : 0,
      });
  }
  return { live, dead };
}

/** The record at `key`; null when it is gone, undefined when it cannot be read as one. */
async function readRecord(
  store: ObjectStore,
  key: string,
  signal?: AbortSignal,
): Promise<PushRecord | null | undefined> {
  const json = await readJsonRecord(store, key, 16 * 1024 * 1024, signal).catch((err) => {
    if (StoreError.is(err, 'Integrity')) return undefined; // larger than any record ckpt writes
    throw err;
  });
  if (json === null) return null;
  const parsed = recordShape.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The store's current time, read by writing a tiny object and reading its modification time, so
 * that ages compare the store's clock with itself, never with a local clock that may be skewed.
 */
export async function storeNow(store: ObjectStore, signal?: AbortSignal): Promise<number> {
  // a read first: it fails on a store that does not exist, which the put would create (a
  // filesystem store's root), so a gc of a mistyped store is an error, not a new empty store
  for await (const _ of store.list(CLOCK, { signal })) break;
  const key = `${CLOCK}${randomBytes(16).toString('hex')}`;
  await store.put(key, Buffer.alloc(0), { size: 0, signal });
  try {
    return (await store.head(key, { signal })).lastModified.getTime();
  } finally {
    await store.delete(key).catch(() => undefined);
  }
}
