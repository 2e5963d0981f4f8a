// Regenerates schema/ckpt.config.schema.json from the built package (`pnpm run gen:schema` after a
// build), formatted by the repository's biome. test/config/json-schema.test.ts fails while the
// committed file is out of date.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ckptConfigJsonSchema } from '../dist/index.js';

const out = fileURLToPath(new URL('../schema/ckpt.config.schema.json', import.meta.url));
await writeFile(out, `${JSON.stringify(ckptConfigJsonSchema(), null, 2)}\n`);
try {
  const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
  execFileSync(process.execPath, [biome, 'format', '--write', out], { stdio: 'ignore' });
} catch {
  // biome is a dev tool of the repository; without it the file stays JSON.stringify-formatted
}
console.log(`wrote ${out}`);
