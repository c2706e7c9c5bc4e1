/**
 * Reconciliation with the PSPs. A payment whose webhooks were all lost (a relay outage longer
 * than the PSP's retries) would otherwise never be confirmed: the passenger paid, the tablet
 * says not. So every payment or order still without an outcome `afterMs` after it was made is
 * asked about at its PSP, with the fleet's credentials, and the answer is applied exactly as
 * its webhook would have been (the same mapping, the same dedupe key or payment-row guard), so
 * a hook that arrives as well changes nothing. Still open: asked again later, less and less often.
 *
 * - Vipps, HitPay (relay-made payments): `payments` rows still `created`; the PSP's state goes
 *   through the payment service (`applyUpdate`: amount checks, capture, order.paid once).
 * - Hips (the tablet makes the order): orders the tablet reported with `order.created`
 *   (`order-reports.ts`); the relay reads `GET /v2/orders/{id}` with the merchant key and keeps
 *   only an order whose merchant order id is that cab's ride.
 *
 * Runs at start and every `everyMs`, on the node holding the `reconcile` lease.
 */
import type { Logger } from 'pino';
import type { PspName } from '../../protocol/relay-protocol.js';
import type { RelayMetrics } from '../metrics.js';
import type { EmitEvent } from '../payments/emit.js';
import type { PaymentProvider } from '../payments/payment-provider.js';
import { hipsOrderDedupeKey, hipsOrderEvent } from '../psp/hips.js';
import type { PaymentUpdate } from '../psp/psp-adapter.js';
import type { PaymentStore } from '../store/payment-store.js';
import type { CabRecord, RelayStore } from '../store/relay-store.js';
import type { Lease } from './lease.js';
import type { ReconcileRecord, ReconcileStore, SettledBy } from './reconcile-store.js';

export const RECONCILE_LEASE = 'reconcile';
/** Checks of one payment back off from `afterMs`, doubling, to at most this apart. */
const MAX_CHECK_GAP_MS = 30 * 60_000;
/** A payment still open this long after it was made is given up on (and logged for the operator). */
const GIVE_UP_AFTER_MS = 2 * 24 * 3600_000;
/** A PSP that keeps saying it has no such order or payment: after this many checks the claim is rejected. */
const UNKNOWN_CHECKS = 3;
const BATCH = 100;
const ENROLL_BATCH = 500;
const PARALLEL = 4;

export type ReconcileOutcome =
  /** Applied from the PSP's answer: the webhooks had not brought it. */
  | 'paid'
  | 'failed'
  | 'authorized'
  /** A webhook (or the payment's own flow) settled it first; nothing to do. */
  | 'already_settled'
  /** Asked again later. */
  | 'pending'
  | 'unknown'
  | 'error'
  /** No more checks. */
  | 'rejected'
  | 'abandoned';

export interface ReconcileSummary {
  enrolled: number;
  checked: number;
  outcomes: Partial<Record<ReconcileOutcome, number>>;
  /** False when another node holds the lease (or a run was still going). */
  ran: boolean;
}

export interface ReconcilerDeps {
  store: Pick<RelayStore, 'getCab' | 'isKnownHook'>;
  reconciliations: ReconcileStore;
  paymentRows: Pick<PaymentStore, 'paymentByReference'>;
  /** The payment service: applies a PSP update to the payment's row, as the ingress does. */
  payments: { applyUpdate(cab: CabRecord, update: PaymentUpdate, now: Date): Promise<'applied' | 'ignored'> };
  providers: ReadonlyMap<PspName, PaymentProvider>;
  emit: EmitEvent;
  lease: Lease;
  metrics: Pick<RelayMetrics, 'reconciliations'>;
  logger: Logger;
  /** How long a payment may go without its PSP's word before the relay asks. */
  afterMs: number;
  everyMs: number;
  now?: () => Date;
}

