/** The one JSON document `--json` writes to stdout: dates as ISO strings, one line, a newline. */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
