/**
 * What to give `utimes` for a manifest's time (milliseconds, kept to the microsecond, as a push
 * reads it): that time plus half a microsecond, in seconds. Node hands times to the system as a
 * double of seconds, which at today's dates is off by up to a quarter of a microsecond, and Node
 * 22 keeps only whole microseconds: `237.123 ms` could read back as `237.122999`, one microsecond
 * (and, floored, one millisecond) early. Half a microsecond later reads back as itself.
 */
export function fileTime(mtimeMs: number): number {
  return (mtimeMs + 0.0005) / 1000;
}
