/**
 * Zod errors in words, the same way everywhere: each issue as `where: what was wrong`. Relay,
 * kiosk, sandbox and tools all refuse bad input through these two functions.
 */
import type { z } from 'zod';

export interface ZodIssueWording {
  /** Names the whole input, for issues without a path: `(body)` for an HTTP body. Empty: the message alone. */
  root?: string;
  /** Names a path, e.g. as a command-line flag; by default its keys joined with dots. */
  name?: (path: readonly PropertyKey[]) => string;
  /** At most this many issues (input from outside can carry thousands); the rest are counted. */
  limit?: number;
}

export interface ZodIssueWords {
  where: string;
  message: string;
}

const dotted = (path: readonly PropertyKey[]): string => path.map(String).join('.');

/** The issues as `where`/`message` pairs, for bodies that list the fields (a PSP's problem details). */
export function zodIssueList(error: z.ZodError, { root = '(root)', name = dotted, limit = Infinity }: ZodIssueWording = {}): ZodIssueWords[] {
  return error.issues.slice(0, limit).map((issue) => ({ where: issue.path.length ? name(issue.path) : root, message: issue.message }));
}

/** One line: `amount: Too small: expected number to be >0; currency: Invalid input` (`; and 3 more` past the limit). */
export function zodIssuesText(error: z.ZodError, wording: ZodIssueWording = {}): string {
  const parts = zodIssueList(error, wording).map(({ where, message }) => (where ? `${where}: ${message}` : message));
  const more = error.issues.length - parts.length;
  if (more > 0) parts.push(`and ${more} more`);
  return parts.join('; ');
}
