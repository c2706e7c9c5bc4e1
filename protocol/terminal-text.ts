/**
 * Text that came from a tablet, a PSP or an operator, made safe to print on a terminal. Control
 * characters (C0, DEL, C1) can move the cursor, clear the screen, set the window title or hide a
 * hyperlink; bidi overrides and line separators reorder or split what the operator reads. Each
 * one is shown as a visible escape (`\x1b`, `\u202e`) instead, so nothing is lost or executed.
 */

/** C0 but tab and newline, DEL, C1, the bidi marks, embeddings, overrides and isolates, U+2028/9. */
const UNSAFE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same plus tab and newline: one value must not break a table row or start a line. */
const UNSAFE_IN_FIELD = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw that a terminal still acts on. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');
const visible = (c: string) => (c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);

/** One value in a line or a table cell (tabs and newlines escaped too). */
export function terminalField(value: unknown): string {
  return String(value).replace(UNSAFE_IN_FIELD, visible);
}

/** A whole block of output: its own tabs and newlines stay. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE_IN_TEXT, visible);
}

/** JSON text with what JSON leaves raw escaped as `\uXXXX` (it parses to the same value). */
export function jsonTerminalSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}

/** JSON (pretty unless `indent` is 0) that parses to the same value and prints no control or bidi character raw. */
export function terminalJson(value: unknown, indent = 2): string {
  return jsonTerminalSafe(JSON.stringify(value, null, indent));
}
