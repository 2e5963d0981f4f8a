import { createHash, type Hash } from 'node:crypto';
import pLimit from 'p-limit';
import { StoreError, throwIfAborted } from '../errors.js';
import { isRetryable } from '../layers/retry.js';
import type { ObjectStore } from '../store.js';
import { packKey } from './layout.js';
import type { Manifest } from './manifest.js';

/** Largest gap between two wanted chunks of a pack that one ranged read still spans. */
const MAX_GAP = 1024 * 1024;

/** Bytes `part` of chunk `index`, starting `offset` bytes into the chunk. */
export interface ChunkPart {
  index: number;
  part: Buffer;
  offset: number;
}

interface Wanted {
  index: number;
  offset: number;
  length: number;
  hash: string;
}

/**
 * Reads chunks `indices` of `manifest` from their packs, verifies each one's SHA-256, and hands
 * streams it to `deliver` (awaited: a slow consumer slows the reads, memory stays bounded). Chunks of
 * one pack are fetched with as few ranged reads as possible (whole packs when the store cannot do
 * ranges), `concurrency` reads at a time. A chunk that does not match its hash, or a pack that
 * ends early, fails with `Integrity` naming `describe(index)` (the files that need it).
 */
export async function fetchChunks(
  store: ObjectStore,
  manifest: Manifest,
  indices: Iterable<number>,
  options: {
    concurrency: number;
    readSize: number;
    signal?: AbortSignal;
    /**
     * Receives chunk bytes as they stream, a batch per read: each `part` starts `offset` bytes
     * into its chunk, and parts of one batch are views of one buffer (adjacent parts can be written
     * with one call). A chunk is verified only once all of it has streamed: write parts somewhere
     * disposable (the pull's staging tree) and trust them after `complete`, or after the call.
     */
    deliver(parts: ChunkPart[]): Promise<void> | void;
    /** Called once a chunk has fully arrived and matched its hash. */
    complete?(index: number): Promise<void> | void;
    describe(index: number): string;
    onBytes?(bytes: number): void;
    /** When given, bad chunks are reported here and the reads go on (for `verify`); else they throw. */
    onProblem?(index: number, problem: string): void;
  },
): Promise<void> {
  const byPack = new Map<number, Wanted[]>();
  for (const index of indices) {
    const [pack, offset, length, hash] = manifest.chunks[index]!;
    const list = byPack.get(pack) ?? [];
    list.push({ index, offset, length, hash });
    byPack.set(pack, list);
  }
  const reads: { pack: number; chunks: Wanted[] }[] = [];
  for (const [pack, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset);
    let current: Wanted[] = [];
    for (const chunk of list) {
      const first = current[0];
      const last = current.at(-1);
      if (
        first &&
        last &&
        store.capabilities.rangedRead &&
        (chunk.offset - (last.offset + last.length) > MAX_GAP ||
          chunk.offset + chunk.length - first.offset > options.readSize)
      ) {
        reads.push({ pack, chunks: current });
        current = [];
      }
      current.push(chunk);
    }
    if (current.length) reads.push({ pack, chunks: current });
  }
  const limit = pLimit(options.concurrency);
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  try {
    await Promise.all(
      reads.map((read) =>
        limit(() =>
          withRangeRetries(
            () => readRange(store, manifest.packs[read.pack]!, read.chunks, { ...options, signal }),
            signal,
          ),
        ).catch((err) => {
          if (options.onProblem && StoreError.is(err, 'Integrity') && !signal.aborted) return;
          controller.abort(err);
          throw err;
        }),
      ),
    );
  } catch (err) {
    throwIfAborted(options.signal, 'pull');
    throw err;
  }
}

/** Attempts of one ranged read that fails mid-stream with a retryable error. */
const RANGE_ATTEMPTS = 4;

/**
 * Runs a ranged read again when its stream breaks with a retryable error (a reset connection, a
 * truncated body): the parts it re-delivers overwrite the same bytes, and hashing starts over.
 */
async function withRangeRetries(read: () => Promise<void>, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= RANGE_ATTEMPTS || !isRetryable(err) || signal.aborted) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** attempt));
    }
  }
}

async function readRange(
  store: ObjectStore,
  packId: string,
  chunks: Wanted[],
  options: Parameters<typeof fetchChunks>[3] & { signal: AbortSignal },
): Promise<void> {
  throwIfAborted(options.signal, 'pull');
  const key = packKey(packId);
  const start = store.capabilities.rangedRead ? chunks[0]!.offset : 0;
  const last = chunks.at(-1)!;
  const range = store.capabilities.rangedRead
    ? { offset: start, length: last.offset + last.length - start }
    : undefined;
  const got = await store.get(key, { range, signal: options.signal }).catch((err) => {
    if (StoreError.is(err, 'NotFound')) {
      for (const c of chunks) options.onProblem?.(c.index, `pack ${packId} is missing`);
      throw new StoreError('Integrity', `pack is missing; needed by ${options.describe(chunks[0]!.index)}`, {
        operation: 'pull',
        key,
        cause: err,
      });
    }
    throw err;
  });
  let next = 0;
  const failed: StoreError[] = [];
  let hash: Hash | undefined;
  let filled = 0;
  let pos = got.range.offset;
  try {
    for await (const piece of got.body as AsyncIterable<Buffer>) {
      options.onBytes?.(piece.length);
      const parts: ChunkPart[] = [];
      let p = 0;
      while (p < piece.length && next < chunks.length) {
        const chunk = chunks[next]!;
        const at = pos + p;
        if (at < chunk.offset) {
          p += Math.min(piece.length - p, chunk.offset - at);
          continue;
        }
        hash ??= createHash('sha256');
        const n = Math.min(piece.length - p, chunk.length - filled);
        const part = piece.subarray(p, p + n);
        hash.update(part);
        parts.push({ index: chunk.index, part, offset: filled });
        filled += n;
        p += n;
        if (filled === chunk.length) {
          const actual = hash.digest('hex');
          if (actual !== chunk.hash) {
            const detail = `chunk ${chunk.hash.slice(0, 12)} in pack ${packId} does not match its hash`;
            if (!options.onProblem) {
              failed.push(
                new StoreError('Integrity', `${detail}; needed by ${options.describe(chunk.index)}`, {
                  operation: 'pull',
                  key,
                }),
              );
            } else options.onProblem(chunk.index, detail);
          } else await options.complete?.(chunk.index);
          hash = undefined;
          filled = 0;
          next++;
        }
      }
      // every part of this piece at once, before the verdict on chunks that end in it (parts go to a
      // disposable place; a bad chunk fails the whole call)
      await options.deliver(parts);
      for (const fail of failed.splice(0)) throw fail;
      pos += piece.length;
      if (next === chunks.length) break;
    }
  } finally {
    got.body.destroy();
  }
  if (next < chunks.length) {
    for (const c of chunks.slice(next)) options.onProblem?.(c.index, `pack ${packId} ends early`);
    throw new StoreError('Integrity', `pack ends early; needed by ${options.describe(chunks[next]!.index)}`, {
      operation: 'pull',
      key,
    });
  }
}
