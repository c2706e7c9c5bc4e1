/**
 * Injected failures for tests, set through `POST /sandbox/faults` (additive) and cleared by
 * `DELETE /sandbox/faults`. Kept in memory on purpose: a restart clears them, like a fresh PSP.
 */
import { z } from 'zod';
import { LateAnswers, lateAnswersRequest } from './late-answers.js';
import { LostPayments, lostPaymentsRequest } from './lost-payments.js';

const count = z.number().int().min(0).max(1000);

export const faultsRequest = z.strictObject({
  /** The next n delivery attempts count as failed without being sent. */
  failWebhooks: count.optional(),
  /** Wait this long before each delivery attempt (0 turns it off). */
  webhookDelayMs: z.number().int().min(0).max(120_000).optional(),
  /** Send each of the next n hooks twice (the copy after the first was accepted). */
  duplicateWebhooks: count.optional(),
  /** Hold the next hook back and send it right after the one that follows it (true = 1). */
  reorderWebhooks: z.union([z.boolean(), count]).optional(),
  /** Answer the next n create-order calls with 503. */
  createOrder503: count.optional(),
  /** Answer the next n create-order calls with 429. */
  createOrder429: count.optional(),
  /** Hang the next n create-order calls for createOrderHangMs, then process them (or drop them). */
  createOrderTimeout: count.optional(),
  createOrderHangMs: z.number().int().min(0).max(600_000).optional(),
  /** After the hang: 'process' (default) commits the order and answers late; 'drop' closes the socket. */
  createOrderAfterHang: z.enum(['process', 'drop']).optional(),
  ...lostPaymentsRequest,
  ...lateAnswersRequest,
});
export type FaultsRequest = z.infer<typeof faultsRequest>;

const DEFAULT_HANG_MS = 15_000;

export class Faults {
  private state = Faults.empty();
  /** Orders whose every hook is dropped (by order id). */
  readonly lost = new LostPayments();
  /** Refunds and captures booked at once but answered after the relay's timeout. */
  readonly late = new LateAnswers();

  private static empty() {
    return {
      failWebhooks: 0,
      webhookDelayMs: 0,
      duplicateWebhooks: 0,
      reorderWebhooks: 0,
      createOrder503: 0,
      createOrder429: 0,
      createOrderTimeout: 0,
      createOrderHangMs: DEFAULT_HANG_MS,
      createOrderAfterHang: 'process' as 'process' | 'drop',
    };
  }

  add(req: FaultsRequest): void {
    const s = this.state;
    s.failWebhooks += req.failWebhooks ?? 0;
    s.duplicateWebhooks += req.duplicateWebhooks ?? 0;
    const reorder = req.reorderWebhooks;
    s.reorderWebhooks += reorder === true ? 1 : reorder === false || reorder === undefined ? 0 : reorder;
    s.createOrder503 += req.createOrder503 ?? 0;
    s.createOrder429 += req.createOrder429 ?? 0;
    s.createOrderTimeout += req.createOrderTimeout ?? 0;
    if (req.webhookDelayMs !== undefined) s.webhookDelayMs = req.webhookDelayMs;
    if (req.createOrderHangMs !== undefined) s.createOrderHangMs = req.createOrderHangMs;
    if (req.createOrderAfterHang !== undefined) s.createOrderAfterHang = req.createOrderAfterHang;
    this.lost.add(req);
    this.late.add(req);
  }

  clear(): void {
    this.state = Faults.empty();
    this.lost.clear();
    this.late.clear();
  }

  snapshot() {
    return { ...this.state, ...this.lost.snapshot(), ...this.late.snapshot() };
  }

  get webhookDelayMs(): number {
    return this.state.webhookDelayMs;
  }

  /** Consumes one unit of a counted fault; true when it applies to this call. */
  take(name: 'failWebhooks' | 'duplicateWebhooks' | 'reorderWebhooks' | 'createOrder503' | 'createOrder429'): boolean {
    if (this.state[name] <= 0) return false;
    this.state[name] -= 1;
    return true;
  }

  takeCreateOrderHang(): { hangMs: number; then: 'process' | 'drop' } | null {
    if (this.state.createOrderTimeout <= 0) return null;
    this.state.createOrderTimeout -= 1;
    return { hangMs: this.state.createOrderHangMs, then: this.state.createOrderAfterHang };
  }
}
