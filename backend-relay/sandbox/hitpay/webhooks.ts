/**
 * HitPay webhooks: built as outbox rows in the transaction that changes the payment request,
 * then delivered with retries (at least once; a retry or duplicate resends the same bytes).
 *
 * - `legacy` (HitPay "webhook v1", what the `webhook` field of a payment request gets):
 *   form-encoded `payment_id, payment_request_id, phone, amount, currency, status,
 *   reference_number, hmac`.
 * - `json` (event webhooks): the payment request object as JSON, headers `Hitpay-Signature`,
 *   `Hitpay-Event-Type` (`completed`/`failed`), `Hitpay-Event-Object: payment_request`,
 *   `User-Agent: HitPay v2.0`.
 */
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { sleep } from '../abortable-sleep.js';
import { digitsOf, minorToMajor } from './amount.js';
import type { HitpayFaults } from './faults.js';
import { DROPPED_BY_FAULT } from '../lost-payments.js';
import { jsonHitpaySignature, legacyHitpayHmac } from './hmac.js';
import type { HitpayStore, PaymentRow, RequestRow, WebhookRow, WebhookStyle } from './store.js';
import { requestView, type HitpayViewContext } from './views.js';

export type WebhookStyleSetting = WebhookStyle | 'both';

export interface HitpayDeliveryOptions {
  /** How long one attempt waits for a reply. */
  attemptTimeoutMs: number;
  /** Waits before attempt 2, 3, … (the last value repeats). */
  backoffMs: number[];
  maxAttempts: number;
}

export const defaultHitpayDelivery: HitpayDeliveryOptions = {
  attemptTimeoutMs: 15_000,
  backoffMs: [1_000, 5_000, 30_000, 120_000],
  maxAttempts: 5,
};

export type PaymentEvent = 'payment_request.completed' | 'payment_request.failed';

export interface HookContext extends HitpayViewContext {
  salt: string;
  style: WebhookStyleSetting;
  faults: HitpayFaults;
}

/**
 * The outbox rows for one payment outcome. `request` and `payments` must already hold their new
 * state. Nothing is built when the request has no `webhook` URL (HitPay sends none then).
 */
export function paymentHooks(ctx: HookContext, request: RequestRow, payment: PaymentRow, payments: PaymentRow[], event: PaymentEvent): WebhookRow[] {
  if (!request.webhook) return [];
  const digits = digitsOf(request.currency);
  // The tamper fault misreports the amount (correctly signed) so the relay's amount check is tested.
  const reported = ctx.faults.take('tamperWebhookAmount') ? Math.max(0, payment.amount_minor + ctx.faults.tamperAmountMinor) : payment.amount_minor;
  const status = event === 'payment_request.completed' ? 'completed' : 'failed';
  const styles: WebhookStyle[] = ctx.style === 'both' ? ['legacy', 'json'] : [ctx.style];

  return styles.map((style) => {
    let headers: Record<string, string>;
    let body: string;
    if (style === 'legacy') {
      const fields: Record<string, string> = {
        payment_id: payment.id,
        payment_request_id: request.id,
        phone: request.phone ?? '',
        amount: minorToMajor(reported, digits),
        currency: request.currency.toUpperCase(),
        status,
        reference_number: request.reference_number ?? '',
      };
      body = new URLSearchParams({ ...fields, hmac: legacyHitpayHmac(fields, ctx.salt) }).toString();
      headers = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'HitPay sandbox (cabpay)' };
    } else {
      const view = requestView(ctx, request, payments);
      const major = minorToMajor(reported, digits);
      const object = {
        ...view,
        amount: reported === payment.amount_minor ? view.amount : major,
        payments: view.payments?.map((p) => (p.id === payment.id ? { ...p, amount: major } : p)),
      };
      body = JSON.stringify(object);
      headers = {
        'content-type': 'application/json',
        'user-agent': 'HitPay v2.0',
        'hitpay-signature': jsonHitpaySignature(body, ctx.salt),
        'hitpay-event-type': status,
        'hitpay-event-object': 'payment_request',
      };
    }
    const now = Date.now();
    return {
      id: uuidv7(),
      payment_request_id: request.id,
      payment_id: payment.id,
      style,
      event,
      url: request.webhook!,
      headers: JSON.stringify(headers),
      body,
      status: 'pending',
      attempts: 0,
      duplicates: 0,
      last_status_code: null,
      last_error: null,
      created_ms: now,
      updated_ms: now,
      delivered_ms: null,
    } satisfies WebhookRow;
  });
}

