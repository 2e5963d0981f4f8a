import { defineConfig } from 'vitest/config';

// projects do not inherit the root's timeouts: the workload tests write hundreds of MiB
export default defineConfig({ test: { name: '@ckpt/bench', testTimeout: 60_000 } });
