#!/usr/bin/env node
// Writes a synthetic CRIU-like checkpoint directory: see `gen-workload --help` and README.md.
// Runs the built package: `npx turbo run build --filter=@ckpt/bench...` first.
let workload;
try {
  workload = await import('../dist/workload/index.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write(
    `gen-workload: ${err.message}\n(build it first: npx turbo run build --filter=@ckpt/bench...)\n`,
  );
  process.exit(1);
}
process.exitCode = await workload.genWorkloadMain(process.argv.slice(2));
