/** The console's JSON API: the session cookie travels by itself; every change carries the CSRF token. */
export type Role = 'viewer' | 'operator' | 'admin';

export interface Operator {
  name: string;
  role: Role;
  mustChangePassword: boolean;
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface SessionInfo {
  operator: Operator;
  csrfToken: string;
  expiresAt: string;
}

export interface Cab {
  cabId: string;
  plate: string;
  label: string;
  psp: string;
  enabled: boolean;
  online: boolean;
  lastSeenAt: string | null;
  appVersion: string | null;
  rideState: string | null;
  outboxDepth: number | null;
  backlog: number;
  qrCodes: string[];
  qrContent: string | null;
}

export interface CabEvent {
  seq: number;
  id: string;
  type: string;
  occurredAt: string;
  committedAt: string;
  ackedAt: string | null;
  data: unknown;
}

export interface Payment {
  rideId: string;
  attempt: number;
  psp: string;
  reference: string;
  amount: number;
  tip: number;
  currency: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

export interface Refund {
  refundId: string;
  rideId: string;
  psp: string;
  amount: number;
  currency: string;
  reason: string;
  requestedBy: string;
  status: string;
  requestedAt: string;
  updatedAt: string;
}

export interface CabPage {
  cab: Cab;
  events: CabEvent[];
  payments: Payment[];
  refunds: Refund[];
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: 'ok' | 'refused';
  detail: unknown;
  ip: string | null;
}

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

export const roleAllows = (role: Role, needed: Role) => {
  const order: Role[] = ['viewer', 'operator', 'admin'];
  return order.indexOf(role) >= order.indexOf(needed);
};
