import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { S3Client } from '@aws-sdk/client-s3';
import { StoreError } from '@ckpt/core';

export const MiB = 1024 * 1024;

const TEMPLATE = randomBytes(MiB);

/**
 * The byte at each position of a pattern object: 1 MiB random blocks, each stamped with its
 * index in the first 8 bytes, so every part differs and any slice can be recomputed.
 */
export function patternChunk(index: number): Buffer {
  const chunk = Buffer.from(TEMPLATE);
  chunk.writeBigUInt64BE(BigInt(index));
  return chunk;
}

/** Bytes `[offset, offset + length)` of the pattern object. */
export function patternBytes(offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let written = 0; written < length; ) {
    const position = offset + written;
    const chunk = patternChunk(Math.floor(position / MiB));
    written += chunk.copy(out, written, position % MiB, Math.min(MiB, (position % MiB) + length - written));
  }
  return out;
}

/**
 * A stream of the first `size` bytes of the pattern object, generated on the fly (never held in
 * memory); `digest` resolves to its sha256 once it has been read. `fail` makes it throw after
 * `afterBytes`; `stall` makes it hang there.
 */
export function patternStream(
  size: number,
  options: { fail?: Error; stall?: boolean; afterBytes?: number; onChunk?: (bytes: number) => void } = {},
) {
  const hash = createHash('sha256');
  let resolveDigest: (hex: string) => void = () => {};
  const digest = new Promise<string>((resolve) => {
    resolveDigest = resolve;
  });
  async function* generate() {
    for (let offset = 0, index = 0; offset < size; index++) {
      if (options.afterBytes !== undefined && offset >= options.afterBytes) {
        if (options.fail) throw options.fail;
        if (options.stall) await new Promise(() => {});
      }
      const chunk = patternChunk(index).subarray(0, Math.min(MiB, size - offset));
      hash.update(chunk);
      offset += chunk.length;
      options.onChunk?.(chunk.length);
      yield chunk;
    }
    resolveDigest(hash.digest('hex'));
  }
  return { stream: Readable.from(generate(), { objectMode: false }), digest };
}

/** sha256 (hex) and length of everything `body` yields. */
export async function sha256Of(
  body: AsyncIterable<Uint8Array>,
  onChunk?: (bytes: number) => void,
): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
    onChunk?.(chunk.length);
  }
  return { hex: hash.digest('hex'), bytes };
}

let collector: (() => void) | undefined;

/** V8's `gc()`, switched on at run time when the process was started without `--expose-gc`. */
export function collectGarbage(): void {
  if (!collector) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing !== 'function') setFlagsFromString('--expose-gc');
    collector = typeof existing === 'function' ? existing : (runInNewContext('gc') as () => void);
  }
  collector();
}

/**
 * Peak RSS growth while something streams. Garbage is collected at the start and every 4 MiB of
 * reported progress, so chunks already passed on do not count, while anything the code under
 * test holds on to does.
 */
export class RssProbe {
  private readonly baseline: number;
  private peak: number;
  private sinceGc = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    collectGarbage();
    this.baseline = process.memoryUsage.rss();
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), 10);
  }

  /** Call for every chunk that streams through. */
  readonly progress = (bytes: number): void => {
    this.sinceGc += bytes;
    if (this.sinceGc >= 4 * MiB) {
      this.sinceGc = 0;
      collectGarbage();
    }
    this.sample();
  };

  /** Stops sampling; returns the peak growth in bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak - this.baseline;
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }
}

/** One SDK call seen by {@link recordCommands}. */
export interface RecordedCall {
  command: string;
  input: Record<string, unknown>;
}

/**
 * Records every command `client` sends (name and input, minus `Body`) and the most UploadPart
 * calls in flight at once. The requests still go to the real server.
 */
export function recordCommands(client: S3Client) {
  const calls: RecordedCall[] = [];
  const state = { inFlight: 0, maxInFlight: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      // keep the input without its body: holding part buffers would defeat memory measurements
      const { Body: _body, ...input } = args.input as Record<string, unknown>;
      calls.push({ command, input });
      const isPart = command === 'UploadPartCommand';
      if (isPart) state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
      try {
        return await next(args);
      } finally {
        if (isPart) state.inFlight--;
      }
    },
    { step: 'initialize', name: 'ckptTestRecorder' },
  );
  return {
    calls,
    named: (name: string) => calls.filter((call) => call.command === `${name}Command`),
    /** UploadPart calls by part number (parts whose Content-MD5 is computed on a worker may be sent out of order). */
    parts: () =>
      calls
        .filter((call) => call.command === 'UploadPartCommand')
        .sort((a, b) => Number(a.input.PartNumber) - Number(b.input.PartNumber)),
    get maxPartsInFlight() {
      return state.maxInFlight;
    },
  };
}

/** Resolves once `condition()` holds (polling every 10 ms); rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The `StoreError` that `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!StoreError.is(err)) throw new Error(`expected a StoreError, got ${String(err)}`);
  return err;
}
