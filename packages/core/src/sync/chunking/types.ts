/**
 * Parameters of content-defined chunking. Together with the gear table (`GEAR_SEED`) they
 * fix where chunk boundaries fall, so they are part of the on-store format: a manifest should
 * record them, and two generations deduplicate against each other only when they match.
 */
export interface ChunkingOptions {
  /** Smallest data chunk in bytes (only the last chunk of a data region may be shorter). */
  minSize: number;
  /**
   * Target chunk size in bytes, a power of two. Below it a boundary needs a stricter hash match,
   * above it a looser one (normalized chunking), so most chunks end near `avgSize`.
   */
  avgSize: number;
  /** Largest data chunk in bytes: a chunk that found no boundary is cut here. */
  maxSize: number;
  /**
   * Shortest run of all-zero 4 KiB pages (bytes, a multiple of 4096, counted from file offset 0)
   * that becomes a zero extent. Shorter zero runs stay inside data chunks.
   */
  zeroRunMin: number;
}

/**
 * One extent of a file. The extents of a file cover it exactly, in order, without gaps.
 *
 * - A **zero extent** (`hash: null`) is a maximal run of all-zero pages of at least
 *   `zeroRunMin` bytes. It is never stored and has no length cap (a 40 GB hole is one extent).
 * - A **data chunk** (`hash` set) is named by the SHA-256 of its bytes.
 */
export interface Chunk {
  /** Byte offset in the file. */
  offset: number;
  /** Length in bytes (> 0). */
  length: number;
  /** Lower-case hex SHA-256 of the bytes, or `null` for an all-zero run. */
  hash: string | null;
  /**
   * The bytes, when requested (never for zero extents). It may be a view into a larger buffer
   * shared with neighbouring chunks: copy it to keep it long after the chunk is consumed.
   */
  data?: Uint8Array;
}
