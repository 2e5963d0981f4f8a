import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 's3', testTimeout: 60_000, hookTimeout: 60_000 },
});
