/**
 * The fleet console's JSON shapes, as the relay answers them under `/console/api` and the console
 * app reads them: operators and their roles, sessions, the audit log, and a cab's page.
 */
export const OPERATOR_ROLES = ['viewer', 'operator', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** Whether `role` may do what `needed` allows (admin ⊇ operator ⊇ viewer). */
export function roleAllows(role: OperatorRole, needed: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(needed);
}

export interface Operator {
  name: string;
  role: OperatorRole;
  mustChangePassword: boolean;
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

/** `GET /console/api/session`: who is logged in, the CSRF token every change carries, and when the session ends. */
export interface SessionInfo {
  operator: Operator;
  csrfToken: string;
  expiresAt: string;
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

/** A cab as the fleet list shows it: its registry row and live state. */
export interface CabView {
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

export interface CabEventView {
  seq: number;
  id: string;
  type: string;
  occurredAt: string;
  committedAt: string;
  ackedAt: string | null;
  data: unknown;
}

export interface PaymentView {
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

export interface RefundView {
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

/** `GET /console/api/cabs/:cabId`: a cab with what the relay knows of its recent events and money. */
export interface CabPage {
  cab: CabView;
  events: CabEventView[];
  payments: PaymentView[];
  refunds: RefundView[];
}
