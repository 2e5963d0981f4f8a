// Pure logic, no server: the error mapping, the credential order, the lazy DefaultAzureCredential,
// block sizes, the config and its URL form.
import { RestError } from '@azure/storage-blob';
import { StoreError } from '@ckpt/core';
import { redactConfig } from '@ckpt/core/cli';
import { describe, expect, it } from 'vitest';
import { blobEndpoint, lazyDefaultCredential, loadDefaultCredential, resolveAuth } from '../src/auth.js';
import { AzureBackend } from '../src/azure-store.js';
import { azureConfigFromUrl, azureConfigSchema } from '../src/config.js';
import { classify, deniedText, factsOf, toStoreError } from '../src/errors.js';
import { chooseBlockSize, MAX_BLOCKS } from '../src/options.js';

const MiB = 1024 * 1024;

function restError(statusCode: number | undefined, errorCode?: string, code?: string) {
  const error = new RestError(`${errorCode ?? 'failed'}\nRequestId:abc`, {
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(code ? { code } : {}),
  });
  if (errorCode) (error as { details?: unknown }).details = { errorCode };
  return error;
}

describe('error mapping', () => {
  it.each([
    [503, 'ServerBusy', undefined, 'Unavailable', true],
    [500, 'InternalError', undefined, 'Unavailable', true],
    [429, undefined, undefined, 'Unavailable', true],
    [500, 'OperationTimedOut', undefined, 'Unavailable', true],
    [403, 'AuthorizationFailure', undefined, 'PermissionDenied', false],
    [403, 'AuthenticationFailed', undefined, 'PermissionDenied', false],
    [404, 'BlobNotFound', undefined, 'NotFound', false],
    [404, 'ContainerNotFound', undefined, 'InvalidArgument', false],
    [400, 'Md5Mismatch', undefined, 'Integrity', false],
    [400, 'InvalidBlockList', undefined, 'Integrity', false],
    [409, 'LeaseIdMissing', undefined, 'Conflict', false],
    [400, 'InvalidQueryParameterValue', undefined, 'InvalidArgument', false],
    [undefined, undefined, 'REQUEST_SEND_ERROR', 'Unavailable', true],
  ] as const)('HTTP %s %s %s → %s (retryable %s)', (status, errorCode, code, expected, retryable) => {
    const error = toStoreError(restError(status, errorCode, code), { operation: 'get', key: 'k' });
    expect(error.code).toBe(expected);
    expect(error.retryable).toBe(retryable);
    expect(error.message).not.toContain('\n');
  });

  it.each([
    [503, 'ServerBusy', true],
    [500, 'ServerBusy', true],
    [429, undefined, true],
    [500, 'InternalError', false],
    [500, 'OperationTimedOut', false],
  ] as const)('HTTP %s %s is throttling: %s, and Unavailable', (status, errorCode, throttled) => {
    const error = toStoreError(restError(status, errorCode), { operation: 'get', key: 'k' });
    expect(error).toMatchObject({ code: 'Unavailable', retryable: true, throttled });
  });

  it('a failed condition reads by the put mode: 409 BlobAlreadyExists for a create, 412 or 404 for an update', () => {
    expect(classify({ status: 409, name: 'BlobAlreadyExists' }, 'create')).toBe('AlreadyExists');
    expect(classify({ status: 412, name: 'ConditionNotMet' }, 'replace')).toBe('PreconditionFailed');
    expect(classify({ status: 404, name: 'BlobNotFound' }, 'replace')).toBe('PreconditionFailed');
    expect(classify({ status: 412, name: 'ConditionNotMet' })).toBe('PreconditionFailed');
    expect(classify({ status: 404, name: 'ContainerNotFound' }, 'replace')).toBe('InvalidArgument');
  });

  it('network failures are retryable, an unknown host is not', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(factsOf(reset)).toEqual({ errno: 'ECONNRESET' });
    expect(toStoreError(reset, { operation: 'get' })).toMatchObject({ code: 'Unavailable', retryable: true });
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' });
    expect(toStoreError(dns, { operation: 'get' })).toMatchObject({ code: 'Unavailable', retryable: false });
  });

  it('an answer that broke off while the SDK read it is retryable; a body it cannot parse is not', () => {
    const broken = new RestError('Error reading response as text: aborted', { code: 'PARSE_ERROR' });
    expect(toStoreError(broken, { operation: 'list' })).toMatchObject({
      code: 'Unavailable',
      retryable: true,
    });
    const garbled = new RestError('Error "Unexpected end" occurred while parsing the response body', {
      code: 'PARSE_ERROR',
    });
    expect(toStoreError(garbled, { operation: 'list' })).toMatchObject({ code: 'Internal' });
  });

  it('a missing container names the store', () => {
    const error = toStoreError(restError(404, 'ContainerNotFound'), {
      operation: 'list',
      store: 'az://nope/team',
    });
    expect(error.message).toContain('the store az://nope/team does not exist (no such container)');
  });

  it('a refused credential is one line naming the mode tried and the variables that choose another', () => {
    const error = toStoreError(restError(403, 'AuthenticationFailed'), {
      operation: 'head',
      key: 'k',
      auth: 'account key',
    });
    expect(error.code).toBe('PermissionDenied');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('access denied with the account key (AZURE_STORAGE_KEY)');
    expect(error.message).toContain('AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN');
    expect(deniedText('DefaultAzureCredential')).toMatch(
      /^access denied with DefaultAzureCredential; another credential is chosen by AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN/,
    );
    // @azure/identity's error when no credential of the chain is available
    const unavailable = Object.assign(new Error('DefaultAzureCredential: no credential'), {
      name: 'AggregateAuthenticationError',
    });
    expect(toStoreError(unavailable, { operation: 'head', auth: 'DefaultAzureCredential' })).toMatchObject({
      code: 'PermissionDenied',
      retryable: false,
    });
  });

  it('StoreErrors pass as they are', () => {
    const error = new StoreError('Aborted', 'gone', { operation: 'put' });
    expect(toStoreError(error, { operation: 'get' })).toBe(error);
  });
});

