/**
 * Sends committed webhook rows the way Hips does: POST JSON (the data plus a signed `jwt`),
 * success is 200/201, anything else or no reply within the attempt timeout is retried with the
 * same idempotency key, 3 attempts in all. A 412 on `start_qr_session` refuses the session.
 * Rows stay `pending` until settled, so a restart resumes them.
 */
import type { Logger } from 'pino';
import { sleep } from './abortable-sleep.js';
import type { Faults } from './faults.js';
import { DROPPED_BY_FAULT } from './lost-payments.js';
import type { WebhookSigner } from './signing.js';
import { nowIso, type SandboxStore, type WebhookRow } from './store.js';

export interface DeliveryOptions {
  /** How long one attempt waits for a reply (Hips: 10 s). */
  attemptTimeoutMs: number;
  /** Waits before attempt 2, 3, … */
  backoffMs: number[];
  maxAttempts: number;
  /** A hook held back by the reorder fault is released after this long even if no other hook follows. */
  reorderMaxHoldMs: number;
}

export const defaultDeliveryOptions: DeliveryOptions = {
  attemptTimeoutMs: 10_000,
  backoffMs: [500, 1000],
  maxAttempts: 3,
  reorderMaxHoldMs: 30_000,
};

export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'refused'; statusCode: 412; downResponseText: string }
  | { kind: 'failed'; statusCode: number | null; error: string }
  | { kind: 'held' }
  | { kind: 'aborted' };

/** What the payment flows do when a QR start hook cannot start its session. */
export interface DeliveryListener {
  onStartRefused(sessionId: string, downResponseText: string): void;
  onStartUndeliverable(sessionId: string): void;
}

const DEFAULT_DOWN_TEXT = 'The merchant is not available right now.';

export class WebhookDeliverer {
  private readonly shutdown = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private held: { id: string; timer: NodeJS.Timeout; afterRun: number } | null = null;
  /** Numbers delivery runs, so only a hook started after the held one releases it. */
  private runCount = 0;
  private listener: DeliveryListener | null = null;

  constructor(
    private readonly store: SandboxStore,
    private readonly signer: WebhookSigner,
    private readonly faults: Faults,
    private readonly opts: DeliveryOptions,
    private readonly log: Logger,
  ) {}

  setListener(listener: DeliveryListener): void {
    this.listener = listener;
  }

  /** Starts delivering a committed row; resolves once its first attempt has settled. */
  deliver(id: string): Promise<AttemptOutcome> {
    if (this.shutdown.signal.aborted) return Promise.resolve({ kind: 'aborted' });
    if (!this.held && this.faults.take('reorderWebhooks')) {
      this.hold(id);
      return Promise.resolve({ kind: 'held' });
    }
    return this.run(id);
  }

  /** After a restart: send what was committed but never settled, in commit order. */
  resumeUndelivered(): void {
    for (const row of this.store.undeliveredWebhooks()) void this.run(row.id);
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    if (this.held) clearTimeout(this.held.timer);
    await Promise.allSettled([...this.running]);
  }

  private hold(id: string): void {
    this.store.updateWebhook(id, { status: 'held' });
    const timer = setTimeout(() => this.releaseHeld(), this.opts.reorderMaxHoldMs);
    timer.unref();
    this.held = { id, timer, afterRun: this.runCount };
    this.log.info({ webhookId: id }, 'reorder fault: holding webhook until the next one is sent');
  }

  private releaseHeld(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    clearTimeout(held.timer);
    void this.run(held.id);
  }

  private run(id: string): Promise<AttemptOutcome> {
    const runNumber = ++this.runCount;
    let settleFirst!: (outcome: AttemptOutcome) => void;
    const first = new Promise<AttemptOutcome>((resolve) => (settleFirst = resolve));
    const done = this.attemptAll(id, settleFirst)
      .catch((err: unknown) => {
        this.log.error({ err, webhookId: id }, 'webhook delivery crashed');
        settleFirst({ kind: 'failed', statusCode: null, error: String(err) });
      })
      .finally(() => {
        this.running.delete(done);
        // The reorder fault: the held hook goes out right after the one that followed it.
        if (this.held && runNumber > this.held.afterRun) this.releaseHeld();
      });
    this.running.add(done);
    return first;
  }

