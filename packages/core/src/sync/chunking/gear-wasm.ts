import { readFileSync } from 'node:fs';
import { GEAR } from './gear.js';
import type { ChunkParams } from './options.js';

/** Where the scanned bytes start in the module's memory (the gear table is below). */
const BASE = 1024;
/**
 * Bytes copied into the module's memory at once, at most (more only for one chunk's span). 4 MiB
 * cost about 6 MiB more peak RSS per push than 1 MiB, for no gain in time.
 */
const LOAD = 1024 * 1024;
const WASM_PAGE = 65536;

/** The parts of the WebAssembly API used here: Node has it, TypeScript types it only in lib.dom. */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module);
    readonly exports: unknown;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}

let compiled: WebAssembly.Module | undefined;

interface Exports {
  memory: WebAssembly.Memory;
  cutPoint(
    start: number,
    end: number,
    min: number,
    avg: number,
    max: number,
    strict: number,
    loose: number,
  ): number;
}

/**
 * `cutPoint` of cdc.ts, run by gear.wasm: the same cut points, about twice as fast. The module
 * scans its own memory, so the bytes are copied in a stretch at a time (up to 1 MiB of the data up
 * to the next zero run): a copy costs a fraction of what the JavaScript loop would. One instance
 * per thread; {@link begin} before scanning a buffer whose bytes may have changed.
 */
export class WasmGear {
  readonly #exports: Exports;
  #memory: Uint8Array;
  #source: Uint8Array | undefined;
  /** `#source[#from, #to)` is in memory from `BASE` on. */
  #from = 0;
  #to = 0;

  constructor() {
    compiled ??= new WebAssembly.Module(readFileSync(new URL('./gear.wasm', import.meta.url)));
    this.#exports = new WebAssembly.Instance(compiled).exports as Exports;
    new Int32Array(this.#exports.memory.buffer, 0, 256).set(GEAR);
    this.#memory = new Uint8Array(this.#exports.memory.buffer);
  }

  /** Forgets what was copied: the next cut reads `buf` afresh. */
  begin(buf: Uint8Array): void {
    this.#source = buf;
    this.#from = this.#to = 0;
  }

  /**
   * Where the data chunk at `buf[start]` ends, looking no further than `end` (as `cutPoint`).
   * `ahead`: how far the data goes on (the next zero run), so that one copy serves many chunks.
   */
  cutPoint(buf: Uint8Array, start: number, end: number, p: ChunkParams, ahead = end): number {
    if (buf !== this.#source) this.begin(buf);
    if (start < this.#from || end > this.#to) {
      this.#load(start, Math.max(end, Math.min(ahead, buf.length, start + LOAD)));
    }
    const shift = BASE - this.#from;
    const cut = this.#exports.cutPoint(
      start + shift,
      end + shift,
      p.minSize,
      p.avgSize,
      p.maxSize,
      p.maskStrict,
      p.maskLoose,
    );
    return cut - shift;
  }

  /** Copies `#source[from, to)` to `BASE`, growing the memory if it must. */
  #load(from: number, to: number): void {
    const needed = BASE + to - from;
    const { memory } = this.#exports;
    if (needed > memory.buffer.byteLength) {
      memory.grow(Math.ceil((needed - memory.buffer.byteLength) / WASM_PAGE));
      this.#memory = new Uint8Array(memory.buffer);
    }
    this.#memory.set((this.#source as Uint8Array).subarray(from, to), BASE);
    this.#from = from;
    this.#to = to;
  }
}
