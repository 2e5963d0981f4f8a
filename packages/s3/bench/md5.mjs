// Main-thread cost of Content-MD5, inline (before: `contentMd5` on the calling thread) vs the worker
// pool (after): the CPU time of the main thread, which is what the HTTP requests compete with (from
// /proc/self/task/<pid>/stat, 10 ms ticks; elsewhere the event loop's active time). Uses the build:
// `pnpm build` first.
//
//   node packages/s3/bench/md5.mjs [MiB=1024] [partMiB=8]  # parts, 4 in flight (like a multipart put)
//   node packages/s3/bench/md5.mjs sizes                   # per-call cost by size (the inline threshold)
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Md5Pool } from '../dist/md5-pool.js';
import { contentMd5 } from '../dist/wire.js';

const MiB = 1024 * 1024;

/** Main-thread CPU ms so far (utime + stime of the task whose id is the pid), or event-loop active ms. */
function mainThreadMs() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return performance.eventLoopUtilization().active;
  }
}

/** Runs `jobs` digests of `body` with `inFlight` outstanding; main-thread ms, wall ms, process CPU ms. */
async function run(digest, body, jobs, inFlight) {
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadMs();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < jobs) await digest(body);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { main: mainThreadMs() - main0, wall: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000 };
}

async function throughput(totalMiB, partMiB) {
  const body = randomBytes(partMiB * MiB);
  const jobs = Math.round(totalMiB / partMiB);
  const perGiB = 1024 / (jobs * partMiB);
  const pool = new Md5Pool({ inlineBelow: 0 });
  if ((await pool.digest(body)) !== createHash('md5').update(body).digest('base64'))
    throw new Error('bad MD5');
  console.log(`${jobs} × ${partMiB} MiB, ${pool.threads} worker(s); per GiB:`);
  for (const [name, digest] of [
    ['inline (before)', async (b) => contentMd5(b)],
    ['pool (after)', (b) => pool.digest(b)],
  ]) {
    const r = await run(digest, body, jobs, 4);
    const f = (ms) => `${(ms * perGiB).toFixed(0).padStart(5)} ms`;
    console.log(`  ${name.padEnd(16)} main thread ${f(r.main)}  wall ${f(r.wall)}  process CPU ${f(r.cpu)}`);
  }
  await pool.close();
}

async function sizes() {
  const pool = new Md5Pool({ inlineBelow: 0 });
  await pool.digest(new Uint8Array(MiB)); // start the worker
  console.log('size      inline µs/call   pool main-thread µs/call   pool latency µs/call');
  for (const kib of [16, 64, 128, 256, 512, 1024, 4096]) {
    const body = randomBytes(kib * 1024);
    const jobs = Math.max(20, Math.round((256 * 1024) / kib));
    const inline = await run(async (b) => contentMd5(b), body, jobs, 1);
    const pooled = await run((b) => pool.digest(b), body, jobs, 1);
    const us = (ms) => ((ms * 1000) / jobs).toFixed(0).padStart(8);
    console.log(
      `${`${kib} KiB`.padEnd(9)} ${us(inline.wall)}         ${us(pooled.main)}                   ${us(pooled.wall)}`,
    );
  }
  await pool.close();
}

if (process.argv[2] === 'sizes') await sizes();
else await throughput(Number(process.argv[2] ?? 1024), Number(process.argv[3] ?? 8));
