import { defineConfig } from 'vitest/config';

// five emulated workflow runs of two jobs each, with 64 MiB checkpoints, on a shared 2-core machine
export default defineConfig({ test: { name: 'ci', testTimeout: 300_000 } });
