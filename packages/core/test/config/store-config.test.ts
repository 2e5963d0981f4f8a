import { describe, expect, test } from 'vitest';
import {
  BackendRegistry,
  ckptConfigJsonSchema,
  ckptConfigSchema,
  parseDuration,
  redactConfig,
  storeConfigSchema,
  validateStoreConfig,
} from '../../src/config/index.js';
import { storeErrorOf } from './helpers.js';

const validate = (config: unknown) =>
  validateStoreConfig(config, { cwd: '/srv/app', registry: new BackendRegistry() });

describe('valid built-in configs', () => {
  test.each([
    [{ type: 'fs', root: '/var/lib/ckpt' }],
    [{ type: 's3', bucket: 'ckpt' }],
    [
      {
        type: 's3',
        bucket: 'ckpt',
        prefix: 'prod/models',
        region: 'eu-west-1',
        endpoint: 'https://s3.example.com',
        forcePathStyle: true,
        checksums: 'when_supported',
        conditionalWrites: true,
        partSize: 64 * 1024 * 1024,
        concurrency: 8,
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret', sessionToken: 'token' },
      },
    ],
    [{ type: 'gcs', bucket: 'ckpt', prefix: 'p', projectId: 'proj', apiEndpoint: 'http://localhost:4443' }],
    [{ type: 'azure', container: 'ckpt', account: 'acct', endpoint: 'http://127.0.0.1:10000/acct' }],
    [{ type: 'azure', container: 'ckpt', connectionString: 'UseDevelopmentStorage=true' }],
  ])('%j', (config) => {
    expect(validate(config)).toEqual(config);
    expect(storeConfigSchema.parse(config)).toEqual(config);
  });

  test('a relative fs root resolves against cwd', () => {
    expect(validate({ type: 'fs', root: 'data/store' })).toEqual({ type: 'fs', root: '/srv/app/data/store' });
  });
});

describe('one readable line per invalid config', () => {
  test.each([
    [{ type: 's3' }, 'store.bucket', 'config store.bucket: expected a non-empty string'],
    [{ type: 's3', bucket: '' }, 'store.bucket', 'config store.bucket: expected a non-empty string'],
    [{ type: 's3', bucket: 7 }, 'store.bucket', 'config store.bucket: expected a non-empty string'],
    [{ type: 's3', buckt: 'ckpt' }, 'store', 'config store: unknown key "buckt" (did you mean "bucket"?)'],
    [
      { type: 'gcs', bucket: 'b', colour: 'red' },
      'store',
      'config store: unknown key "colour"; allowed keys: type, bucket, prefix, projectId, apiEndpoint',
    ],
    [
      { type: 's3', bucket: 'b', partSize: 6_000_000.5 },
      'store.partSize',
      'config store.partSize: expected an integer from 5242880 (5 MiB) to 5368709120 (5 GiB)',
    ],
    [
      { type: 's3', bucket: 'b', prefix: 'a//b' },
      'store.prefix',
      'config store.prefix: expected a key prefix such as "team/checkpoints" (key has an empty segment (// or a trailing /))',
    ],
    [{ type: 'fs', root: '' }, 'store.root', 'config store.root: expected a non-empty string'],
    [
      { type: 'azure', container: 'c', endpoint: 'not a url' },
      'store.endpoint',
      'config store.endpoint: expected an http:// or https:// URL',
    ],
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
      'config store.type: unknown backend "minio"; known: azure, fs, gcs, s3 (register a custom backend first, e.g. with a module listed under "modules" in ckpt.config.json)',
    ],
    ['s3://bucket', 'store', 'config store: expected a store config object with a "type"'],
  ])('%j', async (config, key, message) => {
    const err = await storeErrorOf(() => validate(config));
    expect(err.code).toBe('InvalidArgument');
    expect(err.key).toBe(key);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain('\n');
  });

  test('the built-in union names the known types for an unknown one', () => {
    const result = storeConfigSchema.safeParse({ type: 'gcp', bucket: 'b' });
    expect(result.success).toBe(false);
  });
});

describe('secrets', () => {
  const SECRET = 'wJalrXUtnFEMI-SECRETVALUE';

  test('are never repeated in validation errors', async () => {
    const configs = [
      {
        type: 's3',
        bucket: 'b',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 5, sessionToken: SECRET },
      },
      {
        type: 's3',
        bucket: 'b',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET, extra: SECRET },
      },
      { type: 's3', bucket: 'b', credentials: SECRET },
      { type: 'azure', container: 'c', connectionString: '' },
      { type: 'azure', container: 'c', connectionString: `AccountKey=${SECRET}`, partSize: 1 },
      { type: 'azure', container: 5, connectionString: `AccountKey=${SECRET}` },
    ];
    for (const config of configs) {
      const err = await storeErrorOf(() => validate(config));
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain('AKIAEXAMPLE');
    }
  });

  test('a secret field name in a path keeps the message readable', async () => {
    const err = await storeErrorOf(() =>
      validate({ type: 's3', bucket: 'b', credentials: { accessKeyId: 'AKIA', secretAccessKey: '' } }),
    );
    expect(err.message).toBe('config store.credentials["secretAccessKey"]: expected a non-empty string');
  });

  test('redactConfig hides every field the schemas mark writeOnly, and nothing else', () => {
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
    walk(ckptConfigJsonSchema());
    expect([...secret].sort()).toEqual([
      'connectionString',
      'credentials',
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
});

describe('the config file schema', () => {
  test('accepts a URL, a built-in config or a custom backend config as store', () => {
    for (const store of ['s3://ckpt/prod', { type: 'fs', root: '.' }, { type: 'memory', anything: [1, 2] }]) {
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

  test('rejects a built-in config with a typo, which a custom backend must not swallow', () => {
    expect(ckptConfigSchema.safeParse({ store: { type: 's3', buckt: 'x' } }).success).toBe(false);
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
