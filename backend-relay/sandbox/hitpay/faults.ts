/**
 * Injected HitPay failures for tests: `POST /sandbox/hitpay/faults` adds, `DELETE` clears.
 * In memory on purpose (a restart clears them), like the Hips faults.
 */
import { z } from 'zod';
import { LateAnswers, lateAnswersRequest } from '../late-answers.js';
import { LostPayments, lostPaymentsRequest } from '../lost-payments.js';

const count = z.number().int().min(0).max(1000);

export const hitpayFaultsRequest = z.strictObject({
  /** The next n delivery attempts fail without being sent (each retry consumes one). */
  failWebhooks: count.optional(),
  /** Send each of the next n webhooks twice (the copy after the first was accepted). */
  duplicateWebhooks: count.optional(),
  /** Wait this long before each delivery attempt (0 turns it off). */
  webhookDelayMs: z.number().int().min(0).max(120_000).optional(),
  /** The next n webhooks report `amount` plus tamperAmountMinor (still correctly signed). */
  tamperWebhookAmount: count.optional(),
  /** How much the tamper fault adds, in minor units (default 100; may be negative, never below 0 overall). */
  tamperAmountMinor: z
    .number()
    .int()
    .min(-100_000_000)
    .max(100_000_000)
    .refine((n) => n !== 0, 'not 0')
    .optional(),
  /** Answer the next n create calls with 503. */
  createRequest503: count.optional(),
  /** Answer the next n create calls with 500. */
  createRequest500: count.optional(),
  /** Hang the next n create calls for createRequestHangMs, then process them (or drop the socket). */
  createRequestTimeout: count.optional(),
  createRequestHangMs: z.number().int().min(0).max(600_000).optional(),
  createRequestAfterHang: z.enum(['process', 'drop']).optional(),
  ...lostPaymentsRequest,
  ...lateAnswersRequest,
});
export type HitpayFaultsRequest = z.infer<typeof hitpayFaultsRequest>;

type Counted = 'failWebhooks' | 'duplicateWebhooks' | 'tamperWebhookAmount' | 'createRequest503' | 'createRequest500';

export class HitpayFaults {
  private state = HitpayFaults.empty();
  /** Payment requests whose every hook is dropped (by request id). */
  readonly lost = new LostPayments();
  /** Refunds and captures booked at once but answered after the relay's timeout. */
  readonly late = new LateAnswers();

  private static empty() {
    return {
      failWebhooks: 0,
      duplicateWebhooks: 0,
      webhookDelayMs: 0,
      tamperWebhookAmount: 0,
      tamperAmountMinor: 100,
      createRequest503: 0,
      createRequest500: 0,
      createRequestTimeout: 0,
      createRequestHangMs: 15_000,
      createRequestAfterHang: 'process' as 'process' | 'drop',
    };
  }

  add(req: HitpayFaultsRequest): void {
    const s = this.state;
    s.failWebhooks += req.failWebhooks ?? 0;
    s.duplicateWebhooks += req.duplicateWebhooks ?? 0;
    s.tamperWebhookAmount += req.tamperWebhookAmount ?? 0;
    s.createRequest503 += req.createRequest503 ?? 0;
    s.createRequest500 += req.createRequest500 ?? 0;
    s.createRequestTimeout += req.createRequestTimeout ?? 0;
    if (req.webhookDelayMs !== undefined) s.webhookDelayMs = req.webhookDelayMs;
    if (req.tamperAmountMinor !== undefined) s.tamperAmountMinor = req.tamperAmountMinor;
    if (req.createRequestHangMs !== undefined) s.createRequestHangMs = req.createRequestHangMs;
    if (req.createRequestAfterHang !== undefined) s.createRequestAfterHang = req.createRequestAfterHang;
    this.lost.add(req);
    this.late.add(req);
  }

  clear(): void {
    this.state = HitpayFaults.empty();
    this.lost.clear();
    this.late.clear();
  }

  snapshot() {
    return { ...this.state, ...this.lost.snapshot(), ...this.late.snapshot() };
  }

  get webhookDelayMs(): number {
    return this.state.webhookDelayMs;
  }
  get tamperAmountMinor(): number {
    return this.state.tamperAmountMinor;
  }

  /** Consumes one unit of a counted fault; true when it applies to this call. */
  take(name: Counted): boolean {
    if (this.state[name] <= 0) return false;
    this.state[name] -= 1;
    return true;
  }

  takeCreateHang(): { hangMs: number; then: 'process' | 'drop' } | null {
    if (this.state.createRequestTimeout <= 0) return null;
    this.state.createRequestTimeout -= 1;
    return { hangMs: this.state.createRequestHangMs, then: this.state.createRequestAfterHang };
  }
}
