// Regenerates @ckpt/core's schema/ckpt.config.schema.json from the built packages (`pnpm run
// gen:schema` here after a build), formatted by the repository's biome: the JSON Schema of
// ckpt.config.json with the config schemas of the backends the CLI bundles. It lives in the CLI
// because core cannot import its adapters. test/config-schema.test.ts fails while the committed
// file is out of date.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { backend as azure } from '@ckpt/azure';
import { registerBackend } from '@ckpt/core';
import { ckptConfigJsonSchema } from '@ckpt/core/cli';
import { backend as fs } from '@ckpt/fs';
import { backend as gcs } from '@ckpt/gcs';
import { backend as s3 } from '@ckpt/s3';

registerBackend(fs);
registerBackend(s3);
registerBackend(azure);
registerBackend(gcs);
const require = createRequire(import.meta.url);
const out = require.resolve('@ckpt/core/schema.json');
await writeFile(out, `${JSON.stringify(ckptConfigJsonSchema(), null, 2)}\n`);
try {
  const biome = require.resolve('@biomejs/biome/bin/biome');
  execFileSync(process.execPath, [biome, 'format', '--write', out], { stdio: 'ignore' });
} catch {
  // biome is a dev tool of the repository; without it the file stays JSON.stringify-formatted
}
console.log(`wrote ${out}`);
