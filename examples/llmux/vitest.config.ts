import { defineConfig } from 'vitest/config';

// the scenarios run many processes (ckpt, the workload generator) on a shared 2-core machine
export default defineConfig({ test: { name: 'llmux', testTimeout: 180_000 } });
