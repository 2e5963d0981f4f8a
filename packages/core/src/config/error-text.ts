/** The message of an error (or the text of anything else thrown), for a one-line error detail. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
