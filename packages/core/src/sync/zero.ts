const ZEROS = Buffer.alloc(64 * 1024);

/** True when every byte of `data` is zero (memcmp against a zero page, ~GB/s). */
export function isAllZero(data: Uint8Array): boolean {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < buf.length; at += ZEROS.length) {
    const end = Math.min(at + ZEROS.length, buf.length);
    if (!buf.subarray(at, end).equals(ZEROS.subarray(0, end - at))) return false;
  }
  return true;
}