describe('credentials', () => {
  const all = {
    AZURE_STORAGE_CONNECTION_STRING: 'env-cs',
    AZURE_STORAGE_KEY: 'env-key',
    AZURE_STORAGE_SAS_TOKEN: '?sv=env',
  };

  it('are tried in order: connection string, account key, SAS token, DefaultAzureCredential', () => {
    expect(resolveAuth({ connectionString: 'cfg-cs', sasToken: 'cfg-sas' }, all)).toEqual({
      mode: 'connection string',
      secret: 'cfg-cs',
    });
    expect(resolveAuth({}, all)).toEqual({ mode: 'connection string', secret: 'env-cs' });
    const noCs = { ...all, AZURE_STORAGE_CONNECTION_STRING: '' };
    expect(resolveAuth({ sasToken: 'cfg-sas' }, noCs)).toEqual({ mode: 'account key', secret: 'env-key' });
    const sasOnly = { AZURE_STORAGE_SAS_TOKEN: '?sv=env' };
    expect(resolveAuth({ sasToken: '?sv=cfg' }, sasOnly)).toEqual({ mode: 'SAS token', secret: 'sv=cfg' });
    expect(resolveAuth({}, sasOnly)).toEqual({ mode: 'SAS token', secret: 'sv=env' });
    expect(resolveAuth({}, {})).toEqual({ mode: 'DefaultAzureCredential' });
  });

  it('DefaultAzureCredential is built on the first token asked for, once, and never before', async () => {
    let built = 0;
    const credential = lazyDefaultCredential(async () => {
      built++;
      return { getToken: async (scopes) => ({ token: `t:${String(scopes)}`, expiresOnTimestamp: 1 }) };
    });
    expect(credential.loaded()).toBe(false);
    expect(built).toBe(0);
    await expect(credential.getToken('https://storage.azure.com/.default')).resolves.toMatchObject({
      token: 't:https://storage.azure.com/.default',
    });
    await credential.getToken('again');
    expect(built).toBe(1);
    expect(credential.loaded()).toBe(true);
  });

  it('without a connection string, key or SAS, a backend uses DefaultAzureCredential, not yet loaded', async () => {
    const backend = new AzureBackend({ container: 'ckpt', account: 'acme', env: {} });
    expect(backend.auth).toBe('DefaultAzureCredential');
    expect(backend.name).toBe('az://ckpt');
    expect(backend.containerClient.url).toBe('https://acme.blob.core.windows.net/ckpt');
    const credential = backend.containerClient.credential as { loaded?: () => boolean };
    expect(credential.loaded?.()).toBe(false);
    // the loader builds @azure/identity's credential; building it makes no request
    const { DefaultAzureCredential } = await import('@azure/identity');
    expect(await loadDefaultCredential()).toBeInstanceOf(DefaultAzureCredential);
  });

  it("the endpoint is the given one, else the account's public one", () => {
    expect(blobEndpoint({ endpoint: 'http://127.0.0.1:10000/devstoreaccount1/' })).toBe(
      'http://127.0.0.1:10000/devstoreaccount1',
    );
    expect(blobEndpoint({ account: 'acme' })).toBe('https://acme.blob.core.windows.net');
    expect(() => blobEndpoint({})).toThrow(/account/);
  });
});

