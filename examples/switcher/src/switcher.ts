import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Checkpoints,
  type ProgressEvent,
  type PullResult,
  type PushResult,
  StoreError,
  validateModel,
} from '@ckpt/core';
import type { Operation, SwitcherMetrics } from './metrics.js';

/** What runs the models: checkpoints a running one into a directory, starts one from a checkpoint. */
export interface Runtime {
  /**
   * Checkpoints the running `model` into `dir` (missing when called) and stops it, freeing the GPU:
   * with CRIU, `cuda-checkpoint --toggle --pid P` then `criu dump --tree P --images-dir dir …`.
   */
  dump(model: string, dir: string, signal?: AbortSignal): Promise<void>;
  /** Starts `model` from the checkpoint in `dir` (`criu restore --images-dir dir …`, then the CUDA toggle). */
  restore(model: string, dir: string, signal?: AbortSignal): Promise<void>;
}

export interface SwitcherOptions {
  checkpoints: Checkpoints;
  runtime: Runtime;
  /** Local checkpoint directories: `<root>/<model>`. */
  root: string;
  metrics?: SwitcherMetrics;
}

export interface OperationOptions {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

export interface LoadOptions extends OperationOptions {
  /** A generation to load instead of the latest (to pin a known-good checkpoint, or roll back). */
  generation?: string;
}

/**
 * A model switcher that keeps one model loaded and carries the others' checkpoints in a store, so
 * a model evicted on one machine loads on any other.
 *
 * - `evict()`: checkpoint the loaded model, then push the checkpoint (a new generation, committed
 *   atomically: a cancelled or failed push leaves the store's generations as they were, and the
 *   local checkpoint stays for `push()` to retry).
 * - `load(model)`: pull the latest generation (or a pinned one) into the local directory, then
 *   restore it. A pull over an older local checkpoint copies the chunks it already has.
 * - `switchTo(model)`: both.
 *
 * Every operation takes an AbortSignal and reports progress; `metrics` counts what moved.
 */
export class ModelSwitcher {
  readonly #checkpoints: Checkpoints;
  readonly #runtime: Runtime;
  readonly #root: string;
  readonly #metrics: SwitcherMetrics | undefined;
  #active: string | undefined;
  #busy = false;

  constructor(options: SwitcherOptions) {
    this.#checkpoints = options.checkpoints;
    this.#runtime = options.runtime;
    this.#root = options.root;
    this.#metrics = options.metrics;
  }

  /** The model loaded now. */
  get active(): string | undefined {
    return this.#active;
  }

  /** Where `model`'s local checkpoint lives. */
  dirOf(model: string): string {
    validateModel(model);
    return join(this.#root, model);
  }

  /** Declares `model` loaded by other means (a cold start). */
  started(model: string): void {
    validateModel(model);
    this.#setActive(model);
  }

  /** Checkpoints the loaded model and pushes its checkpoint. */
  async evict(options: OperationOptions = {}): Promise<PushResult> {
    const model = this.#active;
    if (model === undefined)
      throw new StoreError('InvalidArgument', 'no model is loaded', { operation: 'evict', key: '' });
    return this.#exclusive(async () => {
      const dir = this.dirOf(model);
      // CRIU writes a full image set each time: files of the previous checkpoint must not linger
      await rm(dir, { recursive: true, force: true });
      await this.#runtime.dump(model, dir, options.signal);
      this.#setActive(undefined);
      return this.#push(model, options);
    });
  }

  /** Pushes `model`'s local checkpoint again (after an evict whose push failed or was cancelled). */
  push(model: string, options: OperationOptions = {}): Promise<PushResult> {
    return this.#exclusive(() => this.#push(model, options));
  }

  /** Pulls `model`'s latest (or pinned) generation and restores it. */
  async load(model: string, options: LoadOptions = {}): Promise<PullResult> {
    if (this.#active !== undefined)
      throw new StoreError('InvalidArgument', `${this.#active} is loaded: evict it first`, {
        operation: 'load',
        key: model,
      });
    return this.#exclusive(async () => {
      const dir = this.dirOf(model);
      const pulled = await this.#measure('pull', options, (onProgress) =>
        this.#checkpoints.pull(model, dir, {
          signal: options.signal,
          onProgress,
          generation: options.generation,
        }),
      );
      await this.#runtime.restore(model, dir, options.signal);
      this.#setActive(model);
      return pulled;
    });
  }

  /** Evicts the loaded model (if any), then loads `model`. */
  async switchTo(
    model: string,
    options: LoadOptions = {},
  ): Promise<{ pushed?: PushResult; pulled: PullResult }> {
    const pushed = this.#active === undefined ? undefined : await this.evict(options);
    return { pushed, pulled: await this.load(model, options) };
  }

  #push(model: string, options: OperationOptions): Promise<PushResult> {
    return this.#measure('push', options, (onProgress) =>
      this.#checkpoints.push(model, this.dirOf(model), { signal: options.signal, onProgress }),
    );
  }

  async #measure<T extends PushResult | PullResult>(
    op: Operation,
    options: OperationOptions,
    run: (onProgress: (event: ProgressEvent) => void) => Promise<T>,
  ): Promise<T> {
    const metrics = this.#metrics;
    const started = performance.now();
    metrics?.started(op);
    const onProgress = (event: ProgressEvent) => {
      metrics?.progress(op, event.phase, event.bytesDone, event.bytesTotal);
      options.onProgress?.(event);
    };
    try {
      const result = await run(onProgress);
      metrics?.finished(op, 'ok', (performance.now() - started) / 1000, result);
      return result;
    } catch (error) {
      const aborted = StoreError.is(error, 'Aborted') || options.signal?.aborted === true;
      metrics?.finished(op, aborted ? 'aborted' : 'error', (performance.now() - started) / 1000);
      throw error;
    }
  }

  async #exclusive<T>(run: () => Promise<T>): Promise<T> {
    if (this.#busy)
      throw new StoreError('Conflict', 'another operation of this switcher is running', {
        operation: 'switch',
        key: this.#active ?? '',
      });
    this.#busy = true;
    try {
      return await run();
    } finally {
      this.#busy = false;
    }
  }

  #setActive(model: string | undefined): void {
    this.#active = model;
    if (this.#metrics) this.#metrics.activeModel = model;
  }
}
