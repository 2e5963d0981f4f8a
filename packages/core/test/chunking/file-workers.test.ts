import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededBytes } from '@ckpt/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The pool starts its workers from the built files: run `npx turbo run build --filter=@ckpt/core` first.
import {
  type Chunk,
  type ChunkingOptions,
  chunkBuffer,
  FileWorkers,
} from '../../dist/sync/chunking/index.js';
import { StoreError } from '../../src/errors.js';
import { stampOf } from '../../src/sync/stamp.js';
import { buildFile, KiB, MiB, type Piece, withoutData } from './fixtures.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const small: ChunkingOptions = {
  minSize: 1 * KiB,
  avgSize: 4 * KiB,
  maxSize: 16 * KiB,
  zeroRunMin: 16 * KiB,
};

/** Zero runs short and long, some across segment edges; a run of one repeated byte; repeated pages. */
const mixed: Piece[] = [
  ['random', 300 * KiB + 17],
  ['zero', 12 * KiB],
  ['random', 200 * KiB],
  ['zero', 700 * KiB + 100],
  ['pages', 260 * KiB],
  ['random', 90 * KiB],
  ['zero', 16 * KiB],
  ['fill', 600 * KiB],
  ['random', 1 * MiB + 5],
  ['zero', 2 * MiB],
  ['random', 333 * KiB + 3],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ckpt-chunker-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeTemp(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function collect(pool: FileWorkers, path: string, options = {}): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const batch of pool.chunkFile(path, options)) {
    expect(batch.length).toBeGreaterThan(0);
    out.push(...batch);
  }
  return out;
}