type Attempt = { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string } | null;

export class HitpayDeliverer {
  private readonly shutdown = new AbortController();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: HitpayStore,
    private readonly faults: HitpayFaults,
    private readonly opts: HitpayDeliveryOptions,
    private readonly log: Logger,
  ) {}

  /** Starts delivering committed rows in the background. */
  deliver(ids: string[]): void {
    for (const id of ids) this.track(this.attemptAll(id));
  }

  /** After a restart: send what was committed but never settled. */
  resumeUndelivered(): void {
    this.deliver(this.store.undeliveredWebhooks().map((row) => row.id));
  }

  /** Stops retries and waits for attempts in flight to end. */
  async close(): Promise<void> {
    this.shutdown.abort();
    await Promise.allSettled([...this.running]);
  }

  private track(run: Promise<void>): void {
    const done = run.catch((err: unknown) => this.log.error({ err }, 'hitpay webhook delivery crashed')).finally(() => this.running.delete(done));
    this.running.add(done);
  }

  private async attemptAll(id: string): Promise<void> {
    const row = this.store.webhook(id);
    if (!row || row.status !== 'pending') return;
    if (this.faults.lost.drops(row.payment_request_id)) {
      this.store.updateWebhook(id, { status: 'dropped', last_error: DROPPED_BY_FAULT });
      this.log.info({ webhookId: id, event: row.event, paymentRequestId: row.payment_request_id }, 'lost-payment fault: webhook dropped');
      return;
    }
    let attempts = row.attempts;
    for (let i = 0; attempts < this.opts.maxAttempts; i++) {
      if (i > 0) {
        const wait = this.opts.backoffMs[Math.min(i - 1, this.opts.backoffMs.length - 1)] ?? 0;
        if (!(await sleep(wait, this.shutdown.signal))) return;
      }
      const outcome = await this.attempt(row);
      if (outcome === null) return; // shutting down: the row stays pending and resumes next start
      attempts += 1;
      this.store.updateWebhook(id, {
        attempts,
        last_status_code: outcome.statusCode,
        last_error: outcome.ok ? null : outcome.error,
      });
      if (outcome.ok) {
        this.store.updateWebhook(id, { status: 'delivered', delivered_ms: Date.now() });
        this.log.info({ webhookId: id, event: row.event, style: row.style, attempts }, 'hitpay webhook delivered');
        if (this.faults.take('duplicateWebhooks')) await this.sendDuplicate(row);
        return;
      }
      this.log.warn({ webhookId: id, url: row.url, attempt: attempts, error: outcome.error }, 'hitpay webhook attempt failed');
    }
    this.store.updateWebhook(id, { status: 'failed' });
    this.log.warn({ webhookId: id, url: row.url }, 'hitpay webhook undeliverable after all attempts');
  }

  private async sendDuplicate(row: WebhookRow): Promise<void> {
    const outcome = await this.attempt(row, true);
    if (outcome === null) return;
    const current = this.store.webhook(row.id);
    this.store.updateWebhook(row.id, { duplicates: (current?.duplicates ?? 0) + 1 });
  }

  private async attempt(row: WebhookRow, ignoreFailFault = false): Promise<Attempt> {
    if (this.shutdown.signal.aborted) return null;
    if (!ignoreFailFault && this.faults.take('failWebhooks')) {
      return { ok: false, statusCode: null, error: 'failed by the failWebhooks fault (not sent)' };
    }
    const delayMs = this.faults.webhookDelayMs;
    if (delayMs > 0 && !(await sleep(delayMs, this.shutdown.signal))) return null;
    const timeout = AbortSignal.timeout(this.opts.attemptTimeoutMs);
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: JSON.parse(row.headers) as Record<string, string>,
        body: row.body,
        redirect: 'manual', // a redirect is not an answer
        signal: AbortSignal.any([timeout, this.shutdown.signal]),
      });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
      return { ok: false, statusCode: res.status, error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    } catch (err) {
      if (this.shutdown.signal.aborted) return null;
      if (timeout.aborted) return { ok: false, statusCode: null, error: `no reply within ${this.opts.attemptTimeoutMs} ms` };
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { ok: false, statusCode: null, error: `${String(err)}${cause}` };
    }
  }
}
