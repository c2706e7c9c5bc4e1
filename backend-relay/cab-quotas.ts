/**
 * What one cab may ask of the relay per minute and per day, by kind: receipts it stores, and
 * payment requests and refunds the relay makes on the fleet's PSP key. A tablet that floods (a fault, or a
 * stolen device token) is refused at the socket's entry, before anything is stored or called,
 * and alerted on. The receipt limits on size and on how many are kept live with the receipts.
 */
import { z } from 'zod';
import { SOCKET_EVENTS } from '../protocol/relay-protocol.js';
import type { Result } from '../protocol/result.js';
import type { QuotaAlerts } from './quota-alerts.js';
import { CountLimit } from './rate-limits.js';

/**
 * A taxi makes a few rides an hour; the per-minute quotas leave room for a backlog sent after an
 * offline spell and for the chaos run's compressed rides (about 10 a minute per cab), the daily
 * ones bound what a misbehaving tablet costs in a day.
 */
export const cabQuotasSchema = z.object({
  /** receipt.publish per cab: a ride takes minutes; a backlog after a long offline spell trickles out. */
  receiptsPerMinute: z.number().int().positive().default(30),
  receiptsPerDay: z.number().int().positive().default(1_000),
  /** One receipt as stored (JSON, UTF-8); a real one is 1–2 KB. Larger: `invalid`. */
  receiptMaxBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024),
  /** Receipts one cab may have stored (within the retention); more: `quota_exceeded` until pruned. */
  receiptsKept: z.number().int().positive().default(10_000),
  /** payment.request per cab: each can be a real payment request on the fleet's PSP key. */
  paymentsPerMinute: z.number().int().positive().default(30),
  paymentsPerDay: z.number().int().positive().default(1_000),
  /** refund.request per cab: a driver refunds a ride now and then, each a PSP call and a stored row. */
  refundsPerMinute: z.number().int().positive().default(10),
  refundsPerDay: z.number().int().positive().default(100),
});
export type CabQuotaSettings = z.output<typeof cabQuotasSchema>;

const MINUTE_S = 60;
const DAY_S = 86_400;

export class CabQuotas {
  private readonly limits: Map<string, { kind: string; minute: CountLimit; day: CountLimit }>;

  constructor(
    settings: CabQuotaSettings,
    private readonly alerts: QuotaAlerts,
  ) {
    const pair = (kind: string, perMinute: number, perDay: number) => ({
      kind,
      minute: new CountLimit(`${kind}-minute`, { points: perMinute, durationS: MINUTE_S }),
      day: new CountLimit(`${kind}-day`, { points: perDay, durationS: DAY_S }),
    });
    this.limits = new Map([
      [SOCKET_EVENTS.receiptPublish, pair('receipt_rate', settings.receiptsPerMinute, settings.receiptsPerDay)],
      [SOCKET_EVENTS.paymentRequest, pair('payment_rate', settings.paymentsPerMinute, settings.paymentsPerDay)],
      [SOCKET_EVENTS.refundRequest, pair('refund_rate', settings.refundsPerMinute, settings.refundsPerDay)],
    ]);
  }

  /** Counts one `message` of the cab: null when allowed, else the refusal to answer with. */
  async take(cabId: string, message: string): Promise<Result<never> | null> {
    const limit = this.limits.get(message);
    if (!limit) return null;
    // The day's count is spent only by what the minute lets through.
    const wait = (await limit.minute.take(cabId)) || (await limit.day.take(cabId));
    if (wait === 0) return null;
    this.alerts.exceeded(cabId, limit.kind, { message, retryInS: wait });
    return { ok: false, error: { code: 'rate_limited', message: `this cab sent too many ${message} messages; send it again in ${wait} s` } };
  }
}
