/**
 * Injected Vipps failures for tests (`POST /sandbox/vipps/faults` adds, `DELETE` clears).
 * In memory on purpose: a restart clears them.
 */
import { z } from 'zod';
import { LateAnswers, lateAnswersRequest } from '../late-answers.js';
import { LostPayments, lostPaymentsRequest } from '../lost-payments.js';

const count = z.number().int().min(0).max(1000);

export const vippsFaultsRequest = z.strictObject({
  /** The next n delivery attempts fail without being sent (they are retried). */
  failWebhooks: count.optional(),
  /** Send each of the next n deliveries twice (the copy after the first was accepted). */
  duplicateWebhooks: count.optional(),
  /** Wait this long before each delivery attempt (0 turns it off). */
  webhookDelayMs: z.number().int().min(0).max(120_000).optional(),
  /** Answer the next n create-payment calls with 500 (nothing is created). */
  createPayment500: count.optional(),
  /** Answer the next n create-payment calls with 503 (nothing is created). */
  createPayment503: count.optional(),
  /** Hang the next n create-payment calls for createPaymentHangMs, then process them or drop the socket. */
  createPaymentTimeout: count.optional(),
  createPaymentHangMs: z.number().int().min(0).max(600_000).optional(),
  createPaymentAfterHang: z.enum(['process', 'drop']).optional(),
  ...lostPaymentsRequest,
  ...lateAnswersRequest,
});
export type VippsFaultsRequest = z.infer<typeof vippsFaultsRequest>;

type Counted = 'failWebhooks' | 'duplicateWebhooks' | 'createPayment500' | 'createPayment503';

export class VippsFaults {
  private state = VippsFaults.empty();
  /** Payments whose every ePayment hook is dropped (by reference). */
  readonly lost = new LostPayments();
  /** Refunds and captures booked at once but answered after the relay's timeout. */
  readonly late = new LateAnswers();

  private static empty() {
    return {
      failWebhooks: 0,
      duplicateWebhooks: 0,
      webhookDelayMs: 0,
      createPayment500: 0,
      createPayment503: 0,
      createPaymentTimeout: 0,
      createPaymentHangMs: 15_000,
      createPaymentAfterHang: 'process' as 'process' | 'drop',
    };
  }

  add(req: VippsFaultsRequest): void {
    const s = this.state;
    s.failWebhooks += req.failWebhooks ?? 0;
    s.duplicateWebhooks += req.duplicateWebhooks ?? 0;
    s.createPayment500 += req.createPayment500 ?? 0;
    s.createPayment503 += req.createPayment503 ?? 0;
    s.createPaymentTimeout += req.createPaymentTimeout ?? 0;
    if (req.webhookDelayMs !== undefined) s.webhookDelayMs = req.webhookDelayMs;
    if (req.createPaymentHangMs !== undefined) s.createPaymentHangMs = req.createPaymentHangMs;
    if (req.createPaymentAfterHang !== undefined) s.createPaymentAfterHang = req.createPaymentAfterHang;
    this.lost.add(req);
    this.late.add(req);
  }

  clear(): void {
    this.state = VippsFaults.empty();
    this.lost.clear();
    this.late.clear();
  }

  snapshot() {
    return { ...this.state, ...this.lost.snapshot(), ...this.late.snapshot() };
  }

  get webhookDelayMs(): number {
    return this.state.webhookDelayMs;
  }

  take(name: Counted): boolean {
    if (this.state[name] <= 0) return false;
    this.state[name] -= 1;
    return true;
  }

  takeCreatePaymentHang(): { hangMs: number; then: 'process' | 'drop' } | null {
    if (this.state.createPaymentTimeout <= 0) return null;
    this.state.createPaymentTimeout -= 1;
    return { hangMs: this.state.createPaymentHangMs, then: this.state.createPaymentAfterHang };
  }
}
