/** Chunking small enough that the test trees have many chunks and several packs. */
export const SMALL_CHUNKING = {
  minSize: 16 * 1024,
  avgSize: 64 * 1024,
  maxSize: 256 * 1024,
  zeroRunMin: 64 * 1024,
};
