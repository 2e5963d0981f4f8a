import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type CkptConfig, StoreError } from '@ckpt/core';

/**
 * The user's encryption key, first match: `--encryption-key-file` (or `CKPT_ENCRYPTION_KEY_FILE`),
 * `CKPT_ENCRYPTION_KEY`, the config file's `encryption.keyFile` (relative to the file). Undefined
 * when encryption is off; a config file that turns it on without any key fails with one line.
 * Errors never hold the key (exit 7: operation `encryption key`).
 */
export async function encryptionKey(
  keyFile: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
  config?: { configFile?: string; config?: CkptConfig },
): Promise<Uint8Array | string | undefined> {
  if (keyFile !== undefined) return readKeyFile(path.resolve(cwd, keyFile));
  if (env.CKPT_ENCRYPTION_KEY) return env.CKPT_ENCRYPTION_KEY;
  const settings = config?.config?.encryption;
  if (!settings) return undefined;
  if (settings.keyFile !== undefined)
    return readKeyFile(path.resolve(path.dirname(config?.configFile ?? cwd), settings.keyFile));
  throw new StoreError(
    'InvalidArgument',
    `encryption is on (${config?.configFile}) but no key was given: set CKPT_ENCRYPTION_KEY or --encryption-key-file`,
    { operation: 'encryption key' },
  );
}

/** A key file's bytes: one line naming the file when it cannot be read. */
export async function readKeyFile(file: string): Promise<Buffer> {
  return readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new StoreError(
      'InvalidArgument',
      `cannot read the encryption key file ${file} (${err.code ?? err.message})`,
      {
        operation: 'encryption key',
      },
    );
  });
}
