#!/usr/bin/env node
import { keepYoungGenerationSmall } from '@ckpt/core/cli';
import { run } from '../dist/main.js';

// this process only moves checkpoints: a small young generation saves ~20 MiB of peak memory
keepYoungGenerationSmall();
// a failure that escaped every handler is still one line and exit 1 (the stack with --debug)
const escaped = (err) => {
  const text = process.argv.includes('--debug') ? err?.stack : err?.message;
  process.stderr.write(`ckpt: internal error: ${String(text ?? err).split('\n')[0]}\n`);
  process.exit(1);
};
process.on('unhandledRejection', escaped).on('uncaughtException', escaped);
const code = await run(process.argv);
// Exit once stdout has drained: lingering sockets or workers must not keep the process alive.
process.stdout.write('', () => process.exit(code));
