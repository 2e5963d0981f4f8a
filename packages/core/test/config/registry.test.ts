import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { useTempDir } from '@ckpt/test-utils';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { BackendStore } from '../../src/backend-store.js';
import { readAll } from '../../src/body.js';
import {
  BackendRegistry,
  defaultRegistry,
  openStore,
  registerBackend,
  validateStoreConfig,
} from '../../src/config/index.js';
import { MemoryBackend } from '../../src/memory-store.js';
import { ScriptedBackend, unavailable } from '../layers/helpers.js';
import { storeErrorOf } from './helpers.js';
import { memoryBackend, memorySchema } from './memory-backend.js';

describe('registering backends', () => {
  test('the built-ins are listed before their packages are imported', () => {
    expect(new BackendRegistry().list()).toEqual([
      { type: 'azure', schemes: ['az'], package: '@ckpt/azure', registered: false },
      { type: 'fs', schemes: ['file'], package: '@ckpt/fs', registered: false },
      { type: 'gcs', schemes: ['gs'], package: '@ckpt/gcs', registered: false },
      { type: 's3', schemes: ['s3'], package: '@ckpt/s3', registered: false },
    ]);
  });

  test('a custom backend is listed, found by type and owns its scheme', () => {
    const registry = new BackendRegistry();
    registry.register(memoryBackend);
    expect(registry.get('memory')).toBe(memoryBackend);
    expect(registry.list().find((b) => b.type === 'memory')).toEqual({
      type: 'memory',
      schemes: ['mem'],
      registered: true,
    });
    expect(registry.schemes()).toEqual(['az', 'file', 'gs', 'mem', 's3']);
    expect(registry.definitions()).toEqual([memoryBackend]);
  });

  test('the same definition twice is fine; another one needs {replace: true}', async () => {
    const registry = new BackendRegistry();
    registry.register(memoryBackend);
    registry.register(memoryBackend);
    const other = { ...memoryBackend };
    const err = await storeErrorOf(() => registry.register(other));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(
      'registerBackend memory: a different backend is already registered under this type; pass {replace: true} to replace it',
    );
    registry.register(other, { replace: true });
    expect(registry.get('memory')).toBe(other);
  });

  test.each([
    [
      { ...memoryBackend, type: 'Memory' },
      'registerBackend Memory: type must be lower-case letters, digits, "-" or "_", starting with a letter',
    ],
    [{ ...memoryBackend, schema: {} }, 'registerBackend memory: schema must be a zod schema'],
    [{ ...memoryBackend, open: undefined }, 'registerBackend memory: open must be a function'],
    [{ ...memoryBackend, resolvePaths: 'x' }, 'registerBackend memory: resolvePaths must be a function'],
    [
      { ...memoryBackend, schemes: ['mem:'] },
      'registerBackend memory: "mem:" is not a URL scheme (lower case, without ":")',
    ],
    [{ ...memoryBackend, fromUrl: undefined }, 'registerBackend memory: schemes need a fromUrl function'],
    [
      { ...memoryBackend, schemes: ['s3'] },
      'registerBackend memory: the URL scheme "s3:" belongs to the s3 backend',
    ],
  ])('rejects a bad definition: %#', async (def, message) => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed definitions
    const err = await storeErrorOf(() => new BackendRegistry().register(def as any));
    expect(err.message).toBe(message);
  });
});

test('the process-wide registry behind registerBackend, defaultRegistry and openStore', async () => {
  const def = {
    ...memoryBackend,
    type: 'scratch',
    schemes: ['scratch'],
    fromUrl: () => ({ type: 'scratch', name: 'x' }),
  };
  registerBackend({ ...def, schema: memorySchema.extend({ type: z.literal('scratch') }) });
  expect(defaultRegistry.get('scratch')?.schemes).toEqual(['scratch']);
  expect(defaultRegistry.list().map((b) => b.type)).toContain('scratch');
  expect((await openStore('scratch://anything')).name).toBe('mem://x');
});

