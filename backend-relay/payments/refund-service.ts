/**
 * refund.request for any PSP. A refund names a payment the relay itself recorded as paid for
 * that cab and ride on that PSP (store/paid-payments.ts); the PSP's order id and the currency
 * come from that record, never from the tablet. Per payment, one request at a time: what was
 * refunded or is pending must leave room for the amount, and a refund whose outcome is unknown
 * (sent, no answer) is looked up at the PSP before anything else, never sent again blindly.
 * Idempotent by refundId; every request is audited (GET /admin/refunds), and the paid cab gets
 * `order.refunded` in its log.
 */
import type { Logger } from 'pino';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { refundRequest, type PspName, type RefundRequest, type RefundRequestAck } from '../../protocol/relay-protocol.js';
import type { PaidPayment } from '../store/paid-payments.js';
import type { PaymentStore, RefundAuditOutcome, RefundRecord } from '../store/payment-store.js';
import type { CabRecord, RelayStore } from '../store/relay-store.js';
import type { EmitEvent } from './emit.js';
import type { PaymentProvider } from './payment-provider.js';
import { envFor } from './payment-service.js';
import { KeyedSerial } from './serial.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

export interface RefundServiceDeps {
  store: RelayStore;
  payments: PaymentStore;
  emit: EmitEvent;
  logger: Logger;
  providers: ReadonlyMap<PspName, PaymentProvider>;
}

type Failure = { ok: false; error: { code: string; message: string } };

export class RefundService {
  /** One refund at a time per paid payment (psp + pspOrderId). */
  private readonly perPayment = new KeyedSerial();

  constructor(private readonly deps: RefundServiceDeps) {}

  async request(cabId: string, payload: unknown): Promise<RefundRequestAck> {
    const parsed = refundRequest.safeParse(payload);
    if (!parsed.success) return fail('invalid', `refund.request rejected: ${zodIssuesText(parsed.error, { limit: 5 })}`);
    const req = parsed.data;
    const receivedAt = new Date().toISOString();
    if (req.merchantOrderId !== `${cabId}.${req.rideId}`) {
      const ack = fail('forbidden', `order ${req.merchantOrderId} is not ride ${req.rideId} of this cab; a cab refunds only its own rides`);
      return this.answer(cabId, req, null, receivedAt, ack);
    }
    const paid = await this.paidPaymentFor(cabId, req);
    if (!('pspOrderId' in paid)) return this.answer(cabId, req, null, receivedAt, paid);
    return this.perPayment.run(`${paid.psp}\u0000${paid.pspOrderId}`, async () =>
      this.answer(cabId, req, paid, receivedAt, await this.underPaymentLock(cabId, req, paid)),
    );
  }

  /** The payment of this cab's ride on this PSP as the relay recorded it paid. */
  private async paidPaymentFor(cabId: string, req: RefundRequest): Promise<PaidPayment | Failure> {
    const paid = await this.deps.payments.paidPaymentsOfRide(cabId, req.rideId);
    if (paid.length === 0) {
      return fail('not_paid', `the relay has no record that ride ${req.rideId} of this cab was paid; only a payment the relay saw paid can be refunded`);
    }
    const onPsp = paid.filter((p) => p.psp === req.psp);
    if (onPsp.length === 0) {
      return fail('wrong_psp', `ride ${req.rideId} was paid with ${PSP_CAPABILITIES[paid[0]!.psp].displayName}, not ${PSP_CAPABILITIES[req.psp].displayName}`);
    }
    const named = onPsp.find((p) => p.pspOrderId === req.pspOrderId);
    if (!named) {
      this.deps.logger.warn(
        { cabId, rideId: req.rideId, claimed: req.pspOrderId, recorded: onPsp[0]!.pspOrderId },
        'refund.request named another PSP order than the ride’s paid one; the recorded one is refunded',
      );
    }
    return named ?? onPsp[0]!;
  }

