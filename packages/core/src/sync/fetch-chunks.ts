import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import pLimit from 'p-limit';
import { StoreError, throwIfAborted } from '../errors.js';
import type { ObjectStore } from '../store.js';
import type { ChunkTable } from './chunk-table.js';
import type { FileWorkers } from './chunking/index.js';
import { type EngineContext, readsInFlight } from './engine-context.js';
import { packKey } from './layout.js';
import type { Manifest } from './manifest.js';

/** Largest gap between two wanted chunks of a pack that one ranged read still spans. */
const MAX_GAP = 1024 * 1024;

/** A chunk that arrived whole and matched its hash: a view of a read buffer. */
export interface VerifiedChunk {
  index: number;
  data: Buffer;
}

/** Options of {@link fetchChunks}. */
export interface FetchOptions {
  signal?: AbortSignal;
  /**
   * Receives verified chunks, a batch at a time: views of a read buffer that is reused once the
   * returned promise resolves (copy or write them before). Awaited: a slow consumer slows the
   * reads, and memory stays at the reads in flight.
   */
  deliver(chunks: VerifiedChunk[]): Promise<void> | void;
  /** The files that need chunk `index`, for error messages. */
  describe(index: number): string;
  /**
   * Chunks the caller already holds (a stopped pull's staging tree): a read never spans them to
   * save a request, so what is held is never downloaded again.
   */
  held?: Iterable<number>;
  onBytes?(bytes: number): void;
  /** When given, bad chunks are reported here and the reads go on (for `verify`); else they throw. */
  onProblem?(index: number, problem: string): void;
}

interface Wanted {
  index: number;
  offset: number;
  length: number;
}

/**
 * Reads chunks `indices` of `manifest` from their packs in the context's store, checks each
 * one's SHA-256 before handing it to `deliver`. Chunks of one pack are fetched with as few ranged
 * reads of at most `ctx.readSize` as possible (whole packs when the store cannot do ranges),
 * {@link readsInFlight} at a time, each into a reused shared buffer whose chunks are hashed on
 * the worker threads as they complete. A chunk that does not match its hash, or a pack that ends
 * early, fails with `Integrity` naming `describe(index)` (the files that need it).
 */
