import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTempDir } from '@ckpt/test-utils';
import { describe, expect, test } from 'vitest';
import { BackendRegistry, loadConfigFile, openStore, resolveStoreConfig } from '../../src/config/index.js';
import { storeErrorOf } from './helpers.js';
import { testRegistry } from './memory-backend.js';

const tempDir = useTempDir('ckpt-config-');

/** Writes `content` (JSON unless a string) to `<dir>/<name>` and returns the path. */
async function put(dir: string, name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

describe('loadConfigFile', () => {
  test('returns the validated content', async () => {
    const content = {
      $schema: './node_modules/@ckpt/core/schema/ckpt.config.schema.json',
      store: { type: 's3', bucket: 'ckpt', prefix: 'prod' },
      sync: { concurrency: 4, grace: '6h' },
    };
    const file = await put(await tempDir(), 'ckpt.config.json', `\uFEFF${JSON.stringify(content)}`);
    expect(await loadConfigFile(file)).toEqual(content);
  });

  test('a missing file is NotFound', async () => {
    const file = path.join(await tempDir(), 'ckpt.config.json');
    const err = await storeErrorOf(() => loadConfigFile(file));
    expect(err.code).toBe('NotFound');
    expect(err.message).toBe(`config ${file}: cannot read the config file (ENOENT)`);
  });

  test.each([
    [
      '{\n  "store": "s3://b",\n  "sync": { "grace": "6h", }\n}',
      'line 3, column 28: expected a double-quoted property name',
    ],
    ['{\n  "store": "s3://b"\n  "sync": {}\n}', 'line 3, column 3: expected "," or "}"'],
    ['{ "store": \'s3://b\' }', 'line 1, column 12: expected a value'],
    ['{ "store": "s3://b" ', 'line 1, column 21: expected "," or "}"'],
    ['{ "store": "s3://b\n" }', 'line 1, column 19: control character in string'],
    ['{ "store": "a\\q" }', 'line 1, column 14: invalid escape in string'],
    ['{ "store": "x" } x', 'line 1, column 18: unexpected text after the end'],
    ['', 'line 1, column 1: unexpected end of file'],
  ])('a JSON syntax error names the file, line and column: %j', async (text, where) => {
    const file = await put(await tempDir(), 'ckpt.config.json', text);
    const err = await storeErrorOf(() => loadConfigFile(file));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(`config ${file}: invalid JSON at ${where}`);
  });

  test('a JSON syntax error never repeats the text around it', async () => {
    const file = await put(
      await tempDir(),
      'ckpt.config.json',
      '{"store": {"type": "s3", "bucket": "b", "credentials": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": wJalrXUtnFEMI}}}',
    );
    const err = await storeErrorOf(() => loadConfigFile(file));
    expect(err.message).toBe(`config ${file}: invalid JSON at line 1, column 106: expected a value`);
  });

  test.each([
    [{ stor: 's3://b' }, undefined, 'unknown key "stor" (did you mean "store"?)'],
    [{}, 'store', 'expected a store URL such as "s3://bucket/prefix" or an object with a "type"'],
    [{ store: 42 }, 'store', 'expected a store URL such as "s3://bucket/prefix" or an object with a "type"'],
    [
      { store: { type: 'GCS', bucket: 'b' } },
      'store.type',
      'expected "fs", "s3", "gcs", "azure" or the name of a custom backend (lower-case letters, digits, "-", "_")',
    ],
    [
      { store: 's3://b', sync: { grace: '6 hours' } },
      'sync.grace',
      'expected a duration such as "30s", "6h" or "1h30m"',
    ],
    [{ store: 's3://b', sync: { concurrency: 0 } }, 'sync.concurrency', 'expected an integer from 1 to 1024'],
    [{ store: 's3://b', modules: ['./a.js', ''] }, 'modules[1]', 'expected a non-empty string'],
    [{ store: 's3://b', modules: './a.js' }, 'modules', 'expected a list of module names or paths'],
  ])('a schema error is one line naming the field and the file: %j', async (content, key, detail) => {
    const file = await put(await tempDir(), 'ckpt.config.json', content);
    const err = await storeErrorOf(() => loadConfigFile(file));
    expect(err.code).toBe('InvalidArgument');
    expect(err.key).toBe(key);
    expect(err.message).toBe(`config${key ? ` ${key}` : ''}: ${detail} (in ${file})`);
  });
});

describe('resolveStoreConfig precedence', () => {
  const config = { store: { type: 'memory', name: 'from-config' } };
  // the built-in backends' packages are not core's to import: a stand-in serves `fs`
  const resolve = (options: Parameters<typeof resolveStoreConfig>[0]) =>
    resolveStoreConfig({ registry: testRegistry(), ...options });

  test('--store wins over CKPT_STORE and the config file', async () => {
    const cwd = await tempDir();
    const configFile = await put(cwd, 'ckpt.config.json', config);
    const resolved = await resolve({
      url: 'mem://from-flag',
      env: { CKPT_STORE: 'mem://from-env' },
      cwd,
    });
    expect(resolved).toEqual({
      store: { type: 'memory', name: 'from-flag' },
      source: 'flag',
      configFile,
      config,
    });
  });

  test('CKPT_STORE wins over the config file', async () => {
    const cwd = await tempDir();
    await put(cwd, 'ckpt.config.json', config);
    const resolved = await resolve({ env: { CKPT_STORE: 'mem://from-env?maxKeys=3' }, cwd });
    expect(resolved.source).toBe('env');
    expect(resolved.store).toEqual({ type: 'memory', name: 'from-env', maxKeys: 3 });
  });

  test('an empty CKPT_STORE is ignored', async () => {
    const cwd = await tempDir();
    await put(cwd, 'ckpt.config.json', config);
    const resolved = await resolve({ env: { CKPT_STORE: ' ' }, cwd });
    expect(resolved.source).toBe('config');
    expect(resolved.store).toEqual(config.store);
  });

  test('paths in --store and CKPT_STORE resolve against cwd', async () => {
    const cwd = await tempDir();
    expect((await resolve({ url: 'file:data', env: {}, cwd })).store).toEqual({
      type: 'fs',
      root: path.join(cwd, 'data'),
    });
    expect((await resolve({ env: { CKPT_STORE: './env-data' }, cwd })).store).toEqual({
      type: 'fs',
      root: path.join(cwd, 'env-data'),
    });
  });

  test('an explicit config file; its paths resolve against its folder', async () => {
    const cwd = await tempDir();
    await put(cwd, 'ckpt.config.json', config);
    const other = await put(cwd, 'conf/other.json', { store: { type: 'fs', root: '../store' } });
    const resolved = await resolve({ configPath: 'conf/other.json', env: {}, cwd });
    expect(resolved.source).toBe('config');
    expect(resolved.configFile).toBe(other);
    expect(resolved.store).toEqual({ type: 'fs', root: path.join(cwd, 'store') });
    const url = await put(cwd, 'conf/url.json', { store: './here' });
    expect((await resolve({ configPath: url, env: {}, cwd })).store).toEqual({
      type: 'fs',
      root: path.join(cwd, 'conf', 'here'),
    });
  });

  test('an explicit config file that does not exist is an error', async () => {
    const cwd = await tempDir();
    const err = await storeErrorOf(() => resolveStoreConfig({ configPath: 'missing.json', env: {}, cwd }));
    expect(err.code).toBe('NotFound');
    expect(err.key).toBe(path.join(cwd, 'missing.json'));
  });

  test('nothing given: the embedded default, the local folder ./.ckpt-store', async () => {
    const cwd = await tempDir();
    expect(await resolve({ env: {}, cwd })).toEqual({
      store: { type: 'fs', root: path.join(cwd, '.ckpt-store') },
      source: 'default',
    });
  });

  test('errors say where the bad store came from', async () => {
    const cwd = await tempDir();
    const file = await put(cwd, 'ckpt.config.json', { store: 'mem://b?colour=red' });
    const fromEnv = await storeErrorOf(() => resolve({ env: { CKPT_STORE: 'mem://?maxKeys=2' }, cwd }));
    expect(fromEnv.message).toBe('store URL name: expected a non-empty string (from CKPT_STORE)');
    expect(fromEnv.key).toBe('name');
    const fromFlag = await storeErrorOf(() => resolve({ url: 'ftp://x', env: {}, cwd }));
    expect(fromFlag.message).toBe(
      'store URL: unknown scheme "ftp:"; known: az:, file:, gs:, mem:, s3: or a path (from --store)',
    );
    const fromFile = await storeErrorOf(() => resolve({ env: {}, cwd }));
    expect(fromFile.message).toBe(
      `store URL: unknown query parameter "colour"; allowed: maxKeys (in ${file})`,
    );
    const badField = await put(cwd, 'bad-field.json', { store: { type: 'memory', name: '' } });
    const field = await storeErrorOf(() => resolve({ configPath: badField, env: {}, cwd }));
    expect(field.key).toBe('store.name');
    expect(field.message).toBe(`config store.name: expected a non-empty string (in ${badField})`);
    const unknownType = await put(cwd, 'custom.json', { store: { type: 'redis', host: 'x' } });
    const custom = await storeErrorOf(() => resolve({ configPath: unknownType, env: {}, cwd }));
    expect(custom.message).toMatch(
      /^config store\.type: unknown backend "redis"; known: azure, fs, gcs, memory, s3 .*\(in /,
    );
  });

  test('a built-in backend whose package is not installed is Unsupported, naming where it came from', async () => {
    // every built-in adapter is in this repository: a registry whose gcs package does not exist
    const registry = new BackendRegistry({
      builtins: { gcs: { package: '@ckpt-test/no-such-gcs', schemes: ['gs'] } },
    });
    const cwd = await tempDir();
    const file = await put(cwd, 'ckpt.config.json', { store: { type: 'gcs', bucket: 'b' } });
    const fromFile = await storeErrorOf(() => resolveStoreConfig({ registry, env: {}, cwd }));
    expect(fromFile.code).toBe('Unsupported');
    expect(fromFile.message).toBe(
      `the gcs backend needs the package @ckpt-test/no-such-gcs: npm i @ckpt-test/no-such-gcs (in ${file})`,
    );
    const fromEnv = await storeErrorOf(() =>
      resolveStoreConfig({ registry, env: { CKPT_STORE: 'gs://b/p' }, cwd }),
    );
    expect(fromEnv.message).toBe(
      'the gcs backend needs the package @ckpt-test/no-such-gcs: npm i @ckpt-test/no-such-gcs (from CKPT_STORE)',
    );
  });

  test("only the store that wins is validated: a config file's unused store is not", async () => {
    const cwd = await tempDir();
    await put(cwd, 'ckpt.config.json', { store: { type: 'azure', container: '' } });
    expect((await resolve({ url: 'mem://x', env: {}, cwd })).store).toEqual({ type: 'memory', name: 'x' });
  });
});

describe('modules listed in the config file register custom backends', () => {
  const memoryModule = fileURLToPath(new URL('./memory-backend.ts', import.meta.url));

  test('a module path: its backend opens by URL scheme from CKPT_STORE', async () => {
    const cwd = await tempDir();
    const registry = new BackendRegistry();
    await put(cwd, 'ckpt.config.json', { store: { type: 'memory', name: 'cfg' }, modules: [memoryModule] });
    const fromConfig = await resolveStoreConfig({ env: {}, cwd, registry });
    expect(fromConfig.store).toEqual({ type: 'memory', name: 'cfg' });
    const fromEnv = await resolveStoreConfig({
      env: { CKPT_STORE: 'mem://scratch?maxKeys=5' },
      cwd,
      registry,
    });
    expect(fromEnv).toMatchObject({ source: 'env', store: { type: 'memory', name: 'scratch', maxKeys: 5 } });
    const store = await openStore(fromEnv.store, { cwd, registry });
    expect(store.name).toBe('mem://scratch');
  });

  test('the custom backend validates its own fields', async () => {
    const cwd = await tempDir();
    const file = await put(cwd, 'ckpt.config.json', {
      store: { type: 'memory', nme: 'x' },
      modules: [memoryModule],
    });
    const err = await storeErrorOf(() =>
      resolveStoreConfig({ env: {}, cwd, registry: new BackendRegistry() }),
    );
    expect(err.message).toBe(`config store: unknown key "nme" (did you mean "name"?) (in ${file})`);
  });

  test('a package name resolves from the config file folder; `backends` lists are registered', async () => {
    const cwd = await tempDir();
    const pkg = path.join(cwd, 'node_modules', 'ckpt-test-backends');
    await put(pkg, 'package.json', { name: 'ckpt-test-backends', type: 'module', exports: './index.mjs' });
    await put(
      pkg,
      'index.mjs',
      `const schema = { safeParse: (value) => ({ success: true, data: value }) };
export const backends = ['one', 'two'].map((type) => ({
  type, schema, schemes: [type], fromUrl: (url) => ({ type, host: url.hostname }), open: (c) => ({ name: type + ':' + c.host }),
}));`,
    );
    await put(cwd, 'ckpt.config.json', { store: 'two://h', modules: ['ckpt-test-backends'] });
    const registry = new BackendRegistry();
    const resolved = await resolveStoreConfig({ env: {}, cwd, registry });
    expect(resolved.store).toEqual({ type: 'two', host: 'h' });
    expect(registry.get('one')?.type).toBe('one');
    expect((await openStore('one://x', { registry })).name).toBe('one:x');
  });

  test('a module that cannot be imported names the entry and the file', async () => {
    const cwd = await tempDir();
    const file = await put(cwd, 'ckpt.config.json', { store: 's3://b', modules: ['./nope.mjs'] });
    const err = await storeErrorOf(() => resolveStoreConfig({ url: 's3://b', env: {}, cwd }));
    expect(err.code).toBe('InvalidArgument');
    expect(err.key).toBe('modules[0]');
    expect(err.message).toMatch(/^config modules\[0\]: cannot import "\.\/nope\.mjs": .*\(in /);
    expect(err.message.endsWith(`(in ${file})`)).toBe(true);
  });
});
