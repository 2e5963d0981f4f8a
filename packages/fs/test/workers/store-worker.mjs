// A child process for the multi-process tests: runs one FsStore workload against the BUILT package
// and prints a JSON result. Usage: node store-worker.mjs <mode> <root> <startAt> <id> [count]
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '@ckpt/core';
import { FsStore } from '../../dist/index.js';

const [mode, root, startAt, id, count = '0'] = process.argv.slice(2);
const store = new FsStore({ root });
await sleep(Math.max(0, Number(startAt) - Date.now())); // line all workers up on one instant

async function text(key) {
  const { body, version } = await store.get(key);
  const chunks = [];
  for await (const chunk of body) chunks.push(chunk);
  return { value: Buffer.concat(chunks).toString(), version };
}

if (mode === 'create') {
  // every worker tries to create the same keys; report the ones it won
  const won = [];
  for (let i = 0; i < Number(count); i++) {
    try {
      await store.put(`race/${i}`, Buffer.from(id), { mode: 'create' });
      won.push(i);
    } catch (err) {
      if (!StoreError.is(err, 'AlreadyExists')) throw err;
    }
  }
  console.log(JSON.stringify({ won }));
} else if (mode === 'cas') {
  // increment a shared counter `count` times with compare-and-swap; lost updates would show
  let conflicts = 0;
  for (let done = 0; done < Number(count); ) {
    const { value, version } = await text('counter');
    try {
      await store.put('counter', Buffer.from(String(Number(value) + 1)), { mode: { update: version } });
      done++;
    } catch (err) {
      if (!StoreError.is(err, 'PreconditionFailed')) throw err;
      conflicts++;
    }
  }
  console.log(JSON.stringify({ conflicts }));
} else if (mode === 'crash') {
  // stream forever; the parent kills us mid-write
  let sent = 0;
  async function* forever() {
    for (;;) {
      yield Buffer.alloc(64 * 1024, 0xcc);
      sent += 64 * 1024;
      if (sent === 1024 * 1024) console.log(JSON.stringify({ writing: true }));
      await sleep(1);
    }
  }
  await store.put('victim', forever());
} else {
  throw new Error(`unknown mode ${mode}`);
}
