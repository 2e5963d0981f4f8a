import path from 'node:path';
import { rotateEncryptionKey, StoreError } from '@ckpt/core';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { readKeyFile } from '../encryption-key.js';
import { examples } from '../help.js';
import { runCommand } from '../session.js';

/** `ckpt rotate-key --new-key-file <path>`: the store's data key wrapped by a new user key. */
export function rotateKeyCommand(program: Command, ctx: CliContext): void {
  program
    .command('rotate-key')
    .description(
      "make a new key open an encrypted store in place of the current one (only the store's record changes)",
    )
    .requiredOption('--new-key-file <path>', 'the file holding the new key (at least 16 bytes)')
    .addHelpText(
      'after',
      examples([
        'CKPT_ENCRYPTION_KEY_FILE=old.key ckpt rotate-key --new-key-file new.key',
        'then use new.key everywhere',
      ]),
    )
    .action((flags: { newKeyFile: string }, cmd: Command) =>
      runCommand(ctx, cmd, async ({ checkpoints, encryptionKey, signal }) => {
        if (encryptionKey === undefined)
          throw new StoreError(
            'InvalidArgument',
            'rotate-key needs the current key: set CKPT_ENCRYPTION_KEY or --encryption-key-file',
            {
              operation: 'encryption key',
            },
          );
        const newKey = await readKeyFile(path.resolve(ctx.cwd, flags.newKeyFile));
        await rotateEncryptionKey(checkpoints.store, { key: encryptionKey, newKey }, { signal });
        return { human: 'the store now opens with the new key only', json: { rotated: true } };
      }),
    );
}
