/** The kiosk's stored records, as the store reads and writes them. */
import type { PspName, OrderLine, RideStateName } from '../../protocol/relay-protocol.js';
import type { SessionView } from '../../protocol/kiosk-api.js';

export type OrderStatus = 'none' | 'queued' | 'created';
export type Failure = { code: string; message: string };

export interface Ride {
  rideId: string;
  merchantOrderId: string;
  state: Exclude<RideStateName, 'idle'>;
  startedAt: string;
  endedAt: string | null;
  currency: string;
  lines: OrderLine[];
  order: OrderStatus;
  /** Create-order attempts so far; attempt n > 1 uses the Idempotency-Key `<rideId>.<n>`. */
  attempt: number;
  /** The session the current attempt's order is (or will be) created in. */
  sessionId: string | null;
  pspOrderId: string | null;
  failure: Failure | null;
}

export type SessionState = SessionView['state'];

export interface Session {
  sessionId: string;
  psp: PspName;
  qrCode: string;
  allowTip: boolean;
  oneTimeOrderApiKey: string | null;
  startedAt: string;
  expiresAt: string;
  state: SessionState;
  /** The ride whose order uses this session, once bound. */
  rideId: string | null;
}

/** What the outbox must send: PSP-neutral, turned into the wire format by the PSP adapter. */
export interface CreateOrderJob {
  rideId: string;
  merchantOrderId: string;
  currency: string;
  lines: OrderLine[];
  sessionId: string;
  idempotencyKey: string;
}

export interface OutboxEntry {
  id: number;
  rideId: string;
  kind: 'create_order';
  job: CreateOrderJob;
  tries: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
}

export interface PaymentRecord {
  rideId: string;
  /** 'psp' when confirmed by the PSP, 'other' when the driver took payment another way. */
  method: 'psp' | 'other';
  pspOrderId: string | null;
  orderAmount: number;
  tipAmount: number;
  totalAmount: number;
  currency: string;
  paidAt: string;
}

export function orderAmountOf(lines: OrderLine[]): number {
  return lines.reduce((sum, line) => sum + line.amount, 0);
}

export function idempotencyKeyFor(rideId: string, attempt: number): string {
  return attempt <= 1 ? rideId : `${rideId}.${attempt}`;
}