  private async attemptAll(id: string, settleFirst: (o: AttemptOutcome) => void): Promise<void> {
    const row = this.store.webhook(id);
    if (!row) throw new Error(`webhook ${id} is not in the database`);
    if (row.kind === 'order' && this.faults.lost.drops(row.order_id)) {
      this.store.updateWebhook(id, { status: 'dropped', last_error: DROPPED_BY_FAULT });
      this.log.info({ webhookId: id, event: row.event, orderId: row.order_id }, 'lost-payment fault: webhook dropped');
      return settleFirst({ kind: 'failed', statusCode: null, error: DROPPED_BY_FAULT });
    }
    this.store.updateWebhook(id, { status: 'pending' });
    const data = JSON.parse(row.data) as Record<string, unknown>;
    let attempts = row.attempts;

    for (let i = 0; i < this.opts.maxAttempts; i++) {
      if (i > 0) {
        const wait = this.opts.backoffMs[i - 1] ?? this.opts.backoffMs.at(-1) ?? 0;
        if (!(await sleep(wait, this.shutdown.signal))) return settleFirst({ kind: 'aborted' });
      }
      const outcome = await this.attempt(row, data);
      if (outcome.kind === 'aborted') return settleFirst(outcome);
      attempts += 1;
      const statusCode = 'statusCode' in outcome ? outcome.statusCode : null;
      const error = outcome.kind === 'failed' ? outcome.error : null;
      this.store.updateWebhook(id, { attempts, last_status_code: statusCode, last_error: error });

      if (outcome.kind === 'delivered') {
        this.store.updateWebhook(id, { status: 'delivered', delivered_at: nowIso() });
        this.log.info({ webhookId: id, event: row.event, url: row.url, attempts }, 'webhook delivered');
        settleFirst(outcome);
        if (this.faults.take('duplicateWebhooks')) await this.sendDuplicate(row, data);
        return;
      }
      if (outcome.kind === 'refused') {
        this.store.updateWebhook(id, { status: 'down' });
        this.log.info({ webhookId: id, url: row.url, text: outcome.downResponseText }, 'merchant refused the QR session (412)');
        if (row.session_id) this.listener?.onStartRefused(row.session_id, outcome.downResponseText);
        return settleFirst(outcome);
      }
      this.log.warn({ webhookId: id, url: row.url, attempt: attempts, error }, 'webhook attempt failed');
      settleFirst(outcome);
    }

    this.store.updateWebhook(id, { status: 'failed' });
    this.log.warn({ webhookId: id, url: row.url, event: row.event }, 'webhook undeliverable after all attempts');
    if (row.kind === 'qr' && row.event === 'start_qr_session' && row.session_id) {
      this.listener?.onStartUndeliverable(row.session_id);
    }
  }

  private async sendDuplicate(row: WebhookRow, data: Record<string, unknown>): Promise<void> {
    const outcome = await this.attempt(row, data, { ignoreFailFault: true });
    if (outcome.kind === 'aborted') return;
    const current = this.store.webhook(row.id);
    this.store.updateWebhook(row.id, { duplicates: (current?.duplicates ?? 0) + 1 });
    this.log.info({ webhookId: row.id, outcome: outcome.kind }, 'duplicate fault: sent the webhook a second time');
  }

  private async attempt(row: WebhookRow, data: Record<string, unknown>, opts: { ignoreFailFault?: boolean } = {}): Promise<AttemptOutcome> {
    if (!opts.ignoreFailFault && this.faults.take('failWebhooks')) {
      return { kind: 'failed', statusCode: null, error: 'failed by the failWebhooks fault (not sent)' };
    }
    const delayMs = this.faults.webhookDelayMs;
    if (delayMs > 0 && !(await sleep(delayMs, this.shutdown.signal))) return { kind: 'aborted' };

    const body = JSON.stringify({ ...data, jwt: await this.signer.sign(data) });
    const timeout = AbortSignal.timeout(this.opts.attemptTimeoutMs);
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'cabpay-hips-sandbox' },
        body,
        redirect: 'manual', // a redirect is not an answer: it counts as a failed attempt
        signal: AbortSignal.any([timeout, this.shutdown.signal]),
      });
      const text = await res.text();
      if (res.status === 200 || res.status === 201) return { kind: 'delivered', statusCode: res.status };
      if (res.status === 412 && row.event === 'start_qr_session') {
        return { kind: 'refused', statusCode: 412, downResponseText: downText(text) };
      }
      return { kind: 'failed', statusCode: res.status, error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    } catch (err) {
      if (this.shutdown.signal.aborted) return { kind: 'aborted' };
      if (timeout.aborted) {
        return { kind: 'failed', statusCode: null, error: `no reply within ${this.opts.attemptTimeoutMs} ms` };
      }
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { kind: 'failed', statusCode: null, error: `${String(err)}${cause}` };
    }
  }
}

function downText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { down_response_text?: unknown };
    if (typeof parsed.down_response_text === 'string' && parsed.down_response_text.trim()) {
      return parsed.down_response_text.slice(0, 500);
    }
  } catch {
    // not JSON: fall through to the default text
  }
  return DEFAULT_DOWN_TEXT;
}
