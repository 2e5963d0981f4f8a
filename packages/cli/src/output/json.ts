import { escapeJsonText } from './escape.js';

/**
 * The one JSON document `--json` writes to stdout: dates as ISO strings, one line, a newline, and
 * no character a terminal would act on (see `escape.ts`).
 */
export function jsonLine(value: unknown): string {
  return `${escapeJsonText(JSON.stringify(value))}\n`;
}
