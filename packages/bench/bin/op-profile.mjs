#!/usr/bin/env node
// One push or pull on a filesystem store, measured from inside the process: time, CPU (user and
// sys, all threads), peak RSS, and the highest size of each V8 heap space and of buffer memory,
// sampled every 20 ms. For A/B runs of one engine change (`ROOT` another checkout's build):
//
//   node packages/bench/bin/op-profile.mjs push <store dir> <checkpoint dir>
//   ROOT=/tmp/base node packages/bench/bin/op-profile.mjs pull <store dir> <new dir>
//   ENGINE='{"packSize":4194304}' node packages/bench/bin/op-profile.mjs push <store dir> <checkpoint dir>
//
// The benchmark (`pnpm bench`) measures the whole process tree from outside; this is for quick
// same-window comparisons. Build first: npx turbo run build --filter=@ckpt/bench...
import { getHeapSpaceStatistics } from 'node:v8';

const [op, store, dir] = process.argv.slice(2);
if (!['push', 'pull'].includes(op) || !store || !dir) {
  process.stderr.write('usage: op-profile.mjs push|pull <store dir> <dir>\n');
  process.exit(2);
}
const root = process.env.ROOT ?? new URL('../../..', import.meta.url).pathname;
const { runOp } = await import(`${root}/packages/bench/dist/bench/runner-child.js`);

const MiB = 2 ** 20;
const peak = {};
const sample = () => {
  const m = process.memoryUsage();
  const now = { rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
  for (const s of getHeapSpaceStatistics()) now[s.space_name.replace('_space', '')] = s.space_size;
  for (const [k, v] of Object.entries(now)) peak[k] = Math.max(peak[k] ?? 0, v);
};
const timer = setInterval(sample, 20);
const engine = JSON.parse(process.env.ENGINE ?? '{}'); // Checkpoints options
const spec = { op, store: { kind: 'fs', root: store }, model: 'm', dir, engine };
const outcome = await runOp(spec);
clearInterval(timer);
sample();
const mib = (n) => `${Math.round(n / MiB)}`;
console.log(
  `${op} ${Math.round(outcome.opMs)} ms, CPU user ${(outcome.cpuUserMs / 1000).toFixed(2)} s sys ${(outcome.cpuSystemMs / 1000).toFixed(2)} s, peak RSS ${mib(outcome.maxRssBytes)} MiB`,
);
console.log(
  `sampled peaks (MiB): ${Object.entries(peak)
    .filter(([, v]) => v >= MiB)
    .map(([k, v]) => `${k} ${mib(v)}`)
    .join(', ')}`,
);
