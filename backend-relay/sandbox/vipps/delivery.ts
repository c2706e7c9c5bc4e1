/**
 * Webhooks API deliveries: an outbox row per (registered webhook, event), written in the same
 * transaction as the state change, then POSTed as JSON signed with that webhook's secret
 * (see hmac.ts). Any 2xx settles it; anything else, or no reply in time, is retried with backoff
 * (at least once: a reply lost after a 2xx means a duplicate). Pending rows resume after a restart.
 */
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { sleep } from '../abortable-sleep.js';
import { DROPPED_BY_FAULT } from '../lost-payments.js';
import type { VippsFaults } from './faults.js';
import { signVippsRequest } from './hmac.js';
import type { VippsSettings } from './settings.js';
import { nowIso, type DeliveryRow, type VippsStore } from './store.js';

type Attempt = { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string } | { aborted: true };

export class VippsDeliverer {
  private readonly shutdown = new AbortController();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: VippsStore,
    private readonly faults: VippsFaults,
    private readonly settings: () => VippsSettings,
    private readonly log: Logger,
  ) {}

  /**
   * Inside the caller's transaction: one outbox row per webhook of `msn` subscribed to `event`.
   * Returns the row ids, to hand to `deliver` after the commit.
   */
  enqueue(msn: string, event: string, reference: string | null, body: Record<string, unknown>): string[] {
    const ids: string[] = [];
    for (const hook of this.store.webhooks(msn)) {
      if (!(JSON.parse(hook.events) as string[]).includes(event)) continue;
      const now = nowIso();
      const row: DeliveryRow = {
        id: uuidv7(),
        webhook_id: hook.id,
        url: hook.url,
        event,
        msn,
        reference,
        body: JSON.stringify(body),
        status: 'pending',
        attempts: 0,
        duplicates: 0,
        last_status_code: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        delivered_at: null,
      };
      this.store.insertDelivery(row);
      ids.push(row.id);
    }
    return ids;
  }

  deliver(ids: string[]): void {
    for (const id of ids) this.start(id);
  }

  resumePending(): void {
    for (const row of this.store.pendingDeliveries()) this.start(row.id);
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    await Promise.allSettled([...this.running]);
  }

  private start(id: string): void {
    if (this.shutdown.signal.aborted) return;
    const done: Promise<void> = this.attemptAll(id)
      .catch((err: unknown) => this.log.error({ err, deliveryId: id }, 'vipps webhook delivery crashed'))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  private async attemptAll(id: string): Promise<void> {
    const row = this.store.delivery(id);
    if (!row || row.status !== 'pending') return;
    if (this.faults.lost.drops(row.reference)) {
      this.store.updateDelivery(id, { status: 'dropped', last_error: DROPPED_BY_FAULT });
      this.log.info({ deliveryId: id, event: row.event, reference: row.reference }, 'lost-payment fault: webhook dropped');
      return;
    }
    let attempts = row.attempts;
    for (let i = 0; ; i++) {
      const s = this.settings();
      if (attempts >= s.webhookMaxAttempts) break;
      if (i > 0 || attempts > 0) {
        const wait = s.webhookBackoffMs[Math.min(attempts - 1, s.webhookBackoffMs.length - 1)] ?? 0;
        if (!(await sleep(wait, this.shutdown.signal))) return;
      }
      const hook = this.store.webhook(row.webhook_id);
      if (!hook) {
        this.store.updateDelivery(id, { status: 'dropped', last_error: 'the webhook was deleted before delivery' });
        return;
      }
      const outcome = await this.attempt(row, hook.secret);
      if ('aborted' in outcome) return;
      attempts += 1;
      this.store.updateDelivery(id, {
        attempts,
        last_status_code: outcome.statusCode,
        last_error: outcome.ok ? null : outcome.error,
      });
      if (outcome.ok) {
        this.store.updateDelivery(id, { status: 'delivered', delivered_at: nowIso() });
        this.log.info({ deliveryId: id, event: row.event, url: row.url, attempts }, 'vipps webhook delivered');
        if (this.faults.take('duplicateWebhooks')) {
          const copy = await this.attempt(row, hook.secret, true);
          if (!('aborted' in copy)) this.store.updateDelivery(id, { duplicates: (this.store.delivery(id)?.duplicates ?? 0) + 1 });
        }
        return;
      }
      this.log.warn({ deliveryId: id, url: row.url, attempt: attempts, error: outcome.error }, 'vipps webhook attempt failed');
    }
    this.store.updateDelivery(id, { status: 'failed' });
    this.log.warn({ deliveryId: id, url: row.url, event: row.event }, 'vipps webhook undeliverable after all attempts');
  }

  private async attempt(row: DeliveryRow, secret: string, ignoreFailFault = false): Promise<Attempt> {
    if (!ignoreFailFault && this.faults.take('failWebhooks')) {
      return { ok: false, statusCode: null, error: 'failed by the failWebhooks fault (not sent)' };
    }
    const delayMs = this.faults.webhookDelayMs;
    if (delayMs > 0 && !(await sleep(delayMs, this.shutdown.signal))) return { aborted: true };

    const url = new URL(row.url);
    const signed = signVippsRequest({
      secret,
      method: 'POST',
      pathAndQuery: url.pathname + url.search,
      host: url.host, // what fetch sends as Host: the port only when it is not the default
      date: new Date().toUTCString(),
      body: row.body,
    });
    const timeoutMs = this.settings().webhookAttemptTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'cabpay-vipps-sandbox', ...signed },
        body: row.body,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, this.shutdown.signal]),
      });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
      return { ok: false, statusCode: res.status, error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    } catch (err) {
      if (this.shutdown.signal.aborted) return { aborted: true };
      if (timeout.aborted) return { ok: false, statusCode: null, error: `no reply within ${timeoutMs} ms` };
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { ok: false, statusCode: null, error: `${String(err)}${cause}` };
    }
  }
}
