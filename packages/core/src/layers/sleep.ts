import { abortError } from '../errors.js';

/** Waits `ms` milliseconds; rejects with an `Aborted` StoreError as soon as `signal` fires. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real {@link Sleep}: a timer that an `AbortSignal` cancels at once. */
export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const early = abortError(signal, 'sleep');
    if (early) return reject(early);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal, 'sleep'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
