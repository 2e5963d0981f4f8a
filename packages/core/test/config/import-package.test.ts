import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { useTempDir } from '@ckpt/test-utils';
import { describe, expect, test } from 'vitest';
import { importPackage } from '../../src/config/import-package.js';

const tempDir = useTempDir('ckpt-config-');

/** Writes a package `name` into `<dir>/node_modules` whose `where` export is `where`. */
async function fakePackage(dir: string, name: string, where: string): Promise<void> {
  const root = path.join(dir, 'node_modules', ...name.split('/'));
  await mkdir(root, { recursive: true });
  await writeFile(
    path.join(root, 'package.json'),
    JSON.stringify({ name, type: 'module', exports: './index.mjs' }),
  );
  await writeFile(path.join(root, 'index.mjs'), `export const where = ${JSON.stringify(where)};`);
}

/**
 * `<dir>/app/bin/tool.mjs` beside `<dir>/app/node_modules`, run through the symlink
 * `<dir>/bin/tool` (as a global install links a command), and a working directory `<dir>/cwd`.
 */
async function layout(name: string) {
  const dir = await tempDir();
  const app = path.join(dir, 'app');
  const cwd = path.join(dir, 'cwd');
  await mkdir(path.join(app, 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'bin'));
  await mkdir(cwd);
  const script = path.join(app, 'bin', 'tool.mjs');
  await writeFile(script, '');
  const link = path.join(dir, 'bin', 'tool');
  await symlink(script, link);
  await fakePackage(app, name, 'main script');
  await fakePackage(cwd, name, 'cwd');
  return { app, cwd, link };
}

describe('importPackage looks in core, then beside the main script, then in cwd', () => {
  test("core's own dependencies win over the main script's and cwd's", async () => {
    // p-limit is a dependency of core: the copies beside the script and in cwd are not used
    const { cwd, link } = await layout('p-limit');
    const mod = await importPackage('p-limit', cwd, link);
    expect(mod?.where).toBeUndefined();
    expect(typeof mod?.default).toBe('function');
  });

  test("the main script's package, found through the symlink it was run by, wins over cwd's", async () => {
    const { cwd, link } = await layout('@ckpt-test/order-a');
    expect((await importPackage('@ckpt-test/order-a', cwd, link))?.where).toBe('main script');
  });

  test('a main script given as its folder is looked up from that folder', async () => {
    const { app, cwd } = await layout('@ckpt-test/order-b');
    expect((await importPackage('@ckpt-test/order-b', cwd, app))?.where).toBe('main script');
  });

  test('cwd is the last place; no main script (node -e) skips that step', async () => {
    const { cwd } = await layout('@ckpt-test/order-c');
    expect((await importPackage('@ckpt-test/order-c', cwd, undefined))?.where).toBe('cwd');
    const missing = path.join(cwd, 'no-such-script.mjs');
    expect((await importPackage('@ckpt-test/order-c', cwd, missing))?.where).toBe('cwd');
  });

  test('a package found nowhere is undefined', async () => {
    const { cwd, link } = await layout('@ckpt-test/order-d');
    expect(await importPackage('@ckpt-test/nowhere', cwd, link)).toBeUndefined();
  });
});
