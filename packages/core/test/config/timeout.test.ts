// The one request timeout: `openStore`'s `timeoutMs` reaches the backend's `open`, and wins over
// the config's `timeout`; `timeout()` and `durationText` read and write the same durations.
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  type BackendDefinition,
  type BackendOpenOptions,
  BackendRegistry,
  openStore,
  requestTimeoutMs,
  timeout,
} from '../../src/config/index.js';
import { durationText } from '../../src/duration.js';
import { timeoutError } from '../../src/errors.js';
import { MemoryBackend } from '../../src/memory-store.js';
import { storeErrorOf } from './helpers.js';

/** A backend that records the timeout it was opened with. */
function recordingRegistry(opened: (number | undefined)[]): BackendRegistry {
  const definition: BackendDefinition<{ type: 'net'; timeout?: string | undefined }> = {
    type: 'net',
    schema: z.strictObject({ type: z.literal('net'), timeout: timeout() }),
    schemes: ['net'],
    fromUrl: (url) => ({
      type: 'net',
      ...(url.searchParams.has('timeout') ? { timeout: url.searchParams.get('timeout') } : {}),
    }),
    open: (config, options?: BackendOpenOptions) => {
      opened.push(requestTimeoutMs(config, options));
      return new MemoryBackend('net://x');
    },
  };
  const registry = new BackendRegistry();
  registry.register(definition);
  return registry;
}

describe('the request timeout', () => {
  test("openStore's timeoutMs wins over the config's timeout; without either the backend keeps its default", async () => {
    const opened: (number | undefined)[] = [];
    const registry = recordingRegistry(opened);
    await openStore('net://x?timeout=1d', { registry, timeoutMs: 2000 });
    await openStore('net://x?timeout=90s', { registry });
    await openStore({ type: 'net' }, { registry });
    expect(opened).toEqual([2000, 90_000, undefined]);
  });

  test.each([0, -1, 1.5, 86_400_001])('openStore refuses timeoutMs %s', async (timeoutMs) => {
    const error = await storeErrorOf(() =>
      openStore({ type: 'net' }, { registry: recordingRegistry([]), timeoutMs }),
    );
    expect(error).toMatchObject({ code: 'InvalidArgument' });
    expect(error.message).toBe('openStore: timeoutMs must be an integer from 1 to 86400000');
  });

  test.each(['0', '0s', '2d', '30', 'soon'])(
    'a config timeout of %j is refused, naming the field',
    async (value) => {
      const error = await storeErrorOf(() =>
        openStore({ type: 'net', timeout: value }, { registry: recordingRegistry([]) }),
      );
      expect(error.message).toBe(
        'config store.timeout: expected a duration from 1ms to 1d such as "30s" or "2m"',
      );
    },
  );

  test('its expiry reads alike in every backend, in the units a user writes', () => {
    expect([2000, 1500, 90_000, 3_600_000, 86_400_000].map(durationText)).toEqual([
      '2s',
      '1500ms',
      '90s',
      '1h',
      '1d',
    ]);
    const error = timeoutError(2000, { operation: 'get', key: 'k' });
    expect(error).toMatchObject({ code: 'Unavailable', retryable: true });
    expect(error.message).toBe('get k: no answer within the 2s timeout');
  });
});
