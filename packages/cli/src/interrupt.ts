import { StoreError } from '@ckpt/core';

/** What {@link trapInterrupts} hands back: the signal to pass on, and the exit code once it fired. */
export interface InterruptTrap {
  readonly signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM; undefined while not interrupted. */
  readonly exitCode: number | undefined;
  /** Restores the default signal behaviour. */
  dispose(): void;
}

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * The first SIGINT/SIGTERM aborts the running operation through the returned signal, so the engine
 * can clean up (nothing half-written stays visible); a second one exits at once.
 */
export function trapInterrupts(onInterrupt: (message: string) => void): InterruptTrap {
  const controller = new AbortController();
  let exitCode: number | undefined;
  const handler = (name: keyof typeof EXIT_CODES) => {
    if (exitCode !== undefined) process.exit(exitCode);
    exitCode = EXIT_CODES[name];
    onInterrupt(`interrupted (${name}): cleaning up; press Ctrl-C again to quit at once`);
    controller.abort(new StoreError('Aborted', `interrupted by ${name}`));
  };
  for (const name of Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]) process.on(name, handler);
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode;
    },
    dispose() {
      for (const name of Object.keys(EXIT_CODES)) process.off(name, handler);
    },
  };
}