describe('FileWorkers gives exactly the chunkBuffer result', () => {
  const cases: { name: string; bytes: Uint8Array; chunking: ChunkingOptions; segments: number[] }[] = [
    { name: 'mixed', bytes: buildFile(21, mixed), chunking: small, segments: [96 * KiB, 132 * KiB, 1 * MiB] },
    {
      name: 'random',
      bytes: seededBytes(3 * MiB + 1, 22),
      chunking: small,
      segments: [100 * KiB, 256 * KiB],
    },
  ];
  for (const { name, bytes, chunking, segments } of cases) {
    for (const threads of [1, 2, 3]) {
      it(`${name} file, ${threads} thread(s), segments of ${segments.map((s) => s / KiB).join('/')} KiB`, async () => {
        const path = await writeTemp(`${name}.img`, bytes);
        const expected = chunkBuffer(bytes, chunking);
        for (const segmentSize of segments) {
          const pool = new FileWorkers({ threads, chunking, segmentSize });
          try {
            expect(await collect(pool, path)).toEqual(expected);
          } finally {
            await pool.close();
          }
        }
      });
    }
  }

  it('with default chunking on a larger file (zero runs across segment edges)', async () => {
    const bytes = buildFile(23, [
      ['random', 9 * MiB + 4097],
      ['zero', 7 * MiB],
      ['random', 6 * MiB],
      ['zero', 100 * KiB],
      ['random', 10 * MiB],
    ]);
    const path = await writeTemp('default.img', bytes);
    const expected = chunkBuffer(bytes);
    for (const threads of [2, 3]) {
      const pool = new FileWorkers({ threads, segmentSize: 4 * MiB });
      try {
        expect(await collect(pool, path)).toEqual(expected);
        expect(pool.stats.scans).toBeGreaterThanOrEqual(8);
      } finally {
        await pool.close();
      }
    }
  });

  it('rescans when segments do not meet, and still matches', async () => {
    // A tiny stitch window and a long run of one byte value (where scans never re-synchronise).
    const bytes = buildFile(24, [
      ['random', 150 * KiB],
      ['fill', 700 * KiB],
      ['random', 400 * KiB],
      ['pages', 300 * KiB],
      ['random', 200 * KiB],
    ]);
    const path = await writeTemp('rescan.img', bytes);
    const pool = new FileWorkers({ threads: 2, chunking: small, segmentSize: 36 * KiB, stitchWindow: 1 });
    try {
      expect(await collect(pool, path)).toEqual(chunkBuffer(bytes, small));
      expect(pool.stats.rescans).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });
});

describe('FileWorkers', () => {
  it('attaches each data chunk its bytes with withData, valid until the next batch', async () => {
    const bytes = buildFile(25, mixed);
    const path = await writeTemp('data.img', bytes);
    const pool = new FileWorkers({ threads: 2, chunking: small, segmentSize: 128 * KiB });
    const sameBytes = (c: Chunk) =>
      Buffer.from(c.data!).equals(bytes.subarray(c.offset, c.offset + c.length));
    try {
      const kept: Chunk[] = [];
      for await (const batch of pool.chunkFile(path, { withData: true })) {
        for (const c of batch) {
          if (c.hash === null) expect(c.data).toBeUndefined();
          else expect(sameBytes(c)).toBe(true);
        }
        kept.push(...batch);
      }
      expect(withoutData(kept)).toEqual(chunkBuffer(bytes, small));
      // read buffers were reused: views of earlier batches are detached, never other bytes
      const data = kept.filter((c) => c.hash !== null);
      expect(data.some((c) => c.data!.length === 0)).toBe(true);
      for (const c of data) expect(c.data!.length === 0 || sameBytes(c)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('reads no more than about readAhead ahead of the consumer', async () => {
    const path = await writeTemp('ahead.img', seededBytes(48 * MiB, 26));
    const pool = new FileWorkers({ threads: 2, segmentSize: 4 * MiB });
    try {
      const it = pool.chunkFile(path, { readAhead: 8 * MiB })[Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // two segments of 4 MiB (plus their scan windows' context) were read, not the 48 MiB file
      expect(pool.stats.bytesRead).toBeLessThan(12 * MiB);
      await it.return?.();
    } finally {
      await pool.close();
    }
  });

  it('chunks several files at once on one pool', async () => {
    const a = buildFile(28, mixed);
    const b = seededBytes(2 * MiB + 3, 29);
    const [pathA, pathB] = [await writeTemp('a.img', a), await writeTemp('b.img', b)];
    const pool = new FileWorkers({ threads: 2, chunking: small, segmentSize: 128 * KiB });
    try {
      const [outA, outB] = await Promise.all([
        collect(pool, pathA),
        collect(pool, pathB, { withData: true }),
      ]);
      expect(outA).toEqual(chunkBuffer(a, small));
      expect(withoutData(outB)).toEqual(chunkBuffer(b, small));
    } finally {
      await pool.close();
    }
  });

  it('fails with Integrity when the file shrinks while being chunked', async () => {
    const path = await writeTemp('shrinks.img', seededBytes(24 * MiB, 30));
    const pool = new FileWorkers({ threads: 1, segmentSize: 4 * MiB });
    try {
      const consume = async () => {
        for await (const _ of pool.chunkFile(path, { readAhead: 4 * MiB })) await truncate(path, 1 * MiB);
      };
      await expect(consume()).rejects.toSatisfy(
        (err) => StoreError.is(err, 'Integrity') && (err as Error).message.includes('shrank'),
      );
    } finally {
      await pool.close();
    }
  });

  it('yields nothing for an empty file and one zero extent for an all-zero file', async () => {
    const pool = new FileWorkers({ threads: 2, segmentSize: 4 * MiB });
    try {
      expect(await collect(pool, await writeTemp('empty.img', new Uint8Array(0)))).toEqual([]);
      const zeros = await writeTemp('zeros.img', new Uint8Array(20 * MiB));
      expect(await collect(pool, zeros)).toEqual([{ offset: 0, length: 20 * MiB, hash: null }]);
    } finally {
      await pool.close();
    }
  });

  it('stops with Aborted when the signal fires', async () => {
    const path = await writeTemp('abort.img', seededBytes(24 * MiB, 27));
    const pool = new FileWorkers({ threads: 2, segmentSize: 4 * MiB });
    try {
      const controller = new AbortController();
      const consume = async () => {
        for await (const _ of pool.chunkFile(path, { signal: controller.signal })) controller.abort();
      };
      await expect(consume()).rejects.toSatisfy((err) => StoreError.is(err, 'Aborted'));
      await expect(collect(pool, path, { signal: AbortSignal.abort() })).rejects.toSatisfy((err) =>
        StoreError.is(err, 'Aborted'),
      );
      // the pool still works afterwards
      expect((await collect(pool, path)).length).toBeGreaterThan(100);
    } finally {
      await pool.close();
    }
  });

  it('names the file in clear errors', async () => {
    const pool = new FileWorkers({ threads: 1 });
    try {
      const missing = join(dir, 'missing.img');
      await expect(collect(pool, missing)).rejects.toSatisfy(
        (err) => StoreError.is(err, 'NotFound') && (err as Error).message.includes(missing),
      );
      await expect(collect(pool, dir)).rejects.toSatisfy(
        (err) =>
          StoreError.is(err, 'InvalidArgument') && (err as Error).message.includes('not a regular file'),
      );
    } finally {
      await pool.close();
    }
    await expect(collect(pool, join(dir, 'mixed.img'))).rejects.toSatisfy((err) =>
      StoreError.is(err, 'Aborted'),
    );
  });

  it('hashes extents of a buffer on a worker and hands the bytes back', async () => {
    const bytes = seededBytes(3 * MiB + 5, 21);
    const buffer = new ArrayBuffer(bytes.length);
    new Uint8Array(buffer).set(bytes);
    const extents = [
      { offset: 0, length: 100 },
      { offset: 100, length: 2 * MiB },
      { offset: 3 * MiB, length: 5 },
      { offset: 7, length: 0 },
    ];
    const pool = new FileWorkers({ threads: 2 });
    try {
      const result = await pool.hash(buffer, extents);
      expect(buffer.byteLength).toBe(0); // transferred
      expect(Buffer.from(result.buffer).equals(bytes)).toBe(true);
      expect(result.hashes).toEqual(
        extents.map((x) => sha256(bytes.subarray(x.offset, x.offset + x.length))),
      );
    } finally {
      await pool.close();
    }
    await expect(pool.hash(new ArrayBuffer(1), [])).rejects.toSatisfy((err) => StoreError.is(err, 'Aborted'));
  });

  it('readFiles reads small files whole, each with its hash (null when all zero) and stamp', async () => {
    const a = await writeTemp('small-a', seededBytes(5000, 31));
    const zero = await writeTemp('small-zero', new Uint8Array(8192));
    const b = await writeTemp('small-b', seededBytes(70 * KiB, 32));
    const pool = new FileWorkers({ threads: 2 });
    try {
      const sizes = [5000, 8192, 70 * KiB];
      const read = await pool.readFiles([a, zero, b].map((path, i) => ({ path, size: sizes[i]! })));
      expect(read.map((f) => f.data.length)).toEqual(sizes);
      expect(Buffer.from(read[0]!.data).equals(seededBytes(5000, 31))).toBe(true);
      expect(Buffer.from(read[2]!.data).equals(seededBytes(70 * KiB, 32))).toBe(true);
      expect(read.map((f) => f.hash)).toEqual([
        sha256(seededBytes(5000, 31)),
        null,
        sha256(seededBytes(70 * KiB, 32)),
      ]);
      for (const [i, path] of [a, zero, b].entries()) {
        expect(read[i]!.stamp).toEqual(stampOf(await lstat(path, { bigint: true })));
      }
      // a buffer given back is read into (transferred); without one, bufferSize is allocated
      const given = new ArrayBuffer(100 * KiB);
      const [again] = await pool.readFiles([{ path: a, size: 5000 }], { buffer: given, bufferSize: 1 });
      expect(given.byteLength).toBe(0);
      expect(again!.data.buffer.byteLength).toBe(100 * KiB);
      expect(Buffer.from(again!.data).equals(seededBytes(5000, 31))).toBe(true);
      const tooSmall = new ArrayBuffer(10);
      const [fresh] = await pool.readFiles([{ path: a, size: 5000 }], {
        buffer: tooSmall,
        bufferSize: 64 * KiB,
      });
      expect(fresh!.data.buffer.byteLength).toBe(64 * KiB);
      // a file shorter than the caller thought gives what it has, and its stamp tells
      await truncate(b, 100);
      const [short] = await pool.readFiles([{ path: b, size: 70 * KiB }]);
      expect(short!.data.length).toBe(100);
      expect(short!.stamp.size).toBe(100);
    } finally {
      await pool.close();
    }
  });

  it('readFiles names the file it cannot read, and refuses a symlink or a FIFO without hanging', async () => {
    const good = await writeTemp('good', seededBytes(10, 33));
    const link = join(dir, 'link');
    await symlink(good, link);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const missing = join(dir, 'missing');
    const pool = new FileWorkers({ threads: 1 });
    try {
      for (const [path, code] of [
        [missing, 'NotFound'],
        [link, 'InvalidArgument'],
        [fifo, 'InvalidArgument'],
      ] as const) {
        const read = pool.readFiles([
          { path: good, size: 10 },
          { path, size: 10 },
        ]);
        await expect(read).rejects.toSatisfy((err) => StoreError.is(err, code) && err.key === path);
      }
    } finally {
      await pool.close();
    }
  });

  it('writeFiles creates files whole from a shared buffer, finished, and returns their stamps', async () => {
    const buffer = new SharedArrayBuffer(64 * KiB);
    const bytes = new Uint8Array(buffer);
    bytes.set(seededBytes(64 * KiB, 34));
    const one = join(dir, 'new-one');
    const holes = join(dir, 'new-holes');
    const pool = new FileWorkers({ threads: 2 });
    try {
      const stamps = await pool.writeFiles(buffer, [
        {
          path: one,
          writes: [{ offset: 0, at: 100, length: 5000 }],
          mode: 0o640,
          mtimeMs: 1_600_000_000_500,
        },
        {
          // two extents out of buffer order, a hole between them and one at the end
          path: holes,
          writes: [
            { offset: 0, at: 8192, length: 4096 },
            { offset: 12_288, at: 0, length: 4096 },
          ],
          size: 20_480,
          mode: 0o755,
          mtimeMs: 1_500_000_000_000,
        },
      ]);
      expect((await readFile(one)).equals(Buffer.from(bytes.subarray(100, 5100)))).toBe(true);
      const expected = Buffer.alloc(20_480);
      expected.set(bytes.subarray(8192, 12_288), 0);
      expected.set(bytes.subarray(0, 4096), 12_288);
      expect((await readFile(holes)).equals(expected)).toBe(true);
      const expectations: [string, number, number][] = [
        [one, 0o640, 1_600_000_000_500],
        [holes, 0o755, 1_500_000_000_000],
      ];
      for (const [i, [path, mode, mtimeMs]] of expectations.entries()) {
        const st = await lstat(path, { bigint: true });
        expect(Number(st.mode & 0o7777n)).toBe(mode);
        expect(Number(st.mtimeMs)).toBe(mtimeMs);
        expect(stamps[i]).toEqual(stampOf(st));
      }
    } finally {
      await pool.close();
    }
  });

  it('writeFiles names the file it cannot create, and never writes through a symlink', async () => {
    const target = await writeTemp('link-target', seededBytes(10, 35));
    const link = join(dir, 'new-link');
    await symlink(target, link);
    const buffer = new SharedArrayBuffer(16);
    const pool = new FileWorkers({ threads: 1 });
    const file = (path: string) => ({
      path,
      writes: [{ offset: 0, at: 0, length: 16 }],
      mode: 0o644,
      mtimeMs: 0,
    });
    try {
      for (const [path, code] of [
        [link, 'InvalidArgument'],
        [join(dir, 'no-such-dir', 'file'), 'NotFound'],
      ] as const) {
        const written = pool.writeFiles(buffer, [file(join(dir, 'new-before')), file(path)]);
        await expect(written).rejects.toSatisfy((err) => StoreError.is(err, code) && err.key === path);
      }
      expect((await readFile(target)).equals(seededBytes(10, 35))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('warm starts every thread at once, and close stops them', async () => {
    const threads = async () => (await readdir('/proc/self/task')).length;
    const before = await threads();
    const pool = new FileWorkers({ threads: 3 });
    try {
      pool.warm();
      pool.warm(); // no more than `threads`
      // a worker's OS thread (and its helpers) exist once `new Worker` returns
      expect(await threads()).toBeGreaterThanOrEqual(before + 3);
      const idle = await threads();
      const { hashes } = await pool.hash(new ArrayBuffer(4), [{ offset: 0, length: 4 }]);
      expect(hashes).toEqual([sha256(new Uint8Array(4))]);
      expect(await threads()).toBe(idle); // the job ran on a warm worker: none started
    } finally {
      await pool.close();
    }
    pool.warm(); // closed: starts nothing
    expect(await threads()).toBeLessThanOrEqual(before);
  });

  it('rejects options that cannot work', () => {
    expect(() => new FileWorkers({ threads: 0 })).toThrow(/threads/);
    expect(() => new FileWorkers({ segmentSize: 1 * MiB })).toThrow(/segmentSize/);
    expect(() => new FileWorkers({ chunking: { ...small, avgSize: 5000 } })).toThrow(/avgSize/);
  });
});