describe('opening a custom backend', () => {
  const registry = new BackendRegistry();
  registry.register(memoryBackend);

  test('by its URL scheme', async () => {
    const store = await openStore('mem://scratch', { registry });
    expect(store).toBeInstanceOf(BackendStore);
    expect((store as BackendStore).backend).toBeInstanceOf(MemoryBackend);
    expect(store.name).toBe('mem://scratch');
    await store.put('a/b', new TextEncoder().encode('hello'));
    expect(Buffer.from(await readAll((await store.get('a/b')).body)).toString()).toBe('hello');
  });

  test('by a config object', async () => {
    const store = await openStore(
      { type: 'memory', name: 'cfg', maxKeys: 3 },
      {
        registry,
      },
    );
    expect(store.name).toBe('mem://cfg');
  });

  test('with the most requests it may run at once', async () => {
    const store = await openStore('mem://scratch', { registry, maxInFlight: 3 });
    expect(store.stats?.()).toEqual({ throttled: 0, inFlightLimit: 3 });
    await expect(openStore('mem://scratch', { registry, maxInFlight: 0 })).rejects.toMatchObject({
      code: 'InvalidArgument',
    });
  });

  test.each([
    [{ type: 'memory', name: '' }, 'config store.name: expected a non-empty string'],
    [{ type: 'memory', name: 'x', maxKeys: -1 }, 'config store.maxKeys: expected a number > 0'],
    [
      { type: 'memory', name: 'x', colour: 1 },
      'config store: unknown key "colour"; allowed keys: type, name, maxKeys',
    ],
    [{ type: 'memory', nam: 'x' }, 'config store: unknown key "nam" (did you mean "name"?)'],
  ])('its schema errors are readable: %j', async (config, message) => {
    const err = await storeErrorOf(() => openStore(config, { registry }));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(message);
  });

  test.each([
    ['mem://x?maxKeys=none', 'store URL maxKeys: expected a number'],
    ['mem://x?colour=red', 'store URL: unknown query parameter "colour"; allowed: maxKeys'],
    ['mem://?maxKeys=2', 'store URL name: expected a non-empty string'],
  ])('its URL errors are readable: %s', async (url, message) => {
    expect((await storeErrorOf(() => openStore(url, { registry }))).message).toBe(message);
  });

  test('an unregistered custom type names the known ones', async () => {
    const err = await storeErrorOf(() => openStore({ type: 'redis' }, { registry }));
    expect(err.message).toBe(
      'config store.type: unknown backend "redis"; known: azure, fs, gcs, memory, s3 (register a custom backend first, e.g. with a module listed under "modules" in ckpt.config.json)',
    );
  });

  test('the store retries as `retry` says', async () => {
    const backends: ScriptedBackend[] = [];
    const scripted = new BackendRegistry();
    scripted.register({
      ...memoryBackend,
      open: () => {
        const backend = new ScriptedBackend();
        backend.failNext('head', unavailable());
        backends.push(backend);
        return backend;
      },
    });
    const retrying = await openStore('mem://x', { registry: scripted, retry: { baseDelayMs: 0 } });
    await expect(retrying.head('a')).rejects.toMatchObject({ code: 'NotFound' });
    const once = await openStore('mem://x', { registry: scripted, retry: false });
    await expect(once.head('a')).rejects.toMatchObject({ code: 'Unavailable' });
    expect(backends.map((b) => b.calls.head)).toEqual([2, 1]);
  });

  test('a failure inside open becomes an Internal StoreError with the cause', async () => {
    const broken = new BackendRegistry();
    const cause = new Error('socket exploded');
    broken.register({ ...memoryBackend, open: () => Promise.reject(cause) });
    const err = await storeErrorOf(() => openStore('mem://x', { registry: broken }));
    expect(err.code).toBe('Internal');
    expect(err.message).toBe('openStore: the memory backend failed to open the store: socket exploded');
    expect(err.cause).toBe(cause);
  });
});

