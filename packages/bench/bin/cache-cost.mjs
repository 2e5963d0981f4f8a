#!/usr/bin/env node
// What filling the host's chunk cache costs a push and a pull: each run pushes <checkpoint dir> to
// a new store (new state directory, new cache) and pulls it into a new directory (another new
// state directory and cache: the pull fills it), without and with the cache, each operation in a
// runner child of its own (wall and CPU of the operation, all threads). Checkouts in ROOTS
// (comma-separated, default this one) alternate within each run, for A/B comparisons of one
// change. Prints one line of JSON per operation, then a table of medians (min-max).
//
//   node packages/bench/bin/cache-cost.mjs <checkpoint dir> <work dir> [runs] [fs,s3]
//   ROOTS=/tmp/base,/work/wt node packages/bench/bin/cache-cost.mjs /tmp/w /tmp/cost 3 fs,s3
//
// Nothing is deleted until the end: on some filesystems (ext4 without a journal) creating files
// right after deleting many costs several times more. Build first: npx turbo run build.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';

const [dir, work, runsArg = '3', storesArg = 'fs'] = process.argv.slice(2);
if (!dir || !work) {
  process.stderr.write('usage: cache-cost.mjs <checkpoint dir> <work dir> [runs] [fs,s3]\n');
  process.exit(2);
}
const here = new URL('../../..', import.meta.url).pathname;
const roots = (process.env.ROOTS ?? here).split(',').map((r) => path.resolve(r));
const stores = storesArg.split(',');
const load = () => loadavg()[0].toFixed(1);

let minio;
if (stores.includes('s3')) {
  const { startMinio } = await import(`${here}/packages/test-servers/dist/index.js`);
  minio = await startMinio({ directory: path.join(work, 'minio') });
}

const entries = (cache) => {
  let n = 0;
  for (const fan of readdirSync(path.join(cache, 'sha256'), { withFileTypes: true }).filter((d) =>
    d.isDirectory(),
  ))
    n += readdirSync(path.join(cache, 'sha256', fan.name)).length;
  return n;
};

function op(root, spec) {
  const child = path.join(root, 'packages/bench/dist/bench/runner-child.js');
  const out = execFileSync(process.execPath, [child, JSON.stringify(spec)], { encoding: 'utf8' });
  const o = JSON.parse(out);
  return { wall: o.opMs / 1000, cpu: (o.cpuUserMs + o.cpuSystemMs) / 1000, sys: o.cpuSystemMs / 1000 };
}

const rows = [];
let serial = 0;
const loadStart = load();
for (let run = 0; run < Number(runsArg); run++)
  for (const kind of stores)
    for (const cached of [false, true])
      for (const [r, root] of roots.entries()) {
        const n = path.join(work, `${++serial}`);
        const store =
          kind === 'fs'
            ? { kind: 'fs', root: path.join(n, 'store') }
            : {
                kind: 's3',
                bucket: await minio.createBucket(`cost-${serial}`),
                endpoint: minio.endpoint,
                credentials: minio.credentials,
              };
        const engine = (i) => ({
          stateDir: path.join(n, `state${i}`),
          ...(cached ? { cache: { dir: path.join(n, `cache${i}`) } } : {}),
        });
        const before = load();
        const push = op(root, { op: 'push', store, model: 'm', dir, engine: engine(1) });
        const pushed = cached ? entries(path.join(n, 'cache1')) : undefined;
        const pull = op(root, { op: 'pull', store, model: 'm', dir: path.join(n, 'out'), engine: engine(2) });
        const row = { run, store: kind, root: r, cached, push, pushed, pull, load: [before, load()] };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
const loadEnd = load();
await minio?.stop();
rmSync(work, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const cell = (xs) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
console.log(
  `\nload average (1 min) ${loadStart} at the start, ${loadEnd} at the end; medians (min–max) of ${runsArg} runs`,
);
console.log(
  '| store | checkout | cache | push wall s | push CPU s | push sys s | entries after push | pull wall s | pull CPU s | pull sys s |',
);
console.log('|---|---|---|--:|--:|--:|--:|--:|--:|--:|');
for (const kind of stores)
  for (const cached of [false, true])
    for (const [r, root] of roots.entries()) {
      const mine = rows.filter((x) => x.store === kind && x.cached === cached && x.root === r);
      const pick = (f) => cell(mine.map(f));
      const pushed = cached ? `${median(mine.map((x) => x.pushed))}` : '–';
      console.log(
        `| ${kind} | ${path.basename(root)} | ${cached ? 'yes' : 'no'} | ${pick((x) => x.push.wall)} | ${pick((x) => x.push.cpu)} | ${pick((x) => x.push.sys)} | ${pushed} | ${pick((x) => x.pull.wall)} | ${pick((x) => x.pull.cpu)} | ${pick((x) => x.pull.sys)} |`,
      );
    }
