#!/usr/bin/env node
import { run } from '../dist/main.js';

const code = await run(process.argv);
// Exit once stdout has drained: lingering sockets or workers must not keep the process alive.
process.stdout.write('', () => process.exit(code));
