import { describe, expect, it } from 'vitest';
import { readAll } from '../src/body.js';
import { MemoryStore } from '../src/memory-store.js';
import { PrefixedStore } from '../src/prefixed-store.js';

async function keysOf(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const keys: string[] = [];
  for await (const meta of iterable) keys.push(meta.key);
  return keys;
}

async function setup() {
  const inner = new MemoryStore('mem://bucket');
  for (const key of [
    'teams/vision/a',
    'teams/vision/b/c',
    'teams/vision2/x',
    'teams/visio',
    'teams/vision',
    'other',
  ]) {
    await inner.put(key, Buffer.from(key));
  }
  return { inner, team: new PrefixedStore(inner, 'teams/vision') };
}

describe('PrefixedStore', () => {
  it('stores under the prefix and reports keys relative to it', async () => {
    const { inner, team } = await setup();
    const put = await team.put('new/file', Buffer.from('hello'));
    expect(put.size).toBe(5);
    expect((await inner.head('teams/vision/new/file')).version).toBe(put.version);
    const got = await team.get('new/file');
    expect(got.key).toBe('new/file');
    expect((await readAll(got.body)).toString()).toBe('hello');
    expect(await team.head('a')).toMatchObject({ key: 'a', size: 'teams/vision/a'.length });
  });

  it('lists only its own keys, relative, in order, never the siblings', async () => {
    const { team } = await setup();
    expect(await keysOf(team.list())).toEqual(['a', 'b/c']);
    expect(await keysOf(team.list('b/'))).toEqual(['b/c']);
    expect(await keysOf(team.list('/b'))).toEqual(['b/c']);
    expect(await keysOf(team.list('zz'))).toEqual([]);
  });

  it('honours startAfter relative to the prefix', async () => {
    const { team } = await setup();
    await team.put('b/d', Buffer.from('x'));
    expect(await keysOf(team.list('', { startAfter: 'a' }))).toEqual(['b/c', 'b/d']);
    expect(await keysOf(team.list('', { startAfter: 'b/c' }))).toEqual(['b/d']);
    expect(await keysOf(team.list('b/', { startAfter: '' }))).toEqual(['b/c', 'b/d']);
    expect(await keysOf(team.list('', { startAfter: 'zzz' }))).toEqual([]);
  });

  it('cannot reach outside its prefix, and reports bad keys as rejections, not synchronous throws', async () => {
    const { inner, team } = await setup();
    const pending = [
      team.put('../x', Buffer.from('x')),
      team.delete('../x'),
      team.get('../x'),
      team.head('../x'),
    ];
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(team.get('../vision2/x')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(team.put('../other', Buffer.from('x'))).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(team.delete('/a')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(keysOf(team.list('../'))).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(team.get('x')).rejects.toMatchObject({ code: 'NotFound' });
    expect(await keysOf(inner.list('teams/vision2'))).toEqual(['teams/vision2/x']);
  });

  it('deletes its own keys only and maps deleteMany errors back to relative keys', async () => {
    const { inner, team } = await setup();
    await team.delete('a');
    const result = await team.deleteMany(['b/c', 'missing']);
    expect(result.errors).toEqual([]);
    expect(await keysOf(inner.list())).toEqual(['other', 'teams/visio', 'teams/vision', 'teams/vision2/x']);

    const failing = new MemoryStore();
    failing.deleteMany = async (keys) => ({ errors: keys.map((key) => ({ key, error: new Error('no') })) });
    const view = new PrefixedStore(failing, 'p');
    expect((await view.deleteMany(['x/y'])).errors.map((e) => e.key)).toEqual(['x/y']);
  });

  it('nests, and names itself after the inner store and prefix', async () => {
    const { inner } = await setup();
    const nested = new PrefixedStore(new PrefixedStore(inner, 'teams/'), '/vision/');
    expect(await keysOf(nested.list())).toEqual(['a', 'b/c']);
    expect(nested.name).toBe('mem://bucket/teams/vision');
    expect(new PrefixedStore(new MemoryStore('memory://'), 'x').name).toBe('memory://x');
    expect(new PrefixedStore(inner, '').name).toBe('mem://bucket');
    expect(nested.capabilities).toBe(inner.capabilities);
  });

  it('with an empty prefix is the inner store', async () => {
    const { inner } = await setup();
    const all = new PrefixedStore(inner, '');
    expect(await keysOf(all.list())).toEqual(await keysOf(inner.list()));
  });

  it('rejects a prefix that cannot be a folder', () => {
    for (const prefix of ['a/../b', 'a.', 'a//b', 'x\\y']) {
      expect(() => new PrefixedStore(new MemoryStore(), prefix)).toThrow(
        expect.objectContaining({ code: 'InvalidArgument' }),
      );
    }
  });

  it('closes the inner store', async () => {
    let closed = 0;
    const inner = new MemoryStore();
    inner.close = async () => {
      closed += 1;
    };
    await new PrefixedStore(inner, 'p').close();
    expect(closed).toBe(1);
  });
});
