import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { S3Server, StoreSpec } from './types.js';

/** Part and range size of the raw transfer (the S3Store's default part size). */
const PART_BYTES = 8 * 2 ** 20;
/** Requests in flight in the raw transfer (the S3Store's default per put). */
const RAW_CONCURRENCY = 4;

type Command = object;
interface Client {
  send(command: Command): Promise<Record<string, unknown>>;
  destroy(): void;
}
type CommandClass = new (input: Record<string, unknown>) => Command;

/** The few parts of `@aws-sdk/client-s3` the benchmark uses directly. */
interface Sdk {
  S3Client: new (config: Record<string, unknown>) => Client;
  CreateMultipartUploadCommand: CommandClass;
  UploadPartCommand: CommandClass;
  CompleteMultipartUploadCommand: CommandClass;
  HeadObjectCommand: CommandClass;
  GetObjectCommand: CommandClass;
}

/**
 * Imports `module` as adapter package `pkg` resolves it (the bench package does not list the cloud
 * SDKs itself): the very SDK version that adapter uses.
 */
export async function importBeside<T>(pkg: string, module: string): Promise<T> {
  const manifest = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  return (await import(pathToFileURL(createRequire(manifest).resolve(module)).href)) as T;
}

let sdk: Promise<Sdk> | undefined;

/** Loads the AWS SDK that `@ckpt/s3` depends on. */
export function loadSdk(): Promise<Sdk> {
  sdk ??= importBeside<Sdk>('@ckpt/s3', '@aws-sdk/client-s3');
  return sdk;
}

/**
 * A client for the benchmark's server: path style, and checksums only where the API requires them,
 * so that the raw transfer measures the server rather than the SDK's CRC32.
 */
export async function s3Client(server: S3Server): Promise<{ client: Client; sdk: Sdk }> {
  const s = await loadSdk();
  const client = new s.S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: server.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { client, sdk: s };
}

/**
 * What `startMinio().storeOptions()` gives the tests: path style, and MinIO's conditional writes
 * and listings declared; checksums are the store's default (CRC32), as a user would run it.
 */
export function s3StoreOptions(spec: Extract<StoreSpec, { kind: 's3' }>) {
  return {
    bucket: spec.bucket,
    endpoint: spec.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    conditionalWrites: true,
    keyIsAlsoPrefix: false,
    credentials: spec.credentials,
  };
}

/** Regular files under `dir`, recursively, in byte order of their paths. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The files' bytes, concatenated, in parts of exactly `partBytes` (the last may be shorter). */
async function* parts(files: string[], partBytes: number): AsyncGenerator<Buffer> {
  let part = Buffer.allocUnsafe(partBytes);
  let filled = 0;
  for (const file of files) {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length; ) {
        const n = chunk.copy(part, filled, at);
        filled += n;
        at += n;
        if (filled === partBytes) {
          yield part;
          part = Buffer.allocUnsafe(partBytes);
          filled = 0;
        }
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}

/** Counters of a raw transfer. */
export interface RawStats {
  requests: number;
  bytes: number;
  ms: number;
  /** Of `ms`, the time the server took to complete the multipart upload (raw put only). */
  completeMs?: number;
}

/**
 * Uploads every file under `dir`, concatenated, as one object: one multipart upload with
 * `RAW_CONCURRENCY` parts of 8 MiB in flight (memory: that many parts). The server's ceiling.
 */
export async function rawPut(server: S3Server, bucket: string, key: string, dir: string): Promise<RawStats> {
  const { client, sdk: s } = await s3Client(server);
  const start = performance.now();
  try {
    const created = await client.send(new s.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const UploadId = created.UploadId as string;
    const done: { PartNumber: number; ETag: string }[] = [];
    const inFlight = new Set<Promise<void>>();
    let bytes = 0;
    let number = 0;
    for await (const body of parts(await filesUnder(dir), PART_BYTES)) {
      const PartNumber = ++number;
      bytes += body.length;
      const upload = client
        .send(new s.UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: body }))
        .then((out) => {
          done.push({ PartNumber, ETag: out.ETag as string });
        })
        .finally(() => inFlight.delete(upload));
      inFlight.add(upload);
      if (inFlight.size >= RAW_CONCURRENCY) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    done.sort((a, b) => a.PartNumber - b.PartNumber);
    const completeStart = performance.now();
    await client.send(
      new s.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    const end = performance.now();
    return { requests: number + 2, bytes, ms: end - start, completeMs: end - completeStart };
  } finally {
    client.destroy();
  }
}

/** Reads one object with ranged GETs of 8 MiB, `RAW_CONCURRENCY` at a time, discarding the bytes. */
export async function rawGet(server: S3Server, bucket: string, key: string): Promise<RawStats> {
  const { client, sdk: s } = await s3Client(server);
  const start = performance.now();
  try {
    const head = await client.send(new s.HeadObjectCommand({ Bucket: bucket, Key: key }));
    const size = Number(head.ContentLength);
    let next = 0;
    let bytes = 0;
    let requests = 1;
    const worker = async () => {
      while (next < size) {
        const from = next;
        next = Math.min(size, from + PART_BYTES);
        requests += 1;
        const out = await client.send(
          new s.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${from}-${next - 1}` }),
        );
        for await (const chunk of out.Body as Readable) bytes += (chunk as Buffer).length;
      }
    };
    await Promise.all(Array.from({ length: RAW_CONCURRENCY }, worker));
    if (bytes !== size) throw new Error(`raw get of ${key} received ${bytes} of ${size} bytes`);
    return { requests, bytes, ms: performance.now() - start };
  } finally {
    client.destroy();
  }
}
