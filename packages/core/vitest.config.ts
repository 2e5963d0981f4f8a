import { defineConfig } from 'vitest/config';

// projects do not inherit the root's timeouts: some tests move hundreds of MiB, slow on a busy machine
export default defineConfig({ test: { name: '@ckpt/core', testTimeout: 60_000, hookTimeout: 60_000 } });
