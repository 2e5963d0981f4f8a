import { describe, expect, it } from 'vitest';
import {
  abortable,
  abortError,
  redact,
  STORE_ERROR_CODES,
  StoreError,
  throwIfAborted,
} from '../src/errors.js';

describe('StoreError', () => {
  it('names the operation and key in its message and keeps the cause out of it', () => {
    const cause = new Error('socket hang up, token=abc');
    const error = new StoreError('Unavailable', 'backend failed', { operation: 'put', key: 'm/a', cause });
    expect(error.message).toBe('put m/a: backend failed');
    expect(error.cause).toBe(cause);
    expect(error).toMatchObject({ name: 'StoreError', code: 'Unavailable', operation: 'put', key: 'm/a' });
    expect(new StoreError('Internal', 'bare').message).toBe('bare');
  });

  it('is retryable by default only for Unavailable, unless told otherwise', () => {
    for (const code of STORE_ERROR_CODES)
      expect(new StoreError(code, 'x').retryable).toBe(code === 'Unavailable');
    expect(new StoreError('Internal', 'x', { retryable: true }).retryable).toBe(true);
    expect(new StoreError('Unavailable', 'x', { retryable: false }).retryable).toBe(false);
  });

  it('recognises its own instances, optionally by code', () => {
    const error = new StoreError('NotFound', 'gone');
    expect(StoreError.is(error)).toBe(true);
    expect(StoreError.is(error, 'NotFound')).toBe(true);
    expect(StoreError.is(error, 'Internal', 'NotFound')).toBe(true);
    expect(StoreError.is(error, 'Internal')).toBe(false);
  });

  it('recognises a StoreError from another copy of the package by its Symbol.for brand', () => {
    // what a second copy of @ckpt/core in node_modules would construct: another class, same brand
    class OtherCopyStoreError extends Error {
      readonly code = 'PreconditionFailed';
      readonly retryable = false;
      constructor(message: string) {
        super(message);
        (this as Record<symbol, unknown>)[Symbol.for('ckpt.StoreError')] = true;
      }
    }
    const foreign = new OtherCopyStoreError('stale');
    expect(foreign instanceof StoreError).toBe(false);
    expect(StoreError.is(foreign)).toBe(true);
    expect(StoreError.is(foreign, 'PreconditionFailed')).toBe(true);
    expect(StoreError.is(foreign, 'Conflict')).toBe(false);
    const plain = { [Symbol.for('ckpt.StoreError')]: true, code: 'Unavailable' };
    expect(StoreError.is(plain, 'Unavailable')).toBe(true);
  });

  it('rejects look-alikes without the brand', () => {
    for (const value of [
      null,
      undefined,
      'NotFound',
      42,
      new Error('x'),
      { code: 'NotFound', name: 'StoreError' },
    ]) {
      expect(StoreError.is(value)).toBe(false);
    }
    expect(StoreError.is({ [Symbol('ckpt.StoreError')]: true })).toBe(false);
  });

  it('redacts credentials that reach its message', () => {
    const error = new StoreError('PermissionDenied', 'denied for AccountKey=c2VjcmV0Cg==;EndpointSuffix=x', {
      operation: 'open',
      key: 'https://user:hunter2@host/x',
    });
    expect(error.message).not.toContain('c2VjcmV0Cg');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toBe(
      'open https://<redacted>@host/x: denied for AccountKey=<redacted>;EndpointSuffix=x',
    );
  });
});

describe('abortError / throwIfAborted', () => {
  it('return nothing for a live signal and an Aborted error for a fired one', () => {
    expect(abortError(undefined)).toBeUndefined();
    expect(abortError(new AbortController().signal)).toBeUndefined();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const reason = new Error('user pressed ^C');
    const signal = AbortSignal.abort(reason);
    const error = abortError(signal, 'get', 'a/b');
    expect(error).toMatchObject({
      code: 'Aborted',
      retryable: false,
      message: 'get a/b: the operation was aborted',
    });
    expect(error?.cause).toBe(reason);
    expect(() => throwIfAborted(signal, 'put', 'k')).toThrow(expect.objectContaining({ code: 'Aborted' }));
  });
});

describe('abortable', () => {
  it('passes the promise through without a signal, and while the signal stays quiet', async () => {
    const value = Promise.resolve(1);
    expect(abortable(value, undefined)).toBe(value);
    const controller = new AbortController();
    expect(await abortable(Promise.resolve(2), controller.signal)).toBe(2);
    const failure = new Error('the body failed');
    await expect(abortable(Promise.reject(failure), controller.signal)).rejects.toBe(failure);
  });

  it('rejects with Aborted as soon as the signal fires, and at once when it already has', async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => {});
    const raced = abortable(never, controller.signal, 'put', 'k');
    controller.abort(new Error('stop'));
    await expect(raced).rejects.toMatchObject({
      code: 'Aborted',
      message: 'put k: the operation was aborted',
    });
    // a promise that settles later, even by failing, changes nothing and is not left unhandled
    const late = Promise.reject(new Error('late'));
    await expect(abortable(late, controller.signal, 'chunk', 'f')).rejects.toMatchObject({ code: 'Aborted' });
    await expect(abortable(Promise.resolve(1), controller.signal)).rejects.toMatchObject({ code: 'Aborted' });
  });

  it('takes its listener off the signal once the race is over', async () => {
    const controller = new AbortController();
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added.push(args[1]);
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed.push(args[1]);
      remove(...args);
    }) as typeof remove;
    for (let i = 0; i < 3; i++) await abortable(Promise.resolve(i), signal);
    await abortable(Promise.reject(new Error('x')), signal).catch(() => {});
    expect(added).toHaveLength(4);
    expect(removed).toEqual(added);
  });
});

