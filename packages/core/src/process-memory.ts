import { setFlagsFromString } from 'node:v8';

/**
 * Stops V8's young generation from growing past its current size (a few MiB instead of up to
 * 32 MiB). The engine keeps file data in buffers outside the JavaScript heap, so a large young
 * generation buys it nothing but resident memory: about 20 MiB of a push's peak RSS, at no
 * measurable cost in time (docs/benchmarks.md). It is process-wide: the `ckpt` CLI calls it
 * first thing; an application that embeds ckpt decides for itself (`node --max-semi-space-size=1`
 * has the same effect from startup).
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
