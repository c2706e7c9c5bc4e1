/** The console's JSON API: the session cookie travels by itself; every change carries the CSRF token. */
import type { AuditEntry, CabEventView, CabPage, CabView, Operator, OperatorRole, PaymentView, RefundView, SessionInfo } from '../../protocol/console-api.js';

export { roleAllows } from '../../protocol/console-api.js';
export type { AuditEntry, CabPage, Operator, SessionInfo };
export type Role = OperatorRole;
export type Cab = CabView;
export type CabEvent = CabEventView;
export type Payment = PaymentView;
export type Refund = RefundView;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onLoggedOut: (message: string) => void = () => {};

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when the relay says the session is over, wherever that happens. */
export function whenLoggedOut(handler: (message: string) => void): void {
  onLoggedOut = handler;
}

export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/console/api${path}`, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(method === 'GET' ? {} : { 'x-csrf-token': csrfToken }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'unreachable', 'The relay cannot be reached. Check your connection; the page retries when you act again.');
  }
  const text = await res.text();
  let json: { error?: { code?: unknown; message?: unknown } } | null;
  try {
    json = text ? (JSON.parse(text) as typeof json) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const code = (json?.error?.code as string | undefined) ?? 'error';
    const message = (json?.error?.message as string | undefined) ?? `The relay answered ${res.status}.`;
    if (res.status === 401 && path !== '/login' && path !== '/session') onLoggedOut(message);
    throw new ApiError(res.status, code, message);
  }
  return json as T;
}