export async function fetchChunks(
  ctx: EngineContext,
  manifest: Manifest,
  indices: Iterable<number>,
  options: FetchOptions,
): Promise<void> {
  const rows = manifest.chunks;
  const byPlace = (a: number, b: number) =>
    rows.packOf(a) - rows.packOf(b) || rows.offsetOf(a) - rows.offsetOf(b);
  // the chunks by pack and offset, in a typed array: no object per chunk until its read runs
  const sorted = Int32Array.from(indices).sort(byPlace);
  const held = Int32Array.from(options.held ?? []).sort(byPlace);
  let next = 0; // in `held`: the gaps asked about come in pack and offset order
  /** True when a held chunk starts in `pack` within bytes `[from, to)`. */
  const holds = (pack: number, from: number, to: number) => {
    const before = (i: number) =>
      rows.packOf(i) < pack || (rows.packOf(i) === pack && rows.offsetOf(i) < from);
    while (next < held.length && before(held[next]!)) next++;
    return next < held.length && rows.packOf(held[next]!) === pack && rows.offsetOf(held[next]!) < to;
  };
  const { store, readSize } = ctx;
  const ranged = store.capabilities.rangedRead;
  /** One read per run `[from, to)` of `sorted`, all of one pack. */
  const reads: { pack: number; from: number; to: number }[] = [];
  for (let from = 0; from < sorted.length; ) {
    const pack = rows.packOf(sorted[from]!);
    const start = rows.offsetOf(sorted[from]!);
    let end = start + rows.lengthOf(sorted[from]!);
    let to = from + 1;
    for (; to < sorted.length && rows.packOf(sorted[to]!) === pack; to++) {
      const offset = rows.offsetOf(sorted[to]!);
      const after = offset + rows.lengthOf(sorted[to]!);
      if (ranged && (offset - end > MAX_GAP || after - start > readSize || holds(pack, end, offset))) break;
      end = after;
    }
    reads.push({ pack, from, to });
    from = to;
  }
  const chunksOf = (read: (typeof reads)[number]): Wanted[] =>
    Array.from(sorted.subarray(read.from, read.to), (index) => ({
      index,
      offset: rows.offsetOf(index),
      length: rows.lengthOf(index),
    }));
  // one arena per read in flight, all of the largest read's size, reused from read to read;
  // shared memory, so that workers hash finished chunks while later bytes are still arriving
  const span = (read: (typeof reads)[number]) => {
    const last = sorted[read.to - 1]!;
    return rows.offsetOf(last) + rows.lengthOf(last) - (ranged ? rows.offsetOf(sorted[read.from]!) : 0);
  };
  const size = reads.reduce((most, read) => Math.max(most, span(read)), 0);
  const room = store.readRoom?.(size) ?? 0; // an encrypted store decrypts in place there
  const free: SharedArrayBuffer[] = [];
  const hash: FileWorkers['hash'] = (buffer, extents) => ctx.workers().hash(buffer, extents);
  const concurrency = readsInFlight(ctx);
  const limit = pLimit(concurrency);
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  // each read in flight listens to it, through its store and the store's layers: not a leak
  setMaxListeners(8 * concurrency, signal);
  // the first failure stops the other reads; every read (and the writes it started) has settled
  // before this returns
  await Promise.allSettled(
    reads.map((read) =>
      limit(async () => {
        const arena = free.pop() ?? new SharedArrayBuffer(size + room);
        await readRange(store, manifest.packs[read.pack]!, chunksOf(read), arena, {
          ...options,
          signal,
          rows,
          hash,
        });
        free.push(arena);
      }).catch((err) => {
        if (options.onProblem && StoreError.is(err, 'Integrity') && !signal.aborted) return;
        if (!signal.aborted) controller.abort(err);
      }),
    ),
  );
  throwIfAborted(options.signal, 'pull');
  if (controller.signal.aborted) throw controller.signal.reason;
}

/** What one read needs: the fetch's options, the signal that stops all reads, the chunk table, the hasher. */
type ReadOptions = FetchOptions & { signal: AbortSignal; rows: ChunkTable; hash: FileWorkers['hash'] };

/** Complete chunks are sent for hashing and writing in batches of about this many bytes. */
const BATCH_BYTES = 1024 * 1024;

/**
 * One ranged read of `chunks` (sorted, of one pack) into `arena`. As the bytes stream in, every
 * run of complete chunks (about {@link BATCH_BYTES}) is hashed on a worker, straight from the
 * shared arena, and the chunks that match are delivered, while later bytes are still arriving.
 * Resolves once every batch has settled: the arena is free again. A connection that breaks is
 * resumed by the store; a body that still fails fails the read.
 */
