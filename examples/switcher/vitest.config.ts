import { defineConfig } from 'vitest/config';

// each test generates, pushes and pulls a few 24 MiB checkpoints on a shared 2-core machine
export default defineConfig({ test: { name: 'switcher', testTimeout: 120_000 } });
