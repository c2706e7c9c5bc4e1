/**
 * JSON from outside the relay (webhook bodies, verified JWT claims) is parsed only when it nests
 * no deeper than any PSP sends. Deep nesting costs nothing to send but breaks whatever walks the
 * value later by recursion (the structured clone to the writer thread, JSON.stringify, logging).
 */

/** The deepest a PSP's JSON goes is about 5 levels; this leaves room and stays far from any stack limit. */
export const MAX_JSON_DEPTH = 32;

export type BoundedJson = { ok: true; value: unknown } | { ok: false; error: { code: 'too_deep' | 'malformed'; message: string } };

/** True when no array or object in `text` is nested deeper than `maxDepth` (strings are skipped). */
export function jsonDepthWithin(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return false;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return true;
}

/** JSON.parse, refusing anything nested deeper than `maxDepth` before it is parsed. */
export function parseBoundedJson(text: string, maxDepth = MAX_JSON_DEPTH): BoundedJson {
  if (!jsonDepthWithin(text, maxDepth)) {
    return { ok: false, error: { code: 'too_deep', message: `the JSON is nested deeper than ${maxDepth} levels; no payment provider sends that` } };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: { code: 'malformed', message: `not valid JSON (${(err as Error).message})` } };
  }
}
