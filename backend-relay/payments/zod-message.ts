/** A zod error as one line for an ack: `<what> rejected: path: message; …`. */
import type { z } from 'zod';

export function zodMessage(what: string, error: z.ZodError): string {
  const detail = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return `${what} rejected: ${detail}`;
}
