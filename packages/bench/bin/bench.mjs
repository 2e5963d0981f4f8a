#!/usr/bin/env node
// `pnpm bench`: ckpt against cp -r, aws s3 sync and rclone copy; see `bench.mjs --help` and
// docs/benchmarks.md. Runs the built package: `npx turbo run build --filter=@ckpt/bench...` first.
let bench;
try {
  bench = await import('../dist/bench/main.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write(
    `bench: ${err.message}\n(build it first: npx turbo run build --filter=@ckpt/bench...)\n`,
  );
  process.exit(1);
}
process.exitCode = await bench.benchMain(process.argv.slice(2));
