import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { backend as azureBackend } from '@ckpt/azure';
import { ckptConfigJsonSchema, redactConfig } from '@ckpt/core/cli';
import { backend as fsBackend } from '@ckpt/fs';
import { backend as gcsBackend } from '@ckpt/gcs';
import { backend as s3Backend } from '@ckpt/s3';
import { expect, test } from 'vitest';

// The JSON Schema @ckpt/core publishes is assembled here, where the bundled backends are.
const committed = createRequire(import.meta.url).resolve('@ckpt/core/schema.json');
const schema = () => ckptConfigJsonSchema([fsBackend, s3Backend, gcsBackend, azureBackend]);

test('@ckpt/core/schema.json is up to date (else: build, then pnpm --filter @ckpt/cli gen:schema)', async () => {
  // compared as data: the file's layout is biome's, not JSON.stringify's
  expect(JSON.parse(await readFile(committed, 'utf8'))).toEqual(schema());
});

test('the JSON Schema keeps what editors rely on', () => {
  const json = schema() as {
    $schema: string;
    required: string[];
    additionalProperties: boolean;
    properties: { store: { anyOf: unknown[] } };
  };
  expect(json.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  expect(json.required).toEqual(['store']);
  expect(json.additionalProperties).toBe(false);
  const text = JSON.stringify(json.properties.store);
  for (const type of ['fs', 's3', 'gcs', 'azure']) expect(text).toContain(`"const":"${type}"`);
  // any other type (a custom backend) is left to its backend, when the store is opened
  expect(text).toContain('"pattern":"^(?!(?:azure|fs|gcs|s3)$)[a-z][a-z0-9_-]*$"');
});

test('the writeOnly fields of the JSON Schema are exactly the ones redactConfig hides', () => {
  const secret = new Set<string>();
  const plain = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const { properties } = node as { properties?: Record<string, { writeOnly?: boolean }> };
    for (const [name, field] of Object.entries(properties ?? {}))
      (field.writeOnly ? secret : plain).add(name);
    Object.values(node).forEach(walk);
  };
  walk(schema());
  expect([...secret].sort()).toEqual([
    'connectionString',
    'credentials',
    'private_key',
    'sasToken',
    'secretAccessKey',
    'sessionToken',
  ]);
  const hidden = redactConfig(Object.fromEntries([...secret, ...plain].map((name) => [name, 'value'])));
  expect(
    Object.keys(hidden)
      .filter((name) => hidden[name] === '<redacted>')
      .sort(),
  ).toEqual([...secret].sort());
});
