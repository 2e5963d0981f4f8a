import { StoreError } from '@ckpt/core';
import { PAGE_BYTES } from './options.js';
import { fmix32, seedWords, type WorkloadSeed } from './rng.js';

/** The four kinds of page content (see {@link PageMix}). */
export type PageKind = 'zero' | 'random' | 'dictionary' | 'text';

/**
 * A run of `pages` consecutive pages: page `k` of the segment holds page `start + k` of stream
 * `stream` of its kind. Streams are numbered once per workload and never reused, so a page's
 * content is a pure function of `(kind, stream, index)`: moving a segment (an insert before it)
 * keeps its bytes, and a fresh stream means bytes that occur nowhere else.
 * Zero pages ignore `stream`/`start`; dictionary pages use index `(start + k) mod dictionaryPages`.
 */
export interface Segment {
  kind: PageKind;
  stream: number;
  start: number;
  pages: number;
}

/** The stream number of the shared dictionary; every other stream is ≥ 1. */
export const DICTIONARY_STREAM = 0;

/** What page content depends on besides the segment: the seed's key and the dictionary size. */
export interface ContentContext {
  key: Uint32Array;
  dictionaryPages: number;
}

/** What the bytes of a plan's pages depend on besides the segments. */
export function contentContext(plan: {
  seed: WorkloadSeed;
  config: { dictionaryPages: number };
}): ContentContext {
  return { key: seedWords(plan.seed, 'pages'), dictionaryPages: plan.config.dictionaryPages };
}

const WORDS_PER_PAGE = PAGE_BYTES / 4;
const rotl = (v: number, r: number) => (v << r) | (v >>> (32 - r));

/**
 * Fills one page (1024 words at `at`) with xorshift128 output. The state is derived from
 * (stream, index) injectively — x is a bijection of the stream, y of the index — and four outputs
 * determine the state, so two different pages never share their bytes.
 */
function randomPage(words: Uint32Array, at: number, key: Uint32Array, stream: number, index: number): void {
  let x = fmix32(key[0]! ^ stream);
  let y = fmix32(key[1]! ^ index);
  let z = fmix32(key[2]! ^ x ^ rotl(y, 7));
  let w = fmix32(key[3]! ^ y ^ rotl(x, 13)) | 1;
  for (let i = at, end = at + WORDS_PER_PAGE; i < end; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
    words[i] = w;
  }
}

/** 256 made-up identifiers (fixed, seed-independent) and separators: text that compresses ~3×. */
const VOCABULARY = (() => {
  const parts =
    'ka to ne ri mu sa lo vi de pa zu chi tor cuda ten sor kv blk attn proj layer norm weight bias fp16 idx ptr ctx buf fn map rank'.split(
      ' ',
    );
  let state = 0x2545f491;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 16;
  };
  const words = Array.from({ length: 256 }, () => {
    let word = '';
    for (let n = 1 + (next() % 3); n > 0; n--) word += parts[next() % parts.length];
    return word;
  });
  const bytes = Buffer.from(words.join(''), 'latin1');
  const offsets = new Uint32Array(257);
  words.forEach((word, i) => {
    offsets[i + 1] = offsets[i]! + word.length;
  });
  return { bytes, offsets, separators: Buffer.from('     __.\n\n()=,/:', 'latin1') };
})();

/** Fills one page (4096 bytes at `at`) with words chosen by the page's random stream. */
function textPage(bytes: Uint8Array, at: number, key: Uint32Array, stream: number, index: number): void {
  const { bytes: vocab, offsets, separators } = VOCABULARY;
  let x = fmix32(key[0]! ^ stream);
  let y = fmix32(key[1]! ^ index);
  let z = fmix32(key[2]! ^ x ^ rotl(y, 7));
  let w = fmix32(key[3]! ^ y ^ rotl(x, 13)) | 1;
  const end = at + PAGE_BYTES;
  let p = at;
  while (p < end) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
    for (let half = 0; half < 32 && p < end; half += 16) {
      const word = (w >>> half) & 255;
      for (let i = offsets[word]!, stop = offsets[word + 1]!; i < stop && p < end; i++)
        bytes[p++] = vocab[i]!;
      if (p < end) bytes[p++] = separators[(w >>> (half + 8)) & 15]!;
    }
  }
}

