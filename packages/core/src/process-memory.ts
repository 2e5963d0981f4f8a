import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

const FLAG = '--semi-space-growth-factor=1';
/**
 * V8 resets the flag whenever a worker thread starts: set it again, often enough that a main
 * thread allocating fast meanwhile (a pull creating thousands of files) cannot double the young
 * generation first; a call costs microseconds.
 */
const REAPPLY_MS = 10;
/**
 * The reset comes while a new worker thread sets itself up, before it is `online` (setting the
 * flag again right after `new Worker()` is too early): until then it is set every millisecond.
 */
const STARTING_MS = 1;
let reapplying = false;

const apply = () => setFlagsFromString(FLAG);

/**
 * Stops V8's young generation from growing past its current size (a few MiB instead of up to
 * 32 MiB). The engine keeps file data in buffers outside the JavaScript heap, so a large young
 * generation buys it nothing but resident memory (docs/benchmarks.md). It is process-wide: the `ckpt` CLI calls it
 * first thing; an application that embeds ckpt decides for itself (`node --max-semi-space-size=1`
 * has the same effect from startup). Because starting a worker thread resets the setting, it is
 * applied again every 10 ms (an unreferenced timer) until the process ends, and every millisecond
 * while a worker thread that ckpt starts sets itself up (see {@link workerThreadStarted}).
 */
export function keepYoungGenerationSmall(): void {
  apply();
  if (reapplying) return;
  reapplying = true;
  setInterval(apply, REAPPLY_MS).unref();
}

/**
 * Call right after starting a worker thread (ckpt's own pools do, and so should an adapter that
 * starts some): once {@link keepYoungGenerationSmall} is in force, the flag is set again every
 * millisecond until the thread is online, which covers the moment the thread resets it.
 */
export function workerThreadStarted(worker: Worker): void {
  if (!reapplying) return;
  const timer = setInterval(apply, STARTING_MS).unref();
  const done = () => {
    apply();
    clearInterval(timer);
  };
  worker.once('online', done);
  worker.once('exit', done);
}
