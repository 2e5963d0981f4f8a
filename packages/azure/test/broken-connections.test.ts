// A connection that breaks in the middle of an answer (Azurite behind a proxy that cuts every
// connection after a random number of its answer's bytes) fails the call with a retryable
// Unavailable, never Aborted (which the CLI reads as Ctrl-C) nor Internal: the store retries it.
import { randomUUID } from 'node:crypto';
import { StoreError } from '@ckpt/core';
import { readAll } from '@ckpt/core/backend';
import { mulberry32 } from '@ckpt/core/testing';
import { type Azurite, type FaultProxy, startAzurite, startFaultProxy } from '@ckpt/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AzureStore } from '../src/index.js';

let server: Azurite;
let container: string;
const prefix = `broken/${randomUUID()}`;
const object = Buffer.alloc(2 * 1024 * 1024, 7);

beforeAll(async () => {
  server = await startAzurite();
  container = await server.createContainer();
  const direct = open(server.blobEndpoint);
  await direct.put('big', object);
  for (let i = 0; i < 40; i++) await direct.put(`many/${String(i).padStart(3, '0')}`, Buffer.from('x'));
  await direct.close();
});
afterAll(async () => {
  await server?.stop();
});

/** A proxy to the server that cuts a share of the connections in the middle of an answer. */
async function cutting(probability: number, test: (proxy: FaultProxy, endpoint: string) => Promise<void>) {
  const proxy = await startFaultProxy({
    target: server.port,
    probability,
    random: mulberry32(7),
    dialect: 'azure',
    stallMs: 1000,
    kinds: ['cut'],
  });
  try {
    await test(proxy, `${proxy.endpoint}/${server.accountName}`);
  } finally {
    await proxy.close();
  }
}

function open(endpoint: string, retry?: false) {
  return new AzureStore({
    container,
    prefix,
    endpoint,
    env: { AZURE_STORAGE_KEY: server.accountKey },
    listPageSize: 5,
    ...(retry === false ? { retry } : {}),
  });
}

it('a body or a listing cut mid-way fails with a retryable Unavailable', () =>
  cutting(1, async (proxy, endpoint) => {
    const store = open(endpoint, false);
    const errors: unknown[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        await readAll((await store.get('big')).body, object.length).catch((e: unknown) => errors.push(e));
        await (async () => {
          for await (const _ of store.list('many/'));
        })().catch((e: unknown) => errors.push(e));
      }
    } finally {
      await store.close();
    }
    expect(proxy.stats().injected.cut).toBeGreaterThan(4);
    expect(errors.length).toBeGreaterThan(4);
    for (const error of errors) {
      expect(StoreError.is(error), String(error)).toBe(true);
      expect(error, String(error)).toMatchObject({ code: 'Unavailable', retryable: true });
    }
  }));

it('with its retries, the store reads whole bodies and listings through such cuts', () =>
  cutting(0.5, async (proxy, endpoint) => {
    const store = open(endpoint);
    try {
      for (let i = 0; i < 8; i++) {
        expect((await readAll((await store.get('big')).body, object.length)).equals(object)).toBe(true);
        const keys: string[] = [];
        for await (const meta of store.list('many/')) keys.push(meta.key);
        expect(keys).toHaveLength(40);
      }
    } finally {
      await store.close();
    }
    expect(proxy.stats().injected.cut).toBeGreaterThan(0);
  }));
