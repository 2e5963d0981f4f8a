export type { CliContext } from './context.js';
export { ExitCode, exitCodeFor } from './exit-codes.js';
export { buildProgram, run } from './main.js';
