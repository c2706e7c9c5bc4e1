/**
 * Sends stored receipts to the relay (`receipt.publish`), oldest first, one at a time, while
 * the relay is connected (relay-queue.ts). A refusal for good (the relay says the receipt is
 * invalid or not this cab's) is recorded and logged, not retried forever.
 */
import type { Logger } from 'pino';
import type { ReceiptPayload, ReceiptPublishAck } from '../../protocol/receipt.js';
import { RelayQueue, type QueueStep } from './relay-queue.js';
import type { KioskStore, StoredReceipt } from './store.js';

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
  private readonly queue: RelayQueue<StoredReceipt>;

  constructor(private readonly deps: ReceiptPublisherDeps) {
    this.queue = new RelayQueue({
      what: 'receipt publishing',
      connected: deps.connected,
      next: () => deps.store()?.unpublishedReceipts(1)[0],
      send: ({ rideId, payloadJson }) => this.publish(rideId, payloadJson),
      random: deps.random,
      logger: deps.logger,
    });
  }

  kick(): void {
    this.queue.kick();
  }

  stop(): void {
    this.queue.stop();
  }

  private async publish(rideId: string, payloadJson: string): Promise<QueueStep> {
    const payload = JSON.parse(payloadJson) as ReceiptPayload;
    const answer = await this.deps.send(payload);
    const store = this.deps.store();
    if (!store) return { kind: 'stop' };
    if (answer.ok) {
      store.markReceiptPublished(rideId, payloadJson, this.deps.now().toISOString());
      this.deps.logger.info({ rideId, url: answer.value.url }, 'receipt published');
      return { kind: 'sent' };
    }
    if (FINAL_REFUSALS.has(answer.error.code)) {
      store.markReceiptRefused(rideId, payloadJson, `${answer.error.code}: ${answer.error.message}`);
      this.deps.logger.error({ rideId, error: answer.error }, 'the relay refused this receipt; it is kept on the tablet');
      return { kind: 'refused' };
    }
    return { kind: 'retry', log: { rideId, error: answer.error }, message: 'receipt not published yet; retrying' };
  }
}
