import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  BackendRegistry,
  ckptConfigJsonSchema,
  ckptConfigSchema,
  parseDuration,
  redactConfig,
  registerBackend,
  secret,
  text,
  validateStoreConfig,
} from '../../src/config/index.js';
import { storeErrorOf } from './helpers.js';
import { fakeFsBackend, memoryBackend, memorySchema, testRegistry } from './memory-backend.js';

const validate = (config: unknown, registry = testRegistry()) =>
  validateStoreConfig(config, { cwd: '/srv/app', registry });

describe('store configs are validated by their backend', () => {
  test('a registered backend validates its configs; its resolvePaths makes paths absolute', async () => {
    expect(await validate({ type: 'memory', name: 'm', maxKeys: 2 })).toEqual({
      type: 'memory',
      name: 'm',
      maxKeys: 2,
    });
    expect(await validate({ type: 'fs', root: '/var/lib/ckpt' })).toEqual({
      type: 'fs',
      root: '/var/lib/ckpt',
    });
    expect(await validate({ type: 'fs', root: 'data/store' })).toEqual({
      type: 'fs',
      root: '/srv/app/data/store',
    });
  });

  test.each([
    [{ type: 'fs', root: '' }, 'store.root', 'config store.root: expected a non-empty string'],
    [{ type: 'memory', nam: 'x' }, 'store', 'config store: unknown key "nam" (did you mean "name"?)'],
    [
      { type: 'S3', bucket: 'b' },
      'store.type',
      'config store.type: expected "fs", "s3", "gcs", "azure" or the name of a custom backend (lower-case letters, digits, "-", "_")',
    ],
    [
      { bucket: 'b' },
      'store.type',
      'config store.type: expected "fs", "s3", "gcs", "azure" or the name of a custom backend (lower-case letters, digits, "-", "_")',
    ],
    [
      { type: 'minio', bucket: 'b' },
      'store.type',
      'config store.type: unknown backend "minio"; known: azure, fs, gcs, memory, s3 (register a custom backend first, e.g. with a module listed under "modules" in ckpt.config.json)',
    ],
    ['s3://bucket', 'store', 'config store: expected a store config object with a "type"'],
  ])('one readable line per invalid config: %j', async (config, key, message) => {
    const err = await storeErrorOf(() => validate(config));
    expect(err.code).toBe('InvalidArgument');
    expect(err.key).toBe(key);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain('\n');
  });

  test('a built-in type whose package is not installed is Unsupported, naming the package', async () => {
    // every built-in adapter is in this repository: a registry whose gcs package does not exist
    const registry = new BackendRegistry({
      builtins: { gcs: { package: '@ckpt-test/no-such-gcs', schemes: ['gs'] } },
    });
    for (const [config, type, pkg] of [
      [{ type: 'gcs', bucket: 'b' }, 'gcs', '@ckpt-test/no-such-gcs'],
    ] as const) {
      const err = await storeErrorOf(() => validate(config, registry));
      expect(err.code).toBe('Unsupported');
      expect(err.message).toBe(`the ${type} backend needs the package ${pkg}: npm i ${pkg}`);
    }
  });
});

describe('secrets', () => {
  const SECRET = 'wJalrXUtnFEMI-SECRETVALUE';

  test('are never repeated in validation errors', async () => {
    const registry = testRegistry();
    registry.register({
      ...memoryBackend,
      type: 'vault',
      schemes: [],
      schema: z.strictObject({
        type: z.literal('vault'),
        token: secret(text(), 'A token.'),
        size: z.number(),
      }),
    });
    for (const config of [
      { type: 'vault', token: 5 },
      { type: 'vault', token: SECRET, extra: SECRET },
      { type: 'vault', token: SECRET, size: SECRET },
    ]) {
      const err = await storeErrorOf(() => validate(config, registry));
      expect(err.message).not.toContain(SECRET);
    }
  });

  test('redactConfig hides every field named like a secret, at any depth, and nothing else', () => {
    const config = {
      type: 's3',
      bucket: 'ckpt',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIA', secretAccessKey: SECRET },
    };
    expect(redactConfig(config)).toEqual({
      type: 's3',
      bucket: 'ckpt',
      region: 'eu-west-1',
      credentials: '<redacted>',
    });
    expect(redactConfig({ type: 'azure', container: 'c', connectionString: SECRET })).toEqual({
      type: 'azure',
      container: 'c',
      connectionString: '<redacted>',
    });
    expect(
      redactConfig({ type: 'custom', nested: [{ apiKey: SECRET, sasToken: SECRET, url: 'x' }] }),
    ).toEqual({
      type: 'custom',
      nested: [{ apiKey: '<redacted>', sasToken: '<redacted>', url: 'x' }],
    });
    expect(config.credentials.secretAccessKey).toBe(SECRET);
  });
});

describe('the config file schema', () => {
  test('accepts a URL or a config object of any type; its backend checks the fields', () => {
    for (const store of [
      's3://ckpt/prod',
      { type: 'fs', root: '.' },
      { type: 's3', buckt: 'x' },
      { type: 'memory', anything: [1, 2] },
    ]) {
      expect(ckptConfigSchema.safeParse({ store }).success).toBe(true);
    }
    const full = {
      $schema: './node_modules/@ckpt/core/schema/ckpt.config.schema.json',
      store: { type: 'gcs', bucket: 'b' },
      modules: ['./backend.js', '@acme/ckpt-backend'],
      sync: { concurrency: 8, grace: '1h30m' },
    };
    expect(ckptConfigSchema.parse(full)).toEqual(full);
  });

  test('rejects a store that is neither a URL nor an object with a valid type', () => {
    for (const store of ['', 42, { bucket: 'b' }, { type: 'S3' }])
      expect(ckptConfigSchema.safeParse({ store }).success).toBe(false);
  });
});

describe('the JSON Schema is assembled from backend definitions', () => {
  type Json = { properties: { store: { anyOf: unknown[]; description: string } } };

  test('their schemas check configs of their types; any other type is left to its backend', () => {
    const json = ckptConfigJsonSchema([memoryBackend, fakeFsBackend]) as Json;
    expect(json.properties.store.anyOf).toHaveLength(4);
    const text = JSON.stringify(json.properties.store);
    for (const type of ['fs', 'memory']) expect(text).toContain(`"const":"${type}"`);
    expect(text).toContain('"pattern":"^(?!(?:fs|memory)$)[a-z][a-z0-9_-]*$"');
    expect(json.properties.store.description).toBe(
      'The object store: a URL (file:, mem:, a path, …) or a config object.',
    );
  });

  test('by default, from the backends registered in the process-wide registry', () => {
    const before = JSON.stringify(ckptConfigJsonSchema());
    expect(before).not.toContain('"const":"jsonschema-test"');
    registerBackend({
      ...memoryBackend,
      type: 'jsonschema-test',
      schemes: [],
      schema: memorySchema.extend({ type: z.literal('jsonschema-test') }),
    });
    expect(JSON.stringify(ckptConfigJsonSchema())).toContain('"const":"jsonschema-test"');
  });
});

test('parseDuration', () => {
  expect(parseDuration('6h')).toBe(6 * 3_600_000);
  expect(parseDuration('1h30m')).toBe(5_400_000);
  expect(parseDuration('1d')).toBe(86_400_000);
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('10s')).toBe(10_000);
  for (const bad of ['', '6', 'h', '6 h', '1.5h', '-1h', '6hours'])
    expect(parseDuration(bad)).toBeUndefined();
});