type CheckResult =
  | { outcome: Extract<ReconcileOutcome, 'pending' | 'unknown' | 'error'>; detail: string | null }
  | { outcome: Exclude<ReconcileOutcome, 'pending' | 'unknown' | 'error'>; settledBy: SettledBy | null; detail: string | null };

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileSummary> | null = null;
  private stopped = false;
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Runs now (a restart may have missed hooks) and then every `everyMs`. */
  start(): void {
    if (this.timer || this.stopped) return;
    const run = () => void this.run().catch((err: unknown) => this.deps.logger.error({ err }, 'reconciliation run failed; trying again at the next'));
    run();
    this.timer = setInterval(run, this.deps.everyMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass; a pass still going is joined rather than doubled. */
  run(): Promise<ReconcileSummary> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<ReconcileSummary> {
    const { reconciliations, lease, logger } = this.deps;
    const summary: ReconcileSummary = { enrolled: 0, checked: 0, outcomes: {}, ran: false };
    const now = this.now();
    // Held a while past the next run, so a node that stopped hands over after a few minutes at most.
    if (this.stopped || !lease.acquire(RECONCILE_LEASE, Math.max(3 * this.deps.everyMs, 60_000), now.getTime())) return summary;
    summary.ran = true;
    summary.enrolled = await reconciliations.enrollPayments(new Date(now.getTime() - this.deps.afterMs).toISOString(), now.toISOString(), ENROLL_BATCH);
    const due = await reconciliations.due(now.toISOString(), BATCH);
    const queue = [...due];
    const worker = async () => {
      for (let row = queue.shift(); row && !this.stopped; row = queue.shift()) {
        const outcome = await this.checkOne(row);
        summary.checked++;
        summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
    if (summary.checked > 0) logger.info({ enrolled: summary.enrolled, checked: summary.checked, outcomes: summary.outcomes }, 'reconciliation run');
    return summary;
  }

  private async checkOne(row: ReconcileRecord): Promise<ReconcileOutcome> {
    const { reconciliations, metrics, logger } = this.deps;
    const log = { psp: row.psp, pspId: row.pspId, cabId: row.cabId, rideId: row.rideId, attempt: row.attempt, checks: row.checks + 1 };
    let result: CheckResult;
    try {
      const cab = await this.deps.store.getCab(row.cabId);
      result = !cab
        ? { outcome: 'abandoned', settledBy: null, detail: 'the cab was removed' }
        : row.psp === 'hips'
          ? await this.checkOrder(row, cab)
          : await this.checkPayment(row, cab);
    } catch (err) {
      logger.error({ ...log, err }, 'reconciliation check failed; asking again later');
      result = { outcome: 'error', detail: (err as Error).message };
    }
    const nowMs = this.now().getTime();
    const nowIso = new Date(nowMs).toISOString();
    if ('settledBy' in result) {
      const status = result.outcome === 'rejected' ? 'rejected' : result.outcome === 'abandoned' ? 'abandoned' : 'settled';
      await reconciliations.close(row, status, result.outcome, result.settledBy, result.detail, nowIso);
    } else if (nowMs - Date.parse(row.openedAt) > GIVE_UP_AFTER_MS) {
      logger.error(
        { ...log, last: result.outcome, detail: result.detail },
        'the PSP has not said how this payment ended for two days; given up: check it in the PSP’s dashboard',
      );
      await reconciliations.close(row, 'abandoned', result.outcome, null, result.detail, nowIso);
      result = { outcome: 'abandoned', settledBy: null, detail: result.detail };
    } else if (result.outcome === 'unknown' && row.checks + 1 >= UNKNOWN_CHECKS) {
      logger.warn({ ...log }, 'the PSP keeps saying it has no such payment; no more checks');
      await reconciliations.close(row, 'rejected', 'unknown', null, result.detail, nowIso);
      result = { outcome: 'rejected', settledBy: null, detail: result.detail };
    } else {
      const gap = Math.min(this.deps.afterMs * 2 ** (row.checks + 1), MAX_CHECK_GAP_MS);
      await reconciliations.reschedule(row, new Date(nowMs + gap).toISOString(), result.outcome, result.detail, nowIso);
    }
    metrics.reconciliations.inc({ psp: row.psp, outcome: result.outcome });
    if ('settledBy' in result && result.settledBy === 'reconciliation') {
      logger.warn({ ...log, outcome: result.outcome, detail: result.detail }, 'payment outcome learnt by asking the PSP: its webhooks never arrived');
    } else if (result.outcome === 'error') {
      logger.warn({ ...log, detail: result.detail }, 'the PSP could not be asked about a payment; asking again later');
    } else {
      logger.debug({ ...log, outcome: result.outcome }, 'reconciliation check');
    }
    return result.outcome;
  }

  /** Vipps, HitPay: the payment row decides whether to ask; the payment service applies the answer. */
  private async checkPayment(row: ReconcileRecord, cab: CabRecord): Promise<CheckResult> {
    const payment = await this.deps.paymentRows.paymentByReference(row.pspId);
    if (!payment) return { outcome: 'abandoned', settledBy: null, detail: 'the payment row is gone' };
    // Expired by the relay at its deadline: the PSP is asked once whether it took the money anyway.
    if (payment.status !== 'created' && payment.status !== 'expired') return { outcome: 'already_settled', settledBy: 'webhook', detail: payment.status };
    const provider = this.deps.providers.get(payment.psp);
    if (!provider?.checkPayment) return { outcome: 'error', detail: `the relay cannot ask ${payment.psp} about payments (not configured)` };
    const answer = await provider.checkPayment(payment.pspReference ?? payment.reference, cab);
    if (answer.kind === 'retry') return { outcome: 'error', detail: answer.reason };
    if (answer.kind === 'refused') return { outcome: 'error', detail: `${answer.code}: ${answer.message}` };
    const check = answer.value;
    if (payment.status === 'expired' && check.kind !== 'update')
      return { outcome: 'already_settled', settledBy: null, detail: `expired; ${payment.psp} says ${check.kind}` };
    if (check.kind === 'open') return { outcome: 'pending', detail: null };
    if (check.kind === 'unknown') return { outcome: 'unknown', detail: `${payment.psp} has no payment ${payment.pspReference ?? payment.reference}` };
    const applied = await this.deps.payments.applyUpdate(cab, check.update, this.now());
    if (applied === 'ignored') return { outcome: 'already_settled', settledBy: 'webhook', detail: check.update.status };
    const outcome =
      check.update.status === 'authorized' ? 'authorized' : check.update.status === 'captured' || check.update.status === 'completed' ? 'paid' : 'failed';
    return { outcome, settledBy: 'reconciliation', detail: check.update.status };
  }

  /** Hips: the order as Hips holds it; its outcome becomes the same event its webhook makes. */
  private async checkOrder(row: ReconcileRecord, cab: CabRecord): Promise<CheckResult> {
    const { store } = this.deps;
    for (const outcome of ['paid', 'failed'] as const) {
      if (await store.isKnownHook('hips', hipsOrderDedupeKey(row.pspId, outcome))) return { outcome: 'already_settled', settledBy: 'webhook', detail: outcome };
    }
    const provider = this.deps.providers.get('hips');
    if (!provider?.lookupOrder) return { outcome: 'error', detail: 'the relay cannot read Hips orders: set HIPS_API_URL and HIPS_MERCHANT_KEY' };
    const answer = await provider.lookupOrder(row.pspId);
    if (answer.kind === 'retry') return { outcome: 'error', detail: answer.reason };
    if (answer.kind === 'refused') return { outcome: 'error', detail: `${answer.code}: ${answer.message}` };
    const order = answer.value;
    if (!order) return { outcome: 'unknown', detail: `Hips has no order ${row.pspId}` };
    const expected = `${cab.cabId}.${row.rideId}`;
    if (order.merchantOrderId !== expected) {
      this.deps.logger.error(
        { cabId: cab.cabId, pspOrderId: row.pspId, merchantOrderId: order.merchantOrderId, expected },
        'a tablet reported a Hips order that is not its ride’s; ignored',
      );
      return { outcome: 'rejected', settledBy: null, detail: `the order belongs to ${order.merchantOrderId}, not ${expected}` };
    }
    if (order.state === 'open') return { outcome: 'pending', detail: order.status };
    const { dedupeKey, event } = hipsOrderEvent({ ...order, state: order.state });
    const stored = await this.deps.emit(cab.cabId, 'hips', dedupeKey, event);
    if (stored === 'duplicate') return { outcome: 'already_settled', settledBy: 'webhook', detail: order.status };
    return { outcome: order.state, settledBy: 'reconciliation', detail: order.status };
  }
}
