import { randomUUID } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { StoreError } from '@ckpt/core';
import { readAll } from '@ckpt/core/backend';
import { freePort } from '@ckpt/test-servers';
import { useMinio } from '@ckpt/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { S3BackendOptions } from '../src/options.js';
import { S3Store } from '../src/s3-store.js';
import { recordCommands, rejection } from './helpers.js';
import { s3RawReader } from './raw-reader.js';

const minio = useMinio();
const stores: S3Store[] = [];

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
});

/** A store over a fresh prefix. Content-MD5 rather than CRC32 (`when_required`) unless asked otherwise. */
function open(options: Partial<S3BackendOptions> = {}) {
  const prefix = `store/${randomUUID()}`;
  const store = new S3Store({
    ...minio.server.storeOptions(),
    checksums: 'when_required',
    bucket: minio.bucket,
    prefix,
    ...options,
  } as S3BackendOptions);
  stores.push(store);
  return { store, prefix, raw: s3RawReader(minio.client, minio.bucket, prefix) };
}

describe('S3Store against MinIO', () => {
  it('is named s3://bucket/prefix and declares conditional writes only when told the server enforces them', () => {
    const { store, prefix } = open();
    expect(store.name).toBe(`s3://${minio.bucket}/${prefix}`);
    expect(store.capabilities).toMatchObject({
      conditionalCreate: true,
      conditionalReplace: true,
      rangedRead: true,
      batchDeleteSize: 1000,
      keyIsAlsoPrefix: false,
    });
    // a custom endpoint may be a server that ignores the conditions: off unless declared
    const undeclared = open({ conditionalWrites: undefined }).store.capabilities;
    expect([undeclared.conditionalCreate, undeclared.conditionalReplace]).toEqual([false, false]);
    // AWS lists a key beside the keys below it: declared unless told otherwise
    expect(open({ keyIsAlsoPrefix: undefined }).store.capabilities.keyIsAlsoPrefix).toBe(true);
  });

  it('stores objects under the prefix, readable by a plain S3 client, with Content-MD5 on small puts', async () => {
    const { store, prefix, raw: reader } = open();
    const recorder = recordCommands(store.client);
    // no metadata capability (a listing cannot return it): the store does not send it
    const put = await store.put('a/core-1.img', Buffer.from('hello world'), { metadata: { host: 'gpu-1' } });
    expect(put).toEqual({ version: '"5eb63bbbe01eeed093cb22bb8f5acdc3"', size: 11 });
    expect(recorder.named('PutObject')[0]?.input).toMatchObject({
      ContentLength: 11,
      ContentMD5: 'XrY7u+Ae7tCTyyK7j1rNww==',
    });
    const out = await minio.client.send(
      new GetObjectCommand({ Bucket: minio.bucket, Key: `${prefix}/a/core-1.img` }),
    );
    expect(await out.Body?.transformToString()).toBe('hello world');
    expect(await reader.keys()).toEqual(['a/core-1.img']);
    const head = await store.head('a/core-1.img');
    expect(head).toEqual({
      key: 'a/core-1.img',
      size: 11,
      version: put.version,
      lastModified: expect.any(Date),
    });
  });

  it('answers ranges, including one past the end (416) with no bytes', async () => {
    const { store } = open();
    await store.put('r', Buffer.from('0123456789'));
    const middle = await store.get('r', { range: { offset: 2, length: 3 } });
    expect([(await readAll(middle.body)).toString(), middle.range, middle.size]).toEqual([
      '234',
      { offset: 2, length: 3 },
      10,
    ]);
    const open_ = await store.get('r', { range: { offset: 7 } });
    expect((await readAll(open_.body)).toString()).toBe('789');
    const beyond = await store.get('r', { range: { offset: 50, length: 5 } });
    expect([(await readAll(beyond.body)).length, beyond.range, beyond.size]).toEqual([
      0,
      { offset: 10, length: 0 },
      10,
    ]);
  });

  it('lists in pages with continuation tokens, relative keys and startAfter', async () => {
    const { store } = open({ listPageSize: 2 });
    const recorder = recordCommands(store.client);
    const keys = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2'];
    for (const key of keys) await store.put(key, Buffer.from(key));
    const listed: string[] = [];
    for await (const meta of store.list()) listed.push(meta.key);
    expect(listed).toEqual(keys);
    expect(recorder.named('ListObjectsV2')).toHaveLength(3);
    const after: string[] = [];
    for await (const meta of store.list('a/', { startAfter: 'a/1' })) after.push(meta.key);
    expect(after).toEqual(['a/2', 'a/3']);
  });

  it('deletes in batches of 1000, idempotently, and surfaces per-key errors', async () => {
    const { store, raw: reader } = open();
    const real = ['x/1', 'x/2', 'x/3'];
    for (const key of real) await store.put(key, Buffer.from(key));
    const recorder = recordCommands(store.client);
    const missing = Array.from({ length: 2100 }, (_, i) => `missing/${i}`);
    const result = await store.deleteMany([...real, ...missing, 'bad//key']);
    expect(result.errors.map((e) => [e.key, (e.error as StoreError).code])).toEqual([
      ['bad//key', 'InvalidArgument'],
    ]);
    const batches = recorder
      .named('DeleteObjects')
      .map((call) => (call.input.Delete as { Objects: unknown[] }).Objects.length);
    expect(batches.sort()).toEqual([1000, 1000, 103].sort());
    expect(await reader.keys()).toEqual([]);
    await store.delete('x/1');

    // a server that refuses some keys: every refused key comes back with its mapped error
    await store.put('kept', Buffer.from('k'));
    store.client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const objects = (args.input as { Delete?: { Objects: { Key: string }[] } }).Delete?.Objects ?? [];
        const refused = objects.filter((o) => o.Key.endsWith('/kept'));
        Object.assign(out.output as object, {
          Errors: refused.map((o) => ({ Key: o.Key, Code: 'AccessDenied', Message: 'Access Denied' })),
        });
        return out;
      },
      { step: 'initialize', name: 'refuseKept' },
    );
    const refused = await store.deleteMany(['kept', 'other']);
    expect(refused.errors.map((e) => [e.key, (e.error as StoreError).code])).toEqual([
      ['kept', 'PermissionDenied'],
    ]);
  });

  it('stores a key and a key below it separately; deleting one keeps the other, listed in byte order', async () => {
    const { store } = open();
    for (const key of ['ckpt/a', 'ckpt', 'ckpt-a']) await store.put(key, Buffer.from(`<${key}>`));
    for (const key of ['ckpt', 'ckpt/a', 'ckpt-a']) {
      expect((await readAll((await store.get(key)).body)).toString()).toBe(`<${key}>`);
    }
    await store.delete('ckpt');
    expect(StoreError.is(await rejection(store.get('ckpt')), 'NotFound')).toBe(true);
    const listed: string[] = [];
    for await (const meta of store.list()) listed.push(meta.key);
    expect(listed).toEqual(['ckpt-a', 'ckpt/a']); // byte order: '-' < '/'
    expect((await readAll((await store.get('ckpt/a')).body)).toString()).toBe('<ckpt/a>');
  });

  it('refuses keys that the prefix pushes past 1024 bytes before sending anything', async () => {
    const { store, prefix } = open();
    const recorder = recordCommands(store.client);
    const key = Array.from({ length: 8 }, () => 'k'.repeat(127)).join('/'); // 1023 bytes
    const err = await rejection(store.put(key, Buffer.from('x')));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toContain(`with the store prefix "${prefix}/"`);
    const deleted = await store.deleteMany([key]);
    expect(deleted.errors.map((e) => (e.error as StoreError).code)).toEqual(['InvalidArgument']);
    expect(recorder.calls).toEqual([]);
  });

  it('refuses conditional puts when the server is not declared to enforce them, writing nothing', async () => {
    const { store, raw: reader } = open({ conditionalWrites: false });
    expect((await rejection(store.put('c', Buffer.from('x'), { mode: 'create' }))).code).toBe('Unsupported');
    expect((await rejection(store.put('c', Buffer.from('x'), { mode: { update: '"abc"' } }))).code).toBe(
      'Unsupported',
    );
    expect(await reader.keys()).toEqual([]);
  });

  it('sends If-None-Match / If-Match when conditional writes are declared, and the server enforces them', async () => {
    const { store } = open({ conditionalWrites: true });
    const recorder = recordCommands(store.client);
    const first = await store.put('c', Buffer.from('x'), { mode: 'create' });
    await store.put('c', Buffer.from('y'), { mode: { update: first.version } });
    expect(recorder.named('PutObject').map((call) => [call.input.IfNoneMatch, call.input.IfMatch])).toEqual([
      ['*', undefined],
      [undefined, first.version],
    ]);
    expect((await rejection(store.put('c', Buffer.from('z'), { mode: 'create' }))).code).toBe(
      'AlreadyExists',
    );
    expect(
      (await rejection(store.put('c', Buffer.from('z'), { mode: { update: first.version } }))).code,
    ).toBe('PreconditionFailed');
    expect((await readAll((await store.get('c')).body)).toString()).toBe('y');
  });

  it('maps missing keys to NotFound, and a missing bucket to InvalidArgument naming the store', async () => {
    const { store } = open();
    for (const attempt of [() => store.get('nope'), () => store.head('nope')]) {
      const err = await rejection(attempt());
      expect([err.code, err.key]).toEqual(['NotFound', 'nope']);
    }
    const gone = new S3Store({ ...minio.server.storeOptions(), bucket: 'no-such-bucket-here' });
    stores.push(gone);
    const listing = async () => {
      for await (const _ of gone.list('ckpt/')) break;
    };
    for (const attempt of [() => gone.put('k', Buffer.from('x')), () => gone.get('k'), listing]) {
      const err = await rejection(attempt());
      expect(err.code).toBe('InvalidArgument');
      expect(err.message).toContain(
        'the store s3://no-such-bucket-here does not exist (no such bucket "no-such-bucket-here")',
      );
    }
  });

  it('maps a wrong access key to PermissionDenied without showing the secret', async () => {
    const secret = 'wJalrXUtnFEMI-very-secret';
    const { store } = open({ credentials: { accessKeyId: 'WRONGKEY', secretAccessKey: secret } });
    const attempts = [
      () => store.put('k', Buffer.from('x')),
      () => store.get('k'),
      () => store.head('k'),
      async () => {
        for await (const _ of store.list()) break;
      },
    ];
    for (const attempt of attempts) {
      const err = await rejection(attempt());
      expect(err.code).toBe('PermissionDenied');
      expect(err.retryable).toBe(false);
      expect(err.message).not.toContain(secret);
    }
  });

  it('maps a server that does not answer to a retryable Unavailable', async () => {
    const store = new S3Store({
      ...minio.server.storeOptions(),
      endpoint: `http://127.0.0.1:${await freePort()}`,
      bucket: minio.bucket,
      maxAttempts: 2,
    });
    stores.push(store);
    const err = await rejection(store.head('k'));
    expect(err).toMatchObject({ code: 'Unavailable', retryable: true, operation: 'head', key: 'k' });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('resumes a body whose connection drops from the byte where it broke; without retries it errors, never ends early', async () => {
    const { store, prefix } = open();
    const object = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < object.length; i += 4096) object.writeUInt32BE(i, i);
    await store.put('big', object);
    const proxy = await cuttingProxy(minio.server.port, 1024 * 1024);
    const via = (retry: false | undefined) =>
      new S3Store({
        ...minio.server.storeOptions(),
        endpoint: proxy.endpoint,
        bucket: minio.bucket,
        prefix,
        maxAttempts: 1,
        retry,
      });
    const resuming = via(undefined);
    const failing = via(false);
    stores.push(resuming, failing);
    try {
      const whole = await readAll((await resuming.get('big')).body, 8 * 1024 * 1024);
      expect(whole.equals(object)).toBe(true);
      expect(proxy.connections()).toBeGreaterThan(4); // each connection carried at most 1 MiB
      const got = await failing.get('big');
      const err = await rejection(readAll(got.body, 8 * 1024 * 1024));
      expect(err).toMatchObject({ code: 'Unavailable', retryable: true, operation: 'get', key: 'big' });
    } finally {
      await proxy.close();
    }
  });
});

/** A TCP proxy to `port` that cuts each connection once `limit` response bytes went through. */
async function cuttingProxy(port: number, limit: number) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const proxy = createServer((client) => {
    connections++;
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let passed = 0;
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      passed += data.length;
      if (passed > limit) {
        client.destroy();
        upstream.destroy();
      } else client.write(data);
    });
    for (const socket of [client, upstream])
      socket.on('error', () => {}).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
