/**
 * One measured operation per process, so that its peak RSS is its own: reads an {@link OpSpec}
 * (JSON, first argument), performs it and prints one {@link OpOutcome} line. Exit code 1 and a
 * message on stderr when the operation fails.
 *
 * `node dist/bench/runner-child.js '{"op":"push","store":{"kind":"fs","root":"/tmp/s"},…}'`
 */
import { performance } from 'node:perf_hooks';
import { Checkpoints, StoreMetrics, withEvents } from '@ckpt/core';
import { keepYoungGenerationSmall } from '@ckpt/core/cli';
import { openStore } from './stores.js';
import type { OpOutcome, OpSpec } from './types.js';

async function engineOp(spec: Extract<OpSpec, { op: 'push' | 'pull' }>): Promise<OpOutcome> {
  keepYoungGenerationSmall(); // as the ckpt CLI does
  const metrics = new StoreMetrics({ reservoirSize: 1 });
  const store = await openStore(spec.store);
  const checkpoints = new Checkpoints(withEvents(store, metrics.listener), spec.engine);
  const start = performance.now();
  try {
    const result =
      spec.op === 'push'
        ? await checkpoints.push(spec.model, spec.dir)
        : await checkpoints.pull(
            spec.model,
            spec.dir,
            spec.generation ? { generation: spec.generation } : {},
          );
    const opMs = performance.now() - start;
    const { requests, errors, bytesIn, bytesOut } = metrics.snapshot();
    return {
      opMs,
      cpuUserMs: 0,
      cpuSystemMs: 0,
      maxRssBytes: 0,
      metrics: { requests, errors, bytesIn, bytesOut },
      result: { ...result },
    };
  } finally {
    await checkpoints.close();
    await store.close?.();
  }
}

async function rawOp(spec: Extract<OpSpec, { op: 'raw-put' | 'raw-get' }>): Promise<OpOutcome> {
  const { rawGet, rawPut } = await import('./sdk.js');
  const stats =
    spec.op === 'raw-put'
      ? await rawPut(spec.server, spec.bucket, spec.key, spec.dir)
      : await rawGet(spec.server, spec.bucket, spec.key);
  const sent = spec.op === 'raw-put' ? stats.bytes : 0;
  return {
    opMs: stats.ms,
    cpuUserMs: 0,
    cpuSystemMs: 0,
    maxRssBytes: 0,
    metrics: { requests: stats.requests, errors: 0, bytesIn: stats.bytes - sent, bytesOut: sent },
    result: { ...stats },
  };
}

/** Performs `spec` and returns its outcome (the child's own peak RSS and the operation's CPU time included). */
export async function runOp(spec: OpSpec): Promise<OpOutcome> {
  const cpu = process.cpuUsage();
  const outcome = spec.op === 'push' || spec.op === 'pull' ? await engineOp(spec) : await rawOp(spec);
  const { user, system } = process.cpuUsage(cpu);
  outcome.cpuUserMs = user / 1000;
  outcome.cpuSystemMs = system / 1000;
  outcome.maxRssBytes = process.resourceUsage().maxRSS * 1024;
  return outcome;
}

const entry = process.argv[1] ?? '';
if (entry.endsWith('runner-child.js')) {
  try {
    const outcome = await runOp(JSON.parse(process.argv[2] ?? '') as OpSpec);
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
  } catch (error) {
    process.stderr.write(`runner-child: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
