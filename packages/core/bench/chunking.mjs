#!/usr/bin/env node
// Micro-benchmark of the chunking layer (not a test). Build first: npx turbo run build --filter=@ckpt/core
//
//   node packages/core/bench/chunking.mjs cpu     single-thread gear hash and chunkBuffer, per avgSize
//   node packages/core/bench/chunking.mjs dedup   stored bytes vs truly new bytes on a synthetic next version
//   node packages/core/bench/chunking.mjs pool    FileWorkers on a 1 GiB file in the temp dir (deleted after)
//   node packages/core/bench/chunking.mjs rss     peak RSS while the pool chunks a 2 GiB file (deleted after)
//
// Options: --size-mib N (dedup image size, default 512), --seed N.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../dist/layers/random.js';
import { cutPoint } from '../dist/sync/chunking/cdc.js';
import { WasmGear } from '../dist/sync/chunking/gear-wasm.js';
import { chunkBuffer, chunkParams, DEFAULT_CHUNKING, FileWorkers } from '../dist/sync/chunking/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const mode = args[0] && !args[0].startsWith('--') ? args[0] : 'cpu';
const seed = flag('seed', 1);
const AVGS = [64, 128, 256, 512].map((k) => k * KiB);
const optionsFor = (avgSize) => ({
  minSize: avgSize / 4,
  avgSize,
  maxSize: avgSize * 4,
  zeroRunMin: DEFAULT_CHUNKING.zeroRunMin,
});
const gbps = (bytes, ms) => (bytes / ms / 1e6).toFixed(2);
/** Wall and CPU time (all threads of the process) of `fn`, in ms. */
async function timed(fn) {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

/** Deterministic bytes from (seed, stream): AES-128-CTR keystream, ~GB/s. */
function seeded(length, stream) {
  const key = createHash('sha256').update(`bench:${seed}:${stream}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(length)));
}

/** A seeded generator for decisions, one stream per purpose. */
function rng(stream) {
  return mulberry32(createHash('sha256').update(`rng:${seed}:${stream}`).digest().readUInt32LE(0));
}
const logUniform = (r, lo, hi) => Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo)));
const pages = (bytes) => Math.max(1, Math.round(bytes / 4096)) * 4096;
const geometric = (r, mean) => Math.max(1, Math.ceil(Math.log(1 - r()) / Math.log(1 - 1 / mean)));

/**
 * A pages image like the workload note's: page-aligned regions (log-uniform 16 KiB … 1/16 of the
 * image), 45 % zero, 35 % random, 15 % pages from a 256-page dictionary, 5 % text-like.
 */
function makeImage(size) {
  const r = rng('image');
  const out = new Uint8Array(size);
  const dictionary = seeded(256 * 4096, 'dictionary');
  const words = 'the of model cache tensor weight page kernel layer token vllm cuda block '.split(' ');
  let at = 0;
  let stream = 0;
  while (at < size) {
    const length = Math.min(size - at, pages(logUniform(r, 16 * KiB, size / 16)));
    const kind = r();
    if (kind < 0.45) {
      // zero: already zero
    } else if (kind < 0.8) out.set(seeded(length, `data${stream++}`), at);
    else if (kind < 0.95) {
      for (let p = 0; p < length; p += 4096) {
        const d = Math.floor(r() * 256) * 4096;
        out.set(dictionary.subarray(d, d + 4096), at + p);
      }
    } else {
      const text = Buffer.from(
        Array.from({ length: length / 4 }, () => words[Math.floor(r() * words.length)]).join(' '),
      );
      out.set(text.subarray(0, length), at);
    }
    at += length;
  }
  return out;
}

const isZeroPage = (buf, at) => buf.subarray(at, at + 4096).every((b) => b === 0);

/**
 * The next version, as the workload note describes it: 5 % of data pages rewritten in clustered
 * runs (geometric, mean 64 pages), 2 % of zero pages become data, 1 % of data pages become zero,
 * then 1 deleted and 3 inserted page-aligned regions (log-uniform 4 KiB … 1/32 of the image).
 */
function mutate(base, { rewrite = 0.05, shifts = true } = {}) {
  const r = rng('mutate');
  const next = Uint8Array.from(base);
  const n = next.length / 4096;
  const dataPages = [];
  const zeroPages = [];
  for (let p = 0; p < n; p++) (isZeroPage(next, p * 4096) ? zeroPages : dataPages).push(p);
  let stream = 0;
  const runs = (list, fraction, mean, apply) => {
    let done = 0;
    while (done < list.length * fraction) {
      const start = list[Math.floor(r() * list.length)];
      const length = Math.min(geometric(r, mean), n - start);
      apply(start * 4096, length * 4096);
      done += length;
    }
  };
  runs(dataPages, rewrite, 64, (at, len) => next.set(seeded(len, `rewrite${stream++}`), at));
  runs(zeroPages, 0.02, 16, (at, len) => next.set(seeded(len, `fill${stream++}`), at));
  runs(dataPages, 0.01, 16, (at, len) => next.fill(0, at, at + len));
  if (!shifts) return next;
  let out = next;
  const splice = (remove, insert) => {
    const at = Math.floor(r() * (out.length / 4096)) * 4096;
    out = new Uint8Array(Buffer.concat([out.subarray(0, at), insert, out.subarray(at + remove)]));
  };
  const maxShift = next.length / 32;
  splice(pages(logUniform(r, 4 * KiB, maxShift)), new Uint8Array(0));
  for (let i = 0; i < 3; i++) splice(0, seeded(pages(logUniform(r, 4 * KiB, maxShift)), `insert${i}`));
  return out;
}

/** Bytes of 4 KiB pages of `next` (page-aligned) that occur nowhere in `base`: the oracle. */
function trulyNew(base, next) {
  const seen = new Set();
  for (let at = 0; at + 4096 <= base.length; at += 4096) {
    seen.add(
      createHash('sha1')
        .update(base.subarray(at, at + 4096))
        .digest('base64'),
    );
  }
  let bytes = 0;
  for (let at = 0; at < next.length; at += 4096) {
    const page = next.subarray(at, Math.min(at + 4096, next.length));
    if (!seen.has(createHash('sha1').update(page).digest('base64'))) bytes += page.length;
  }
  return bytes;
}

/** Bytes of distinct data chunks of `next` not among `base`'s chunks: what a push would store. */
function storedBytes(base, next, options) {
  const known = new Set(chunkBuffer(base, options).map((c) => c.hash));
  const fresh = new Map();
  const chunks = chunkBuffer(next, options);
  for (const c of chunks) if (c.hash !== null && !known.has(c.hash)) fresh.set(c.hash, c.length);
  let bytes = 0;
  for (const length of fresh.values()) bytes += length;
  return { bytes, chunks };
}

function table(rows) {
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => `| ${cells.map((v, i) => String(v).padStart(width[i])).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}

async function benchCpu() {
  const size = 512 * MiB;
  const buf = seeded(size, 'cpu');
  console.log(
    `single thread, ${size / MiB} MiB of random bytes in memory; best of 3; GB/s per wall / per CPU second`,
  );
  const rows = [];
  for (const avg of AVGS) {
    const options = optionsFor(avg);
    const p = chunkParams(options);
    const gear = [];
    const wasm = [];
    const full = [];
    const wasmGear = new WasmGear();
    let count = 0;
    for (let rep = 0; rep < 3; rep++) {
      gear.push(
        await timed(() => {
          count = 0;
          for (let pos = 0; pos < size; count++) pos = cutPoint(buf, pos, size, p);
        }),
      );
      wasm.push(
        await timed(() => {
          wasmGear.begin(buf);
          for (let pos = 0; pos < size; ) pos = wasmGear.cutPoint(buf, pos, size, p, size);
        }),
      );
      full.push(await timed(() => chunkBuffer(buf, options)));
    }
    const best = (runs) => runs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const g = best(gear);
    const w = best(wasm);
    const f = best(full);
    rows.push({
      avgSize: `${avg / KiB} KiB`,
      'mean chunk': `${(size / count / KiB).toFixed(0)} KiB`,
      'gear GB/s': `${gbps(size, g.ms)} / ${gbps(size, g.cpuMs)}`,
      'gear.wasm GB/s': `${gbps(size, w.ms)} / ${gbps(size, w.cpuMs)}`,
      'gear+sha256 GB/s': `${gbps(size, f.ms)} / ${gbps(size, f.cpuMs)}`,
      'chunks/s': Math.round((count / f.ms) * 1000),
    });
  }
  table(rows);
  const zeros = new Uint8Array(size);
  const z = await timed(() => chunkBuffer(zeros));
  console.log(`all-zero ${size / MiB} MiB: ${gbps(size, z.ms)} / ${gbps(size, z.cpuMs)} GB/s`);
}

function benchDedup() {
  const size = flag('size-mib', 512) * MiB;
  const t0 = performance.now();
  const base = makeImage(size);
  const variants = [
    ['rewrites only', mutate(base, { shifts: false })],
    ['rewrites + 1 delete + 3 inserts', mutate(base)],
  ];
  let zeroBytes = 0;
  for (let at = 0; at < size; at += 4096) if (isZeroPage(base, at)) zeroBytes += 4096;
  console.log(
    `image ${size / MiB} MiB (${((zeroBytes / size) * 100).toFixed(0)} % zero pages), built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const [name, next] of variants) {
    const oracle = trulyNew(base, next);
    console.log(
      `\n${name}: next version ${(next.length / MiB).toFixed(0)} MiB, truly new ${(oracle / MiB).toFixed(1)} MiB`,
    );
    const rows = [];
    for (const avg of AVGS) {
      for (const zeroRunMin of avg <= 128 * KiB
        ? [16 * KiB, 64 * KiB, 256 * KiB]
        : [DEFAULT_CHUNKING.zeroRunMin]) {
        const options = { ...optionsFor(avg), zeroRunMin };
        const { bytes, chunks } = storedBytes(base, next, options);
        const data = chunks.filter((c) => c.hash !== null);
        rows.push({
          avgSize: `${avg / KiB} KiB`,
          zeroRunMin: `${zeroRunMin / KiB} KiB`,
          'data chunks': data.length,
          'mean chunk': `${(data.reduce((s, c) => s + c.length, 0) / data.length / KiB).toFixed(0)} KiB`,
          'stored MiB': (bytes / MiB).toFixed(1),
          'stored / new': (bytes / oracle).toFixed(2),
        });
      }
    }
    table(rows);
  }
}

/** Writes `size` bytes of the given kind to a temp file, 64 MiB at a time; returns its path. */
function writeTempFile(size, kind, piece = 64 * MiB) {
  const path = join(tmpdir(), `ckpt-chunking-bench-${process.pid}-${kind}.img`);
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < size; at += piece) {
      const part = kind === 'random' ? seeded(piece, `file${at}`) : makeImage(piece);
      writeSync(fd, part);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Drops the file's pages from the page cache (GNU dd's nocache), so the next read is cold. */
function dropCache(path) {
  try {
    execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
    return true;
  } catch {
    return false;
  }
}

async function runPool(path, threads, withData, cold) {
  const pool = new FileWorkers({ threads });
  if (cold) dropCache(path);
  let bytes = 0;
  let chunks = 0;
  const { ms, cpuMs } = await timed(async () => {
    for await (const batch of pool.chunkFile(path, { withData })) {
      for (const c of batch) {
        bytes += c.length;
        chunks++;
      }
    }
  });
  const { stats } = pool;
  await pool.close();
  return { ms, cpuMs, bytes, chunks, stats };
}

async function benchPool() {
  for (const kind of ['random', 'workload-like']) {
    const path = writeTempFile(GiB, kind);
    try {
      const ref = await timed(() => chunkBuffer(readFileSync(path)));
      console.log(
        `\n1 GiB ${kind} file: readFileSync + chunkBuffer (1 thread) ${gbps(GiB, ref.ms)} GB/s wall, ${gbps(GiB, ref.cpuMs)} per CPU s, ${ref.value.length} extents`,
      );
      const rows = [];
      for (const threads of [1, 2]) {
        for (const withData of [false, true]) {
          for (const cold of [false, true]) {
            const r = await runPool(path, threads, withData, cold);
            rows.push({
              threads,
              withData,
              cache: cold ? 'cold' : 'warm',
              s: (r.ms / 1000).toFixed(2),
              'GB/s': gbps(r.bytes, r.ms),
              'GB/CPU-s': gbps(r.bytes, r.cpuMs),
              'chunks/s': Math.round((r.chunks / r.ms) * 1000),
              rescans: r.stats.rescans,
              'read / size': (r.stats.bytesRead / GiB).toFixed(3),
            });
          }
        }
      }
      table(rows);
    } finally {
      rmSync(path, { force: true });
    }
  }
}

async function benchRss() {
  // written by a child process, so that this process's RSS is the chunking's alone
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'write', String(2 * GiB)]);
  const path = out.toString().trim();
  try {
    for (const withData of [false, true]) {
      const before = process.memoryUsage().rss;
      let peak = before;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      const r = await runPool(path, 2, withData, false);
      clearInterval(timer);
      console.log(
        `2 GiB random file, 2 threads, withData ${withData}, readAhead 32 MiB (default): ${gbps(r.bytes, r.ms)} GB/s; ` +
          `RSS before ${(before / MiB).toFixed(0)} MiB, peak while chunking ${(peak / MiB).toFixed(0)} MiB`,
      );
    }
    const hwm = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)?.[1];
    console.log(`process VmHWM ${(Number(hwm) / 1024).toFixed(0)} MiB`);
  } finally {
    rmSync(path, { force: true });
  }
}

function writeOnly() {
  console.log(writeTempFile(Number(args[1]), 'random', 8 * MiB));
}

const modes = { cpu: benchCpu, dedup: benchDedup, pool: benchPool, rss: benchRss, write: writeOnly };
if (!modes[mode]) {
  console.error(`unknown mode ${mode}: use ${Object.keys(modes).join(' | ')}`);
  process.exit(2);
}
await modes[mode]();
