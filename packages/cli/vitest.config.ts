import { defineConfig } from 'vitest/config';

// each test starts several `ckpt` processes: on a loaded machine that takes more than vitest's 5 s
export default defineConfig({ test: { name: 'cli', testTimeout: 60_000 } });
