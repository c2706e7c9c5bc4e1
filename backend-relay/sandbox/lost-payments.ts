/**
 * The lost-payment fault, the same for Hips, Vipps and HitPay: every webhook of a picked payment
 * is dropped, never sent, as when a relay outage outlasts all of the PSP's retries. Only the
 * PSP's own records (what its GET endpoints answer) still know how the payment ended.
 *
 * A payment (a Hips order, a Vipps payment reference, a HitPay payment request) is picked once,
 * when its first webhook is due: the next `dropPaymentWebhooks` payments, or each with a
 * `dropPaymentWebhooksPercent` chance. In memory, like the other faults.
 */
import { z } from 'zod';

export const lostPaymentsRequest = {
  /** Every webhook of the next n payments is dropped. */
  dropPaymentWebhooks: z.number().int().min(0).max(1000).optional(),
  /** Every webhook of each payment is dropped with this chance, in percent (0 turns it off). */
  dropPaymentWebhooksPercent: z.number().min(0).max(100).optional(),
};

export class LostPayments {
  private next = 0;
  private percent = 0;
  /** Every payment decided so far: true when its webhooks are dropped. */
  private readonly decided = new Map<string, boolean>();

  constructor(private readonly random: () => number = Math.random) {}

  add(req: { dropPaymentWebhooks?: number; dropPaymentWebhooksPercent?: number }): void {
    this.next += req.dropPaymentWebhooks ?? 0;
    if (req.dropPaymentWebhooksPercent !== undefined) this.percent = req.dropPaymentWebhooksPercent;
  }

  /** Stops picking payments; one already picked stays lost (its later hooks are dropped too). */
  clear(): void {
    this.next = 0;
    this.percent = 0;
  }

  snapshot(): { dropPaymentWebhooks: number; dropPaymentWebhooksPercent: number; droppedPayments: number } {
    let dropped = 0;
    for (const lost of this.decided.values()) if (lost) dropped++;
    return { dropPaymentWebhooks: this.next, dropPaymentWebhooksPercent: this.percent, droppedPayments: dropped };
  }

  /** Whether the webhooks of this payment are dropped; decided on the first call for it. */
  drops(paymentId: string | null): boolean {
    if (paymentId === null) return false;
    const known = this.decided.get(paymentId);
    if (known !== undefined) return known;
    let lost = false;
    if (this.next > 0) {
      this.next -= 1;
      lost = true;
    } else if (this.percent > 0) {
      lost = this.random() * 100 < this.percent;
    }
    this.decided.set(paymentId, lost);
    return lost;
  }
}

/** What a dropped webhook's ledger row says. */
export const DROPPED_BY_FAULT = 'dropped by the dropPaymentWebhooks fault: never sent';
