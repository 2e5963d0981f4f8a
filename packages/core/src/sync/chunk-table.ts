/** Bytes of one row: SHA-256 (32), then pack index, offset in the pack and length (u32 LE each). */
const ROW = 44;
const HASH = 32;
/** Bytes of rows `writeJson` encodes at a time: a multiple of 3, so the slices' base64 join without padding. */
const BASE64_SLICE = 3 * 16 * 1024;

/**
 * A manifest's chunk table, packed: one 44-byte row per distinct chunk in one growing buffer,
 * plus an open-addressing index by hash. About 60 bytes per chunk whatever the checkpoint size
 * (an array of JavaScript rows costs ~500), and it serialises as one base64 string, so that a
 * manifest with millions of chunks parses into a handful of objects. Rows are only appended.
 */
export class ChunkTable {
  #bytes: Buffer;
  #count = 0;
  /** Row index + 1 by hash slot (0: empty); built on first lookup, kept up to date after. */
  #slots: Int32Array | undefined;
  readonly #probe = Buffer.alloc(HASH);

  private constructor(bytes: Buffer, count: number) {
    this.#bytes = bytes;
    this.#count = count;
  }

  static empty(): ChunkTable {
    return new ChunkTable(Buffer.alloc(64 * ROW), 0);
  }

  /** Rows from their serialised form; undefined when it is not base64 of whole rows. */
  static fromBase64(text: string): ChunkTable | undefined {
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length % ROW !== 0) return undefined;
    return new ChunkTable(bytes, bytes.length / ROW);
  }

  /** Rows from the JSON tuples of format 1 (`[pack, offset, length, sha256 hex]`). */
  static fromTuples(tuples: readonly (readonly [number, number, number, string])[]): ChunkTable {
    const rows = new ChunkTable(Buffer.alloc(Math.max(1, tuples.length) * ROW), 0);
    for (const [pack, offset, length, hash] of tuples) rows.push(hash, pack, offset, length);
    return rows;
  }

  get count(): number {
    return this.#count;
  }

  hashOf(i: number): string {
    const at = this.#at(i);
    return this.#bytes.toString('hex', at, at + HASH);
  }

  /** True when chunk `i` here and chunk `j` of `other` have the same hash (no string made). */
  sameHash(i: number, other: ChunkTable, j: number): boolean {
    const at = this.#at(i);
    const theirs = other.#at(j);
    return this.#bytes.compare(other.#bytes, theirs, theirs + HASH, at, at + HASH) === 0;
  }

  packOf(i: number): number {
    return this.#bytes.readUInt32LE(this.#at(i) + HASH);
  }

  offsetOf(i: number): number {
    return this.#bytes.readUInt32LE(this.#at(i) + HASH + 4);
  }

  lengthOf(i: number): number {
    return this.#bytes.readUInt32LE(this.#at(i) + HASH + 8);
  }

  /** Sum of all chunk lengths. */
  totalLength(): number {
    let sum = 0;
    for (let i = 0; i < this.#count; i++) sum += this.lengthOf(i);
    return sum;
  }

  /** The row of chunk `hash` (lower-case hex), if any. */
  indexOf(hash: string): number | undefined {
    if (hash.length !== 2 * HASH || this.#probe.write(hash, 'hex') !== HASH) return undefined;
    const slots = this.#index();
    for (let s = this.#slotOf(this.#probe, 0, slots); ; s = (s + 1) & (slots.length - 1)) {
      const row = slots[s]! - 1;
      if (row < 0) return undefined;
      if (this.#probe.compare(this.#bytes, row * ROW, row * ROW + HASH) === 0) return row;
    }
  }

  /**
   * Appends a row and returns its index. Offsets and lengths must fit in 32 bits (packs are far
   * smaller); a hash already present is the caller's to look up first.
   */
  push(hash: string, pack: number, offset: number, length: number): number {
    for (const [name, value] of [
      ['pack', pack],
      ['offset', offset],
      ['length', length],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
        throw new RangeError(`chunk ${name} ${value} does not fit in 32 bits`);
    }
    if ((this.#count + 1) * ROW > this.#bytes.length) {
      const grown = Buffer.alloc(this.#bytes.length * 2);
      this.#bytes.copy(grown, 0, 0, this.#count * ROW);
      this.#bytes = grown;
    }
    const at = this.#count * ROW;
    if (this.#bytes.write(hash, at, HASH, 'hex') !== HASH || hash.length !== 2 * HASH)
      throw new RangeError(`not a SHA-256 in hex: ${hash.slice(0, 80)}`);
    this.#bytes.writeUInt32LE(pack, at + HASH);
    this.#bytes.writeUInt32LE(offset, at + HASH + 4);
    this.#bytes.writeUInt32LE(length, at + HASH + 8);
    const row = this.#count++;
    if (this.#slots) {
      if (this.#count * 2 > this.#slots.length) this.#slots = undefined;
      else this.#insert(this.#slots, row);
    }
    return row;
  }

  /** The serialised form: base64 of the rows (what `JSON.stringify` writes). */
  toJSON(): string {
    return this.#bytes.toString('base64', 0, this.#count * ROW);
  }

  /** Bytes of `JSON.stringify(rows)`: the base64 in quotes. */
  jsonLength(): number {
    return 2 + 4 * Math.ceil((this.#count * ROW) / 3);
  }

  /**
   * Writes `JSON.stringify(rows)` into `target` at `at` and returns the bytes written, encoding a
   * slice of rows at a time: the base64 of a large table never exists as one string.
   */
  writeJson(target: Buffer, at: number): number {
    const end = this.#count * ROW;
    let pos = at;
    target[pos++] = 0x22; // "
    for (let from = 0; from < end; from += BASE64_SLICE) {
      pos += target.write(
        this.#bytes.toString('base64', from, Math.min(end, from + BASE64_SLICE)),
        pos,
        'latin1',
      );
    }
    target[pos++] = 0x22;
    return pos - at;
  }

  #at(i: number): number {
    if (!(i >= 0 && i < this.#count)) throw new RangeError(`no chunk ${i} of ${this.#count}`);
    return i * ROW;
  }

  #index(): Int32Array {
    if (this.#slots) return this.#slots;
    let size = 64;
    while (size < this.#count * 4) size *= 2;
    const slots = new Int32Array(size);
    for (let row = 0; row < this.#count; row++) this.#insert(slots, row);
    this.#slots = slots;
    return slots;
  }

  #insert(slots: Int32Array, row: number): void {
    let s = this.#slotOf(this.#bytes, row * ROW, slots);
    while (slots[s] !== 0) s = (s + 1) & (slots.length - 1);
    slots[s] = row + 1;
  }

  /** Hashes are uniform: their first 4 bytes pick the slot. */
  #slotOf(bytes: Buffer, at: number, slots: Int32Array): number {
    return bytes.readUInt32LE(at) & (slots.length - 1);
  }
}