describe('redact', () => {
  const secrets: [string, string, string][] = [
    [
      'Azure connection string AccountKey',
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy+/YmF6==;EndpointSuffix=core.windows.net',
      'Zm9vYmFy',
    ],
    [
      'Azure SAS sig=',
      'https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig=AbC%2Bdef%3D&se=2030',
      'AbC%2B',
    ],
    [
      'Azure SharedAccessSignature',
      'BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2020&sig=s1gnatur3',
      's1gnatur3',
    ],
    [
      'S3 presigned X-Amz-Signature',
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=deadbeef01&X-Amz-Date=1',
      'deadbeef01',
    ],
    ['S3 session token', 'X-Amz-Security-Token=FwoGZXIvYXdzEJr&X-Amz-Date=1', 'FwoGZXIvYXdzEJr'],
    ['S3 SigV2 presigned Signature', 'AWSAccessKeyId=AKIA&Expires=1&Signature=abc%2Bdef', 'abc%2Bdef'],
    [
      'secretAccessKey in single quotes',
      "{ accessKeyId: 'AKIA1', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' }",
      'wJalrX',
    ],
    ['quoted secretAccessKey key', "{ 'secretAccessKey': 'wJalrXUtnFEMI' }", 'wJalrX'],
    ['secretAccessKey in JSON', '{"secretAccessKey":"wJalrXUtnFEMI/K7MDENG"}', 'wJalrX'],
    ['secretAccessKey assignment', 'secretAccessKey = wJalrXUtnFEMI', 'wJalrX'],
    ['password in single quotes', "password: 'hunter2'", 'hunter2'],
    ['user:password in a URL', 'https://user:pa55word@host.example/path', 'pa55word'],
    ['Bearer token', 'Authorization: Bearer eyJhbGciOi.xyz', 'eyJhbGciOi'],
    [
      'SigV4 authorization header',
      'authorization: AWS4-HMAC-SHA256 Credential=AKIA/2024, SignedHeaders=host, Signature=abcdef123',
      'abcdef123',
    ],
    ['authorization in JSON', '{"authorization":"Bearer t0ken-value"}', 't0ken-value'],
    [
      'GCS signed URL',
      'https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4&X-Goog-Signature=0123abcd',
      '0123abcd',
    ],
    ['OAuth access token', 'access_token=ya29.a0AfH6SM', 'ya29.a0AfH6SM'],
    ['client secret', 'client_secret="s3cr3t-value"', 's3cr3t-value'],
    ['encryption key variable', 'CKPT_ENCRYPTION_KEY=correct-horse-battery', 'correct-horse'],
    [
      'encryption key in JSON',
      '{"encryption":{"key":"x","encryptionKey":"correct-horse-battery"}}',
      'correct-horse',
    ],
    [
      'PEM private key',
      'key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAsecretbits\n-----END RSA PRIVATE KEY-----\nrest',
      'MIIEpAIBAAKCAQEA',
    ],
    [
      'PEM key in a GCS service account JSON',
      '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgk\\n-----END PRIVATE KEY-----\\n"}',
      'MIIEvQIBADANBgk',
    ],
    [
      "V8 JSON parse error's excerpt",
      'Invalid JSON key file: Unexpected token \'c\', ..."t_email": ckpt-sa-CL"... is not valid JSON',
      'ckpt-sa-CL',
    ],
    [
      "V8 JSON parse error's short text",
      'Unexpected token \'S\', "Sk3y-{x}\n" is not valid JSON',
      'Sk3y-{x}',
    ],
    [
      "JSON-escaped V8 JSON parse error's excerpt",
      '{"message":"Unexpected token \'A\', \\"AKIAxyz-98\\"... is not valid JSON"}',
      'AKIAxyz-98',
    ],
  ];

  it.each(secrets)('removes a %s', (_name, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('<redacted>');
  });

  it('keeps the non-secret parts readable', () => {
    expect(redact('DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc;EndpointSuffix=x')).toBe(
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=<redacted>;EndpointSuffix=x',
    );
    expect(redact('https://user:pw@host/a?sv=1&sig=xyz&se=2')).toBe(
      'https://<redacted>@host/a?sv=1&sig=<redacted>&se=2',
    );
    expect(redact("{ secretAccessKey: 'x1', region: 'us-east-1' }")).toBe(
      "{ secretAccessKey: '<redacted>', region: 'us-east-1' }",
    );
    expect(
      redact('Invalid JSON key file: Unexpected token \'c\', ..."t_email": ckpt-sa-CL"... is not valid JSON'),
    ).toBe('Invalid JSON key file: Unexpected token <redacted>: not valid JSON');
    expect(redact('"undefined" is not valid JSON')).toBe('<redacted>: not valid JSON');
    expect(redact('get models/llama/images/pages-1.img: 503 SlowDown')).toBe(
      'get models/llama/images/pages-1.img: 503 SlowDown',
    );
  });
});
