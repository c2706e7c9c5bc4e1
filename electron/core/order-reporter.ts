/**
 * Tells the relay of every order this tablet made at its PSP (Hips): `order.created`, oldest
 * first, one at a time, while the relay is connected (relay-queue.ts). With it the relay can ask
 * the PSP how the order ended when all of its webhooks are lost. A refusal for good (the relay
 * cannot ask this PSP, or says the order is not this cab's) is recorded and logged, not retried.
 */
import type { Logger } from 'pino';
import type { OrderCreated, OrderCreatedAck, PspName } from '../../protocol/relay-protocol.js';
import { RelayQueue, type QueueStep } from './relay-queue.js';
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
  private readonly queue: RelayQueue<OrderReport>;

  constructor(private readonly deps: OrderReporterDeps) {
    this.queue = new RelayQueue({
      what: 'order reporting',
      connected: deps.connected,
      next: () => deps.store()?.unsentOrderReports(1)[0],
      send: (report) => this.report(report),
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

  private async report(report: OrderReport): Promise<QueueStep> {
    const ride = this.deps.store()?.getRide(report.rideId);
    if (!ride) return { kind: 'stop' };
    const answer = await this.deps.send({
      psp: this.deps.psp,
      rideId: report.rideId,
      attempt: report.attempt,
      merchantOrderId: ride.merchantOrderId,
      pspOrderId: report.pspOrderId,
      createdAt: report.createdAt,
    });
    const store = this.deps.store();
    if (!store) return { kind: 'stop' };
    const log = { rideId: report.rideId, pspOrderId: report.pspOrderId };
    if (answer.ok) {
      store.markOrderReported(report.pspOrderId, this.deps.now().toISOString());
      this.deps.logger.info(log, 'order reported to the relay');
      return { kind: 'sent' };
    }
    if (FINAL_REFUSALS.has(answer.error.code)) {
      store.markOrderReportRefused(report.pspOrderId, `${answer.error.code}: ${answer.error.message}`);
      this.deps.logger.warn({ ...log, error: answer.error }, 'the relay will not follow up this order; only its webhooks can confirm it');
      return { kind: 'refused' };
    }
    return { kind: 'retry', log: { ...log, error: answer.error }, message: 'order not reported yet; retrying' };
  }
}
