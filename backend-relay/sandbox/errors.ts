/** Hips-style errors: every failure answers `{"error": {"type", "message"}}` with its status. */
import type { z } from 'zod';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'idempotency_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'service_unavailable_error';

export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
  }

  toBody(): { error: { type: string; message: string } } {
    return { error: { type: this.type, message: this.message } };
  }
}

export const badRequest = (message: string) => new SandboxError(400, 'invalid_request_error', message);
export const unauthorized = (message: string) => new SandboxError(401, 'authentication_error', message);
export const notFound = (message: string) => new SandboxError(404, 'not_found_error', message);
export const conflict = (message: string) => new SandboxError(409, 'conflict_error', message);

/** Parses untrusted input or throws a 400 that names each bad field and what it must be. */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = zodIssuesText(result.error, { root: '(body)' });
  throw badRequest(`Invalid ${what}: ${problems}.`);
}