describe('lazy loading of built-in backends', () => {
  const tempDir = useTempDir('ckpt-config-');

  /** Writes a package `name` with `index.mjs` = `source` into `<dir>/node_modules`. */
  async function fakePackage(dir: string, name: string, source: string): Promise<void> {
    const root = path.join(dir, 'node_modules', ...name.split('/'));
    await mkdir(root, { recursive: true });
    await writeFile(
      path.join(root, 'package.json'),
      JSON.stringify({ name, type: 'module', exports: './index.mjs' }),
    );
    await writeFile(path.join(root, 'index.mjs'), source);
  }

  test('a missing package is a clear Unsupported error; the config needs it to be validated', async () => {
    const registry = new BackendRegistry({
      builtins: { s3: { package: '@ckpt-test/no-such-s3', schemes: ['s3'] } },
    });
    const cwd = await tempDir();
    for (const config of ['s3://ckpt/prod', 's3://ckpt?partSize=1', { type: 's3', bucket: 'b' }]) {
      const err = await storeErrorOf(() => openStore(config, { registry, cwd }));
      expect(err.code).toBe('Unsupported');
      expect(err.message).toBe(
        'the s3 backend needs the package @ckpt-test/no-such-s3: npm i @ckpt-test/no-such-s3',
      );
    }
    // what needs no package is checked first
    const noColon = await storeErrorOf(() => openStore('s3:/ckpt', { registry, cwd }));
    expect(noColon.message).toBe('store URL: "s3:" must be followed by "//": s3://…');
  });

  test('gcs: its package is not installed, and a registered adapter for the type works', async () => {
    const cwd = await tempDir();
    // every built-in adapter is in this repository: a registry whose gcs package does not exist
    const missing = () =>
      new BackendRegistry({ builtins: { gcs: { package: '@ckpt-test/no-such-gcs', schemes: ['gs'] } } });
    for (const [store, type, pkg] of [
      ['gs://ckpt/prod', 'gcs', '@ckpt-test/no-such-gcs'],
      [{ type: 'gcs', bucket: 'ckpt' }, 'gcs', '@ckpt-test/no-such-gcs'],
    ] as const) {
      const err = await storeErrorOf(() => openStore(store, { registry: missing(), cwd }));
      expect(err.code).toBe('Unsupported');
      expect(err.message).toBe(`the ${type} backend needs the package ${pkg}: npm i ${pkg}`);
    }
    // a team's own adapter for the type is used instead of the package
    const registry = new BackendRegistry();
    registry.register({
      ...memoryBackend,
      type: 'gcs',
      schema: memorySchema.extend({ type: z.literal('gcs') }),
      schemes: ['gs'],
      fromUrl: () => ({ type: 'gcs', name: 'x' }),
    });
    const store = await openStore('gs://ckpt/prod', { registry, cwd });
    expect(store.name).toBe('mem://x');
  });

  test('a package that core cannot see is found from cwd, imported once and registered', async () => {
    const dir = await tempDir();
    await fakePackage(
      dir,
      '@ckpt-test/fake-fs',
      `globalThis.ckptFakeFsImports = (globalThis.ckptFakeFsImports ?? 0) + 1;
export const backend = {
  type: 'fs',
  schemes: ['file'],
  fromUrl: (url) => ({ type: 'fs', root: url.pathname }),
  schema: { safeParse: (value) => ({ success: true, data: value }) },
  resolvePaths: (config, base) => ({ ...config, root: base + '/' + config.root }),
  open: (config) => ({ name: 'fake:' + config.root }),
};`,
    );
    const registry = new BackendRegistry({
      builtins: { fs: { package: '@ckpt-test/fake-fs', schemes: ['file'] } },
    });
    expect(registry.list()).toEqual([
      { type: 'fs', schemes: ['file'], package: '@ckpt-test/fake-fs', registered: false },
    ]);
    const [a, b, c] = await Promise.all([
      openStore({ type: 'fs', root: 'data' }, { registry, cwd: dir }),
      openStore('./other', { registry, cwd: dir }),
      validateStoreConfig({ type: 'fs', root: 'third' }, { registry, cwd: dir }),
    ]);
    expect(a.name).toBe(`fake:${path.join(dir, 'data')}`);
    expect(b.name).toBe(`fake:${path.join(dir, 'other')}`);
    expect(c).toEqual({ type: 'fs', root: path.join(dir, 'third') });
    expect((globalThis as { ckptFakeFsImports?: number }).ckptFakeFsImports).toBe(1);
    expect(registry.list().find((x) => x.type === 'fs')?.registered).toBe(true);
  });

  test('a package without a matching backend export is an Internal error', async () => {
    // p-limit is one of core's own dependencies, so it resolves from core's location
    const registry = new BackendRegistry({ builtins: { gcs: { package: 'p-limit', schemes: ['gs'] } } });
    const err = await storeErrorOf(() => openStore('gs://ckpt', { registry }));
    expect(err.code).toBe('Internal');
    expect(err.message).toBe('the package p-limit does not export the gcs backend as "backend"');
  });

  test("a package whose backend does not parse the table's scheme is an Internal error", async () => {
    const dir = await tempDir();
    await fakePackage(
      dir,
      '@ckpt-test/schemeless',
      `export const backend = { type: 'gcs', schema: { safeParse: (v) => ({ success: true, data: v }) }, open: () => ({}) };`,
    );
    const registry = new BackendRegistry({
      builtins: { gcs: { package: '@ckpt-test/schemeless', schemes: ['gs'] } },
    });
    const err = await storeErrorOf(() => openStore('gs://ckpt', { registry, cwd: dir }));
    expect(err.code).toBe('Internal');
    expect(err.message).toBe('the gcs backend does not parse "gs:" URLs');
  });

  test('a package that fails while loading reports why, and a later attempt retries', async () => {
    const dir = await tempDir();
    await fakePackage(
      dir,
      '@ckpt-test/broken-azure',
      `import 'ckpt-test-missing-sdk';\nexport const backend = {};`,
    );
    const registry = new BackendRegistry({
      builtins: { azure: { package: '@ckpt-test/broken-azure', schemes: ['az'] } },
    });
    const err = await storeErrorOf(() => openStore('az://ckpt', { registry, cwd: dir }));
    expect(err.code).toBe('Internal');
    expect(err.message).toMatch(
      /^the azure backend's package @ckpt-test\/broken-azure failed to load: Cannot find package 'ckpt-test-missing-sdk'/,
    );
    const again = await storeErrorOf(() => openStore('az://ckpt', { registry, cwd: dir }));
    expect(again.code).toBe('Internal');
  });
});
