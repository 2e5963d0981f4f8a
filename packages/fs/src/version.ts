import type { BigIntStats } from 'node:fs';
import type { ObjectMeta } from '@ckpt/core';

/**
 * The version token of a stored file: inode, modification time (ns) and size, in base 36.
 *
 * Every put writes a new file (new inode while the old one is still linked) and stamps it with
 * {@link nextModifiedTime}, which increases strictly per key and within a process, so a token never
 * comes back after the object changed, even when the filesystem reuses a freed inode. Needs a
 * filesystem with sub-second timestamps (ext4, xfs, btrfs, tmpfs, apfs): on one with whole-second
 * timestamps two same-size puts in one second could share a token.
 */
export function versionOf(stat: BigIntStats): string {
  return `${stat.ino.toString(36)}.${stat.mtimeNs.toString(36)}.${stat.size.toString(36)}`;
}

let lastIssuedUs = 0n;

/**
 * The modification time (in seconds, µs precision) for a file about to replace `current`: now,
 * but strictly later than `current`'s time and than any time this process issued before.
 */
export function nextModifiedTime(current: BigIntStats | undefined): number {
  // wall-clock ms, with the µs digits taken from the monotonic clock
  const nowUs = BigInt(Date.now()) * 1000n + ((process.hrtime.bigint() / 1000n) % 1000n);
  let next = nowUs > lastIssuedUs ? nowUs : lastIssuedUs + 1n;
  // futimes truncates to whole µs and the double may round down by one: stay 2 µs clear
  if (current && next < current.mtimeNs / 1000n + 2n) next = current.mtimeNs / 1000n + 2n;
  lastIssuedUs = next;
  return (Number(next) + 0.5) / 1e6;
}

/** What the stat of a stored file says about its object. */
export function objectMeta(key: string, stat: BigIntStats): ObjectMeta {
  return {
    key,
    size: Number(stat.size),
    version: versionOf(stat),
    lastModified: new Date(Number(stat.mtimeNs / 1_000_000n)),
  };
}
