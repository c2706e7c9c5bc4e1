/**
 * Sends stored receipts to the relay (`receipt.publish`), oldest first, one at a time, while
 * the relay is connected. A transient failure waits with backoff; a refusal for good (the relay
 * says the receipt is invalid or not this cab's) is recorded and logged, not retried forever.
 */
import type { Logger } from 'pino';
import type { ReceiptPayload, ReceiptPublishAck } from '../../protocol/receipt.js';
import { nextDelay } from './backoff.js';
import type { KioskStore } from './store.js';

/** Relay error codes that a resend cannot cure. */
const FINAL_REFUSALS = new Set(['invalid', 'forbidden', 'token_conflict']);

export interface ReceiptPublisherDeps {
  store: () => KioskStore | null;
  connected: () => boolean;
  send: (payload: ReceiptPayload) => Promise<ReceiptPublishAck>;
  now: () => Date;
  random: () => number;
  logger: Logger;
}

export class ReceiptPublisher {
  private running = false;
  private again = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: ReceiptPublisherDeps) {}

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
          const next = this.deps.store()?.unpublishedReceipts(1)[0];
          if (!next) break;
          if (!(await this.publish(next.rideId, next.payloadJson))) break;
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.deps.logger.error({ err }, 'receipt publishing stopped on an unexpected error; it resumes on the next change');
    } finally {
      this.running = false;
    }
  }

  /** Returns false to stop this round (a transient failure; a retry is scheduled). */
  private async publish(rideId: string, payloadJson: string): Promise<boolean> {
    const payload = JSON.parse(payloadJson) as ReceiptPayload;
    const answer = await this.deps.send(payload);
    const store = this.deps.store();
    if (!store) return false;
    if (answer.ok) {
      this.failures = 0;
      store.markReceiptPublished(rideId, payloadJson, this.deps.now().toISOString());
      this.deps.logger.info({ rideId, url: answer.value.url }, 'receipt published');
      return true;
    }
    if (FINAL_REFUSALS.has(answer.error.code)) {
      store.markReceiptRefused(rideId, payloadJson, `${answer.error.code}: ${answer.error.message}`);
      this.deps.logger.error({ rideId, error: answer.error }, 'the relay refused this receipt; it is kept on the tablet');
      return true;
    }
    const delay = nextDelay(this.failures++, this.deps.random);
    this.deps.logger.warn({ rideId, error: answer.error, retryInMs: delay }, 'receipt not published yet; retrying');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delay);
    this.retryTimer.unref?.();
    return false;
  }
}
