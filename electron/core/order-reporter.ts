/**
 * Tells the relay of every order this tablet made at its PSP (Hips): `order.created`, oldest
 * first, one at a time, while the relay is connected. With it the relay can ask the PSP how the
 * order ended when all of its webhooks are lost. Separate from the outbox, so a relay that is
 * away never holds up a create-order to the PSP. A transient failure waits with backoff; a
 * refusal for good (the relay cannot ask this PSP, or says the order is not this cab's) is
 * recorded and logged, not retried.
 */
import type { Logger } from 'pino';
import type { OrderCreated, OrderCreatedAck, PspName } from '../../protocol/relay-protocol.js';
import { nextDelay } from './backoff.js';
import type { KioskStore, OrderReport } from './store.js';

/** Relay error codes that a resend cannot cure. */
const FINAL_REFUSALS = new Set(['invalid', 'wrong_psp', 'forbidden', 'unsupported', 'limit_reached']);

export interface OrderReporterDeps {
  store: () => KioskStore | null;
  connected: () => boolean;
  send: (payload: OrderCreated) => Promise<OrderCreatedAck>;
  psp: PspName;
  now: () => Date;
  random: () => number;
  logger: Logger;
}

export class OrderReporter {
  private running = false;
  private again = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: OrderReporterDeps) {}

  kick(): void {
    if (this.stopped || this.retryTimer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.drain();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.deps.connected()) {
          const next = this.deps.store()?.unsentOrderReports(1)[0];
          if (!next) break;
          if (!(await this.report(next))) break;
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.deps.logger.error({ err }, 'order reporting stopped on an unexpected error; it resumes on the next change');
    } finally {
      this.running = false;
    }
  }

  /** Returns false to stop this round (a transient failure; a retry is scheduled). */
  private async report(report: OrderReport): Promise<boolean> {
    const ride = this.deps.store()?.getRide(report.rideId);
    if (!ride) return false;
    const answer = await this.deps.send({
      psp: this.deps.psp,
      rideId: report.rideId,
      attempt: report.attempt,
      merchantOrderId: ride.merchantOrderId,
      pspOrderId: report.pspOrderId,
      createdAt: report.createdAt,
    });
    const store = this.deps.store();
    if (!store) return false;
    const log = { rideId: report.rideId, pspOrderId: report.pspOrderId };
    if (answer.ok) {
      this.failures = 0;
      store.markOrderReported(report.pspOrderId, this.deps.now().toISOString());
      this.deps.logger.info(log, 'order reported to the relay');
      return true;
    }
    if (FINAL_REFUSALS.has(answer.error.code)) {
      store.markOrderReportRefused(report.pspOrderId, `${answer.error.code}: ${answer.error.message}`);
      this.deps.logger.warn({ ...log, error: answer.error }, 'the relay will not follow up this order; only its webhooks can confirm it');
      return true;
    }
    const delay = nextDelay(this.failures++, this.deps.random);
    this.deps.logger.warn({ ...log, error: answer.error, retryInMs: delay }, 'order not reported yet; retrying');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delay);
    this.retryTimer.unref?.();
    return false;
  }
}
