export { ExitCode, exitCodeFor } from './exit-codes.js';
export type { CliContext } from './context.js';
export { buildProgram, run } from './main.js';
