/**
 * Characters that must never reach a terminal raw: C0 controls (ESC starts the sequences that
 * recolour, retitle, move the cursor or, on some terminals, write files), DEL, C1 controls (U+009B
 * is a one-character CSI), line and paragraph separators, and the invisible characters that reorder
 * or hide text (zero-width, bidi marks, embeddings, overrides and isolates, the BOM).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/**
 * `text` safe to print on a terminal: each unsafe character (see above) becomes a visible escape,
 * `\x1b` or `\u{202e}`. Everything else, backslashes included, is kept, so escaping twice changes
 * nothing. Applied to every human line `ckpt` prints: labels, model names, keys, paths and error
 * messages come from the store or the command line.
 */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u{${hex(c, 4)}}`));
}

/**
 * A JSON text with the unsafe characters `JSON.stringify` leaves raw (DEL, C1 controls, the
 * invisible ones above; it escapes C0 itself) written as `\uXXXX`: the same JSON value, safe on a
 * terminal. They can only occur inside strings, where `\uXXXX` is their JSON escape.
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE, (c) => `\\u${hex(c, 4)}`);
}