  private async underPaymentLock(cabId: string, req: RefundRequest, paid: PaidPayment): Promise<RefundRequestAck> {
    const { store, payments, providers, logger } = this.deps;
    const known = await payments.refund(req.refundId);
    if (known) {
      if (known.cabId !== cabId || known.rideId !== req.rideId || known.amount !== req.amount || known.psp !== req.psp) {
        return fail('invalid', `refund ${req.refundId} was already asked for with other details; use a new refundId`);
      }
      if (known.ack) return known.ack as RefundRequestAck;
    }
    const provider = providers.get(paid.psp);
    if (!provider) {
      return fail('unsupported', `refunds of ${PSP_CAPABILITIES[paid.psp].displayName} payments are not set up on this relay: set ${envFor(paid.psp)}`);
    }
    const cab = await store.getCab(cabId);
    if (!cab) return fail('unavailable', 'the relay does not know this cab right now; send it again');

    const unresolved = await this.resolveUnknownRefunds(paid, cab, provider);
    if (unresolved) return unresolved;
    const settled = await payments.refund(req.refundId);
    if (settled?.ack) return settled.ack as RefundRequestAck;

    const now = () => new Date().toISOString();
    const reservation = await payments.reserveRefund(
      {
        refundId: req.refundId,
        cabId,
        rideId: req.rideId,
        merchantOrderId: paid.merchantOrderId,
        psp: paid.psp,
        pspOrderId: paid.pspOrderId,
        amount: req.amount,
        currency: paid.currency,
        reason: req.reason,
        requestedBy: req.requestedBy,
        requestedAt: req.requestedAt,
      },
      paid,
      now(),
    );
    if (reservation.kind === 'exceeds') {
      const ack = fail(
        'exceeds_refundable',
        `at most ${reservation.refundable} ${paid.currency} of ride ${req.rideId} can still be refunded (paid ${paid.totalAmount}, the rest refunded or being refunded); not ${req.amount}`,
      );
      // A refund stored before (sent and found not booked) ends here for good.
      if (settled) await payments.finishRefund(req.refundId, 'refused', null, ack, now());
      return ack;
    }
    const refund = reservation.refund;
    const log = {
      cabId,
      refundId: refund.refundId,
      merchantOrderId: refund.merchantOrderId,
      pspOrderId: refund.pspOrderId,
      amount: refund.amount,
      currency: refund.currency,
      requestedBy: refund.requestedBy,
    };
    // Durable before the call: after a timeout or a crash, the PSP is asked what it booked.
    await payments.markRefundCalled(refund.refundId, now());
    const outcome = await provider.refund({ ...req, merchantOrderId: refund.merchantOrderId, pspOrderId: refund.pspOrderId, currency: refund.currency }, cab);
    if (outcome.kind === 'retry') {
      logger.warn({ ...log, reason: outcome.reason }, 'refund outcome unknown; the PSP is asked before anything else');
      return fail('unavailable', `${PSP_CAPABILITIES[paid.psp].displayName} did not answer the refund (${outcome.reason}); send the same refund again`);
    }
    if (outcome.kind === 'refused') {
      const ack = fail('refund_refused', outcome.message);
      await payments.finishRefund(refund.refundId, 'refused', null, ack, now());
      logger.info({ ...log, code: outcome.code, message: outcome.message }, 'PSP refused the refund');
      return ack;
    }
    const ack = await this.settleRefunded(refund, outcome.value.pspRefundId);
    logger.info({ ...log, pspRefundId: outcome.value.pspRefundId }, 'refunded');
    return ack;
  }

