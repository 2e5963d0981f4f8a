#!/usr/bin/env node
import { keepYoungGenerationSmall } from '@ckpt/core';
import { run } from '../dist/main.js';

// this process only moves checkpoints: a small young generation saves ~20 MiB of peak memory
keepYoungGenerationSmall();
const code = await run(process.argv);
// Exit once stdout has drained: lingering sockets or workers must not keep the process alive.
process.stdout.write('', () => process.exit(code));
