import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '@ckpt/core';
import { BackendRegistry, readAll } from '@ckpt/core/backend';
import { describe, expect, it } from 'vitest';
import { backend, FsBackend, type FsConfig } from '../src/index.js';
import { tempRoot } from './helpers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('fs backend definition', () => {
  it('parses file URLs and opens an FsBackend on the root', async () => {
    expect(backend.type).toBe('fs');
    expect(backend.schemes).toEqual(['file']);
    expect(backend.fromUrl?.(new URL('file:///var/lib/ckpt'))).toEqual({ type: 'fs', root: '/var/lib/ckpt' });
    const config = backend.schema.parse({ type: 'fs', root: '/var/lib/ckpt' });
    const opened = await backend.open(config);
    expect(opened).toBeInstanceOf(FsBackend);
    expect(opened.name).toBe('file:///var/lib/ckpt');
    expect(() => backend.schema.parse({ type: 'fs', root: '/x', bucket: 'typo' })).toThrow();
  });

  it('openStore opens file URLs, bare and relative paths through the registered backend', async () => {
    const root = await tempRoot();
    const registry = new BackendRegistry({ builtins: {} });
    registry.register(backend);
    const store = await openStore(`file://${root}`, { registry });
    await store.put('a/b', Buffer.from('via openStore'));
    // a variable, not a literal: openStore's parameter type is `{ type: string }`
    const config: FsConfig = { type: 'fs', root: path.basename(root) };
    const relative = await openStore(config, { registry, cwd: path.dirname(root) });
    expect(relative.name).toBe(`file://${root}`);
    expect((await readAll((await relative.get('a/b')).body)).toString()).toBe('via openStore');
  });

  it('openStore imports @ckpt/fs on first use of a file URL and registers its backend', async () => {
    const root = await tempRoot();
    const registry = new BackendRegistry({ builtins: { fs: { package: '@ckpt/fs', schemes: ['file'] } } });
    const store = await openStore(root, { registry, cwd: packageDir });
    expect(store.name).toBe(`file://${root}`);
    expect(registry.get('fs')?.type).toBe('fs');
  });
});