/** Writes pages `[first, first + count)` of `segment` into `bytes` (and its word view) from page slot `slot`. */
function fillSegment(
  bytes: Uint8Array,
  words: Uint32Array,
  slot: number,
  segment: Segment,
  first: number,
  count: number,
  ctx: ContentContext,
): void {
  const { kind, stream } = segment;
  if (kind === 'zero') {
    bytes.fill(0, slot * PAGE_BYTES, (slot + count) * PAGE_BYTES);
    return;
  }
  for (let k = 0; k < count; k++) {
    const index = segment.start + first + k;
    const at = slot + k;
    if (kind === 'random') randomPage(words, at * WORDS_PER_PAGE, ctx.key, stream, index);
    else if (kind === 'text') textPage(bytes, at * PAGE_BYTES, ctx.key, stream, index);
    else randomPage(words, at * WORDS_PER_PAGE, ctx.key, DICTIONARY_STREAM, index % ctx.dictionaryPages);
  }
}

/**
 * The bytes of a file described by segments, in chunks of at most `blockBytes` (a multiple of
 * 4 KiB). Without `buffers` each chunk is a fresh buffer the consumer may keep; with `buffers`
 * (each at least `blockBytes` long, from {@link chunkBuffers}) chunks are views of them in turn, so
 * a chunk is overwritten `buffers.length` chunks later, and memory stays at those buffers.
 * Page bytes are laid out little-endian, so they are the same on every common platform.
 */
export function* fileChunks(
  file: { readonly size: number; readonly segments: readonly Segment[] },
  ctx: ContentContext,
  blockBytes: number,
  buffers?: readonly Buffer[],
): Generator<Buffer> {
  if (buffers?.some((b) => b.length < blockBytes || b.byteOffset % 4 !== 0)) {
    throw new StoreError(
      'InvalidArgument',
      `buffers must be ${blockBytes}-byte, 4-byte aligned (see chunkBuffers)`,
      {
        operation: 'fileChunks',
      },
    );
  }
  let remaining = file.size;
  let segmentIndex = 0;
  let used = 0; // pages of the current segment already produced
  for (let turn = 0; remaining > 0; turn++) {
    const pages = Math.min(blockBytes, Math.ceil(remaining / PAGE_BYTES) * PAGE_BYTES) / PAGE_BYTES;
    const chunk = buffers?.length
      ? buffers[turn % buffers.length]!.subarray(0, pages * PAGE_BYTES)
      : Buffer.allocUnsafeSlow(pages * PAGE_BYTES);
    const words = new Uint32Array(chunk.buffer, chunk.byteOffset, pages * WORDS_PER_PAGE);
    for (let slot = 0; slot < pages; ) {
      const segment = file.segments[segmentIndex];
      if (!segment) {
        throw new StoreError('Internal', `segments end before the file size ${file.size}`, {
          operation: 'workload',
        });
      }
      const count = Math.min(segment.pages - used, pages - slot);
      fillSegment(chunk, words, slot, segment, used, count, ctx);
      slot += count;
      used += count;
      if (used === segment.pages) [segmentIndex, used] = [segmentIndex + 1, 0];
    }
    const length = Math.min(remaining, chunk.length);
    remaining -= length;
    yield chunk.subarray(0, length);
  }
}

/** `count` reusable buffers of `blockBytes` for {@link fileChunks}, aligned for its word view. */
export function chunkBuffers(count: number, blockBytes: number): Buffer[] {
  return Array.from({ length: count }, () => Buffer.allocUnsafeSlow(blockBytes));
}