describe('block sizes', () => {
  it('grow in whole MiB so 50,000 blocks cover a known size', () => {
    expect(chooseBlockSize(8 * MiB)).toBe(8 * MiB);
    expect(chooseBlockSize(8 * MiB, 100 * MiB)).toBe(8 * MiB);
    const huge = 1024 * 1024 * MiB; // 1 TiB
    const size = chooseBlockSize(8 * MiB, huge);
    expect(size % MiB).toBe(0);
    expect(size * MAX_BLOCKS).toBeGreaterThanOrEqual(huge);
    expect((size - MiB) * MAX_BLOCKS).toBeLessThan(huge);
  });
});

describe('config', () => {
  it('az://container/prefix?account=…&endpoint=… becomes a config', () => {
    const url = new URL(
      'az://ckpt/team/prod?account=acme&endpoint=http://127.0.0.1:10000/a&blockSize=4194304&singleUploadThreshold=2097152&timeout=30s',
    );
    const config = azureConfigSchema.parse(azureConfigFromUrl(url));
    expect(config).toEqual({
      type: 'azure',
      container: 'ckpt',
      prefix: 'team/prod',
      account: 'acme',
      endpoint: 'http://127.0.0.1:10000/a',
      blockSize: 4194304,
      singleUploadThreshold: 2097152,
      timeout: '30s',
    });
  });

  it('refuses unknown fields, bad container names and a bad block size', () => {
    expect(azureConfigSchema.safeParse({ type: 'azure', container: 'ckpt', acount: 'x' }).success).toBe(
      false,
    );
    expect(azureConfigSchema.safeParse({ type: 'azure', container: 'No_Caps' }).success).toBe(false);
    expect(azureConfigSchema.safeParse({ type: 'azure', container: 'ckpt', blockSize: 10 }).success).toBe(
      false,
    );
    expect(() => azureConfigFromUrl(new URL('az://ckpt?region=x'))).toThrow(/unknown query parameter/);
  });

  it('secrets are hidden by redactConfig', () => {
    const config = {
      type: 'azure',
      container: 'c',
      connectionString: 'AccountKey=s3cr3t',
      sasToken: 'sig=s3cr3t',
    };
    expect(JSON.stringify(redactConfig(config))).not.toContain('s3cr3t');
  });
});
