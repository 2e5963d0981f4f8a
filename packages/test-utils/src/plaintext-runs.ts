/** The run length the encryption tests look for. */
const RUN = 64;
const WINDOW = RUN / 2;

/**
 * How many places of `stored` hold a run of {@link RUN} bytes of any of `plain`: every such run
 * covers a whole 32-byte window of its file at a multiple of 32, so each stored offset is looked
 * up among those windows (all-zero windows left out: zero runs are never stored, and 32 zero
 * bytes of ciphertext do not happen). Found windows are then checked at full length.
 */
export function plaintextRuns(plain: Uint8Array[], stored: Uint8Array[]): number {
  const windows = new Map<string, { file: Buffer; at: number }[]>();
  const heads = new Set<number>();
  for (const file of plain) {
    const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
    for (let at = 0; at + WINDOW <= bytes.length; at += WINDOW) {
      const window = bytes.subarray(at, at + WINDOW);
      if (window.every((b) => b === 0)) continue;
      const key = window.toString('latin1');
      windows.set(key, [...(windows.get(key) ?? []), { file: bytes, at }]);
      heads.add(window.readUInt32LE(0));
    }
  }
  let found = 0;
  for (const object of stored) {
    const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
    for (let i = 0; i + WINDOW <= bytes.length; i++) {
      if (!heads.has(bytes.readUInt32LE(i))) continue;
      const hits = windows.get(bytes.toString('latin1', i, i + WINDOW));
      if (hits?.some((hit) => coversRun(hit.file, hit.at, bytes, i))) found++;
    }
  }
  return found;
}

/** True when the window at `at` of `file` and at `i` of `bytes` extend, together, to a common run of RUN bytes. */
function coversRun(file: Buffer, at: number, bytes: Buffer, i: number): boolean {
  let before = 0;
  while (before < RUN && at - before > 0 && i - before > 0 && file[at - before - 1] === bytes[i - before - 1])
    before++;
  let after = WINDOW;
  while (
    after < RUN &&
    at + after < file.length &&
    i + after < bytes.length &&
    file[at + after] === bytes[i + after]
  )
    after++;
  return before + after >= RUN;
}
