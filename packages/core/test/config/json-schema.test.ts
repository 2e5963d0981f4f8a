import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';
import { ckptConfigJsonSchema } from '../../src/config/index.js';

const committed = new URL('../../schema/ckpt.config.schema.json', import.meta.url);

test('schema/ckpt.config.schema.json is up to date (else: build core, then pnpm run gen:schema)', async () => {
  // compared as data: the file's layout is biome's, not JSON.stringify's
  expect(JSON.parse(await readFile(committed, 'utf8'))).toEqual(ckptConfigJsonSchema());
});

test('the JSON Schema keeps what editors rely on', () => {
  const schema = ckptConfigJsonSchema() as {
    $schema: string;
    required: string[];
    additionalProperties: boolean;
    properties: { store: { anyOf: unknown[] } };
  };
  expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  expect(schema.required).toEqual(['store']);
  expect(schema.additionalProperties).toBe(false);
  const text = JSON.stringify(schema.properties.store);
  for (const type of ['fs', 's3', 'gcs', 'azure']) expect(text).toContain(`"const":"${type}"`);
  expect(text).toContain('"pattern":"^(?!(?:fs|s3|gcs|azure)$)[a-z][a-z0-9_-]*$"');
});
