import { escapeTerminal } from './escape.js';

/**
 * Left-aligned columns separated by two spaces; the first row is the header. Cells are escaped
 * here (see `escape.ts`) so that columns line up with what the terminal shows.
 */
export function formatTable(cells: string[][]): string[] {
  const rows = cells.map((row) => row.map(escapeTerminal));
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `2026-03-01T12:34:56Z`: UTC to the second. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
