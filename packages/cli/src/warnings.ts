/**
 * Routes process warnings (deprecations, SDK notices) to `log` as one line each instead of Node's
 * multi-line default, so stderr keeps its one-line-per-error contract. Returns a function that
 * restores the previous listeners.
 */
export function routeWarnings(log: (message: string) => void): () => void {
  const previous = process.listeners('warning');
  process.removeAllListeners('warning');
  const listener = (warning: Error) => log(`warning: ${warning.message.replace(/\s+/g, ' ')}`);
  process.on('warning', listener);
  return () => {
    process.off('warning', listener);
    for (const restored of previous) process.on('warning', restored);
  };
}
