#!/usr/bin/env node
// What `ls` of many models costs, without pushing them: puts <models> × <generations> manifest
// stubs (1 KiB and a `ckpt-lead` metadata value, as MinIO lists real manifests no faster) and a
// summary key for each model's latest straight into a new store (MinIO or fs; the stubs are never
// read while summary keys exist), then times `Checkpoints.list()` <runs> times in this process.
// Prints one line per run. Generations without summary keys need real manifests: `pnpm bench
// --fleet --scenarios d` measures that path.
//
//   node packages/bench/bin/ls-cost.mjs [s3|fs] [models] [generations] [runs]
//
// Build first: npx turbo run build.
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const [backend = 's3', modelsArg = '1000', generationsArg = '10', runsArg = '5'] = process.argv.slice(2);
const here = new URL('../../..', import.meta.url).pathname;
const dist = (pkg, file = 'index.js') => import(path.join(here, 'packages', pkg, 'dist', file));
const { Checkpoints } = await dist('core');
const { summaryKey } = await dist('core', 'sync/summary-keys.js');
const [models, generations, runs] = [modelsArg, generationsArg, runsArg].map(Number);

let store;
let minio;
if (backend === 's3') {
  const { startMinio } = await dist('test-servers');
  const { S3Store } = await dist('s3');
  minio = await startMinio();
  store = new S3Store({ ...minio.storeOptions(), bucket: await minio.createBucket() });
} else {
  const { FsStore } = await dist('fs');
  store = new FsStore({ root: mkdtempSync(path.join(tmpdir(), 'ckpt-ls-cost-')) });
}

const STUB = Buffer.alloc(1024, ' ');
const LEAD = `512:${'0'.repeat(64)}`;
const puts = [];
for (let m = 0; m < models; m++)
  for (let g = 0; g < generations; g++) {
    const generation = `20261207T${String(g).padStart(9, '0')}Z-${m.toString(16).padStart(8, '0')}`;
    const info = {
      model: `family/model-${m}`,
      generation,
      createdAt: new Date(),
      files: 3,
      bytes: 40_000,
      storedBytes: 40_000,
      addedBytes: 32_768,
      labels: {},
      legacy: false,
    };
    puts.push([`ckpt/models/${info.model}/${generation}.json`, STUB, { 'ckpt-lead': LEAD }]);
    if (g === generations - 1) puts.push([summaryKey(info), Buffer.alloc(0)]);
  }
for (let i = 0; i < puts.length; i += 32)
  await Promise.all(
    puts
      .slice(i, i + 32)
      .map(([key, body, metadata]) =>
        store.put(key, body, { size: body.length, ...(metadata && { metadata }) }),
      ),
  );
console.log(`${backend}: ${models} models x ${generations} generations, ${puts.length} keys`);

for (let r = 0; r < runs; r++) {
  const checkpoints = new Checkpoints(store);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const listed = await checkpoints.list();
  const wall = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  await checkpoints.close();
  console.log(
    `ls: ${listed.length} models, wall ${wall.toFixed(0)} ms, CPU ${((user + system) / 1000).toFixed(0)} ms, load ${loadavg()[0].toFixed(1)}`,
  );
}
await store.close?.();
await minio?.stop();