async function readRange(
  store: ObjectStore,
  packId: string,
  chunks: Wanted[],
  arena: SharedArrayBuffer,
  options: ReadOptions,
): Promise<void> {
  throwIfAborted(options.signal, 'pull');
  const key = packKey(packId);
  const start = store.capabilities.rangedRead ? chunks[0]!.offset : 0;
  const last = chunks.at(-1)!;
  const end = last.offset + last.length;
  const range = store.capabilities.rangedRead ? { offset: start, length: end - start } : undefined;
  const bytes = new Uint8Array(arena, 0, end - start);
  const got = await store.get(key, { range, signal: options.signal, into: bytes }).catch((err) => {
    if (StoreError.is(err, 'NotFound')) {
      for (const c of chunks) options.onProblem?.(c.index, `pack ${packId} is missing`);
      throw new StoreError('Integrity', `pack is missing; needed by ${options.describe(chunks[0]!.index)}`, {
        operation: 'pull',
        key,
        cause: err,
      });
    }
    if (StoreError.is(err, 'Integrity')) for (const c of chunks) options.onProblem?.(c.index, err.message);
    throw err;
  });
  const batches: Promise<void>[] = [];
  let received = 0; // bytes of [start, end) in `bytes`
  let sent = 0; // chunks handed to a batch
  let bad = false; // a batch held a chunk that failed its check
  const send = (force: boolean) => {
    let upTo = sent;
    while (upTo < chunks.length && chunks[upTo]!.offset + chunks[upTo]!.length - start <= received) upTo++;
    if (upTo === sent) return;
    if (!force && chunks[upTo - 1]!.offset + chunks[upTo - 1]!.length - chunks[sent]!.offset < BATCH_BYTES)
      return;
    const batch = verifyAndDeliver(chunks.slice(sent, upTo), arena, start, packId, options);
    // a bad chunk ends the read at once; the failure is thrown below, once every batch has settled
    batch.catch(() => {
      bad = true;
      got.body.destroy();
    });
    batches.push(batch);
    sent = upTo;
  };
  let pos = got.range.offset;
  let broken: { error: unknown } | undefined;
  try {
    for await (const piece of got.body as AsyncIterable<Buffer>) {
      options.onBytes?.(piece.length);
      const from = Math.max(pos, start + received);
      const to = Math.min(pos + piece.length, end);
      if (to > from) {
        const part = piece.subarray(from - pos, to - pos);
        // a store that honours `into` has put the bytes in place already
        if (part.buffer !== arena || part.byteOffset !== from - start) bytes.set(part, from - start);
        received = to - start;
        send(false);
      }
      pos += piece.length;
      // a whole-pack read stops once it has what it needs; a ranged one ends by itself (a body
      // destroyed before its end costs its connection)
      if (!range && received === end - start) break;
    }
    send(true);
  } catch (error) {
    broken = { error };
    // what arrived whole is kept (written to the staging tree) even so: a pull that stops here
    // leaves it for the next one to resume from
    if (!bad) send(true);
  } finally {
    got.body.destroy();
  }
  // the arena is reused only once neither the body (which may be reading into it) nor a batch
  // uses it
  const [settled] = await Promise.all([Promise.allSettled(batches), closed(got.body)]);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (broken) {
    // a body that fails its own check (an encrypted block that does not decrypt) breaks the chunks not yet delivered
    const { error } = broken;
    if (StoreError.is(error, 'Integrity'))
      for (const c of chunks.slice(sent)) options.onProblem?.(c.index, error.message);
    throw error;
  }
  if (sent < chunks.length) {
    for (const c of chunks.slice(sent)) options.onProblem?.(c.index, `pack ${packId} ends early`);
    throw new StoreError('Integrity', `pack ends early; needed by ${options.describe(chunks[sent]!.index)}`, {
      operation: 'pull',
      key,
    });
  }
}

/** Resolves once `body` has closed, however it ended. */
function closed(body: Readable): Promise<void> {
  return finished(body).then(noop, noop);
}

const noop = () => {};

/** Hashes `batch` (complete in `arena`, which holds the pack from `start`) and delivers the chunks that match. */
async function verifyAndDeliver(
  batch: Wanted[],
  arena: SharedArrayBuffer,
  start: number,
  packId: string,
  options: ReadOptions,
): Promise<void> {
  const { hashes } = await options.hash(
    arena,
    batch.map((c) => ({ offset: c.offset - start, length: c.length })),
  );
  const good: VerifiedChunk[] = [];
  for (const [i, chunk] of batch.entries()) {
    const expected = options.rows.hashOf(chunk.index);
    if (hashes[i] === expected) {
      good.push({ index: chunk.index, data: Buffer.from(arena, chunk.offset - start, chunk.length) });
      continue;
    }
    const detail = `chunk ${expected.slice(0, 12)} in pack ${packId} does not match its hash`;
    if (!options.onProblem) {
      throw new StoreError('Integrity', `${detail}; needed by ${options.describe(chunk.index)}`, {
        operation: 'pull',
        key: packKey(packId),
      });
    }
    options.onProblem(chunk.index, detail);
  }
  await options.deliver(good);
}
