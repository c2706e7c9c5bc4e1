/**
 * One interface for every PSP: an adapter verifies a webhook and maps its verified content to
 * one relay event plus a route. Everything after that (routing, commit, delivery) is shared.
 */
import type { PaymentFailureCode, PspName, RelayEventData, RelayEventType } from '../../protocol/relay-protocol.js';
import type { PaymentProvider } from '../payments/payment-provider.js';

/** How to find the cab, taken only from verified content. */
export type HookRoute =
  | { by: 'qrCode'; qrCode: string }
  | { by: 'merchantOrderId'; merchantOrderId: string }
  /** A relay-made payment, found by the PSP's reference in the relay's payments table. */
  | { by: 'payment'; pspReference: string };

/** A webhook as received: the raw bytes for body HMACs, and what signatures cover. */
export interface WebhookRequest {
  /** Exactly the bytes received (Vipps hashes them; HitPay's JSON hooks sign them). */
  rawBody: Buffer;
  /** Parsed by content type: JSON, or `application/x-www-form-urlencoded` as Record<string, string>. */
  body: unknown;
  /** Lower-case header names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  method: string;
  /** Path and query exactly as requested, e.g. `/webhooks/vipps?a=1`. */
  pathAndQuery: string;
}

/**
 * What a relay-made payment's hook says, normalised. The payment service applies it to the
 * payment's row in one transaction and decides the tablet's events (order.paid after capture,
 * order.failed with a code) and the follow-up calls (capture, cancel).
 */
export interface PaymentUpdate {
  pspReference: string;
  status: 'authorized' | 'captured' | 'completed' | 'failed' | 'expired' | 'canceled' | 'refunded';
  /** The amount the PSP reports for this status, checked against what was requested. */
  amount?: { value: number; currency: string };
  failureCode?: PaymentFailureCode;
  /** The PSP's words, kept for the driver and the logs. */
  reason?: string;
  /** The PSP's id of the money movement (HitPay payment_id), for order.paid's pspOrderId. */
  pspPaymentId?: string;
  /** The merchant reference the PSP echoes (HitPay reference_number), checked against the attempt's. */
  reference?: string;
}

/** A Vipps check-in: the secret the relay keeps so that the tablet never sees it. */
export interface CheckIn {
  sessionId: string;
  customerToken: string;
  merchantQrId: string;
  expiresAt: string;
}

export type MappedEvent = { [T in RelayEventType]: { type: T; data: RelayEventData<T> } }[RelayEventType];

export type HookVerdict =
  /** Unverifiable: nothing is stored, the caller answers 401. */
  | { verdict: 'unauthenticated'; message: string }
  /** Not the shape the hook needs: 400 with the message. */
  | { verdict: 'malformed'; message: string }
  | {
      verdict: 'verified';
      /** Unique per PSP; a retry with the same key is a duplicate. */
      dedupeKey: string;
      route: HookRoute;
      /** What the cab gets; null when the payment service decides (paymentUpdate) or nothing is due. */
      event: MappedEvent | null;
      /** Relay-made payments: applied by the payment service after routing. */
      paymentUpdate?: PaymentUpdate;
      /** Vipps check-in: stored before `event` (qr.session.started) is committed. */
      checkIn?: CheckIn;
      /** A session start for a cab that cannot serve it is refused at once (Hips: 412). */
      needsLiveCab: boolean;
      /** Kept for reconciliation when the route leads nowhere; secrets already removed. */
      auditData: unknown;
    };

export interface WebhookEndpoint {
  /** For metrics and logs, e.g. 'qr' or 'order'. */
  kind: string;
  /** Mounted under the relay, e.g. /webhooks/hips/qr. */
  path: string;
  verify(request: WebhookRequest, now: Date): Promise<HookVerdict>;
  /** The body of the refusal when `needsLiveCab` and the cab is down (412). */
  downResponse?(text: string): unknown;
}

export interface PspAdapter {
  name: PspName;
  webhooks: WebhookEndpoint[];
  /** The calls the relay makes to this PSP (payments, refunds); absent when not configured. */
  provider?: PaymentProvider;
  /**
   * Called when a cab of this PSP is registered or changed (PUT /admin/cabs): Vipps creates or
   * updates the merchant-callback QR of each of the cab's qrCodes (merchantQrIds), Hips connects
   * each static QR to the relay (online while the cab is enabled); both return the first QR's
   * `qrContent`, which the admin answer and the tablet's config carry. Throws when the PSP could
   * not do it, with words for the admin.
   */
  provisionCab?(cab: { cabId: string; plate: string; qrCodes: string[]; enabled?: boolean }): Promise<{ qrContent: string | null }>;
  /** QR codes a cab gave up or a deleted cab had: taken out of use at the PSP (Hips: offline). */
  retireQrCodes?(qrCodes: string[]): Promise<void>;
  /** Once at start, after listen (Vipps: register the webhook and keep its secret). */
  start?(relayPublicUrl: string): Promise<void>;
  /** At close, before the store closes: background work (registration retries) ends. */
  stop?(): void;
}
