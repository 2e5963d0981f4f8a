// readHead: how an adapter decides between one request and a put in parts, and what it reads first.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BlockReader, PartBuffers, readHead } from '../src/blocks.js';
import { bodyChunks } from '../src/body.js';

const MiB = 1024 * 1024;
const THRESHOLD = 16 * MiB;
const head = (body: Uint8Array | AsyncIterable<Uint8Array>, size?: number) =>
  readHead(new BlockReader(bodyChunks(body), 'k'), new PartBuffers(8 * MiB), THRESHOLD, { size, key: 'k' });

describe('readHead', () => {
  it('takes a bytes body of its declared size within the threshold as one view of it, even past a part', async () => {
    const body = randomBytes(8 * MiB + 3584); // an encrypted 8 MiB pack
    const { blocks, complete } = await head(body, body.length);
    expect(complete).toBe(true);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.bytes.buffer).toBe(body.buffer);
    expect(blocks[0]!.bytes.length).toBe(body.length);
  });

  it('reads a stream of its declared size within the threshold as one block', async () => {
    const body = randomBytes(12 * MiB);
    const pieces = Array.from({ length: 12 }, (_, i) => body.subarray(i * MiB, (i + 1) * MiB));
    const { blocks, complete } = await head(Readable.from(pieces), body.length);
    expect(complete).toBe(true);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.bytes.equals(body)).toBe(true);
  });

  it('fails a body longer or shorter than declared with Integrity', async () => {
    await expect(head(randomBytes(1001), 1000)).rejects.toMatchObject({
      code: 'Integrity',
      message: expect.stringContaining('more than 1000'),
    });
    await expect(head(randomBytes(999), 1000)).rejects.toMatchObject({ code: 'Integrity' });
    await expect(head(randomBytes(1), 0)).rejects.toMatchObject({ code: 'Integrity' });
    expect((await head(new Uint8Array(0), 0)).complete).toBe(true);
  });

  it('starts a put in parts past the threshold, and finds the end of a body of unknown size', async () => {
    const big = randomBytes(THRESHOLD + 1);
    const parts = await head(big, big.length);
    expect(parts.complete).toBe(false);
    expect(parts.blocks.map((b) => b.bytes.length)).toEqual([8 * MiB, 8 * MiB, 1]);
    const unknown = await head(Readable.from([randomBytes(9 * MiB)]));
    expect(unknown.complete).toBe(true);
    expect(unknown.blocks.map((b) => b.bytes.length)).toEqual([8 * MiB, MiB]);
  });
});
