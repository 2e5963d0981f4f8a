import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

const setFlagsFromString = vi.fn();
vi.mock('node:v8', () => ({ setFlagsFromString }));
const { keepYoungGenerationSmall, workerThreadStarted } = await import('../src/process-memory.js');

beforeEach(() => {
  vi.useFakeTimers();
  setFlagsFromString.mockClear();
});
afterEach(() => {
  vi.useRealTimers();
});

const fakeWorker = () => new EventEmitter() as unknown as Worker;

it('sets the flag every millisecond while a worker thread starts, and stops once it is online', () => {
  workerThreadStarted(fakeWorker()); // before keepYoungGenerationSmall: nothing to keep
  vi.advanceTimersByTime(50);
  expect(setFlagsFromString).not.toHaveBeenCalled();

  keepYoungGenerationSmall();
  expect(setFlagsFromString).toHaveBeenLastCalledWith('--semi-space-growth-factor=1');
  vi.advanceTimersByTime(50);
  const regular = setFlagsFromString.mock.calls.length; // 1 + one every 10 ms
  expect(regular).toBe(6);

  const worker = fakeWorker();
  setFlagsFromString.mockClear();
  workerThreadStarted(worker);
  vi.advanceTimersByTime(20);
  expect(setFlagsFromString.mock.calls.length).toBe(20 + 2); // every ms, and the regular two
  worker.emit('online');
  setFlagsFromString.mockClear();
  vi.advanceTimersByTime(50);
  expect(setFlagsFromString.mock.calls.length).toBe(5); // the regular ones only
});