  /**
   * Refunds of this payment that were sent without an answer: the PSP's refunded total says
   * whether they were booked (then settled as refunded) or not (then they may be sent again).
   * A failure when the PSP cannot tell now, or tells something the relay cannot explain.
   */
  private async resolveUnknownRefunds(paid: PaidPayment, cab: CabRecord, provider: PaymentProvider): Promise<Failure | null> {
    const { payments, logger } = this.deps;
    const refunds = await payments.refundsOfPayment(paid.psp, paid.pspOrderId);
    const unknown = refunds.filter((r) => r.status === 'pending' && r.pspCalledAt !== null);
    if (unknown.length === 0) return null;
    const name = PSP_CAPABILITIES[paid.psp].displayName;
    const lookup = await provider.refundedSoFar({ pspOrderId: paid.pspOrderId, currency: paid.currency }, cab);
    if (lookup.kind === 'retry') {
      return fail('unavailable', `${name} could not be asked what became of an earlier refund of this payment (${lookup.reason}); send the refund again`);
    }
    const log = { cabId: paid.cabId, psp: paid.psp, pspOrderId: paid.pspOrderId, unknown: unknown.map((r) => r.refundId) };
    if (lookup.kind === 'refused') {
      logger.error({ ...log, code: lookup.code, message: lookup.message }, 'cannot learn what the PSP refunded of a paid payment');
      return fail('refund_unresolved', `${name} would not say what it refunded of this payment (${lookup.message}); the fleet office must check it`);
    }
    const confirmed = refunds.filter((r) => r.status === 'refunded').reduce((sum, r) => sum + r.amount, 0);
    const booked = lookup.value - confirmed;
    const pending = unknown.reduce((sum, r) => sum + r.amount, 0);
    const now = new Date().toISOString();
    if (booked === 0) {
      for (const r of unknown) await payments.markRefundNotSent(r.refundId, now);
      logger.info({ ...log, refundedAtPsp: lookup.value }, 'unanswered refunds were not booked by the PSP; they may be sent again');
      return null;
    }
    if (booked === pending) {
      for (const r of unknown) await this.settleRefunded(r, null);
      logger.info({ ...log, refundedAtPsp: lookup.value }, 'unanswered refunds were booked by the PSP; settled without calling again');
      return null;
    }
    logger.error({ ...log, refundedAtPsp: lookup.value, confirmed, pending }, 'the PSP refunded an amount the relay cannot explain');
    return fail(
      'refund_unresolved',
      `${name} has refunded ${lookup.value} ${paid.currency} of this payment, the relay confirmed ${confirmed} and has ${pending} without an answer; the fleet office must check it`,
    );
  }

  /** The event first: its dedupe key makes a repeat after a crash harmless; the ack then seals it. */
  private async settleRefunded(refund: RefundRecord, pspRefundId: string | null): Promise<RefundRequestAck> {
    await this.deps.emit(refund.cabId, refund.psp, `refund:${refund.refundId}`, {
      type: 'order.refunded',
      data: { merchantOrderId: refund.merchantOrderId, amount: refund.amount, currency: refund.currency, refundId: refund.refundId },
    });
    const ack: RefundRequestAck = { ok: true, value: { refundedAmount: refund.amount } };
    await this.deps.payments.finishRefund(refund.refundId, 'refunded', pspRefundId, ack, new Date().toISOString());
    return ack;
  }

  /** Every answer is audited: who asked, which cab and payment, when, how much, and how it ended. */
  private async answer(cabId: string, req: RefundRequest, paid: PaidPayment | null, receivedAt: string, ack: RefundRequestAck): Promise<RefundRequestAck> {
    const outcome: RefundAuditOutcome = ack.ok
      ? 'refunded'
      : ack.error.code === 'refund_refused'
        ? 'refused'
        : ack.error.code === 'unavailable'
          ? 'unavailable'
          : 'rejected';
    try {
      await this.deps.payments.auditRefund({
        refundId: req.refundId,
        cabId,
        rideId: req.rideId,
        psp: paid?.psp ?? req.psp,
        pspOrderId: paid?.pspOrderId ?? null,
        amount: req.amount,
        currency: paid?.currency ?? null,
        requestedBy: req.requestedBy,
        requestedAt: req.requestedAt,
        receivedAt,
        outcome,
        code: ack.ok ? null : ack.error.code,
        message: ack.ok ? null : ack.error.message,
      });
    } catch (err) {
      this.deps.logger.error({ err, cabId, refundId: req.refundId }, 'refund audit not written');
    }
    return ack;
  }
}

function fail(code: string, message: string): Failure {
  return { ok: false, error: { code, message } };
}
