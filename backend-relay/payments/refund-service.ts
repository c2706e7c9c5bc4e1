/**
 * refund.request for any PSP: idempotent by refundId (the final answer is replayed), only the
 * cab's own orders, the PSP's refund call, then `order.refunded` in the cab's log. Who asked
 * and when is kept in the refunds table.
 */
import type { Logger } from 'pino';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { refundRequest, type PspName, type RefundRequest, type RefundRequestAck } from '../../protocol/relay-protocol.js';
import { cabIdFromMerchantOrderId } from '../merchant-order-id.js';
import type { PaymentStore, RefundRecord } from '../store/payment-store.js';
import type { RelayStore } from '../store/relay-store.js';
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

export class RefundService {
  private readonly serial = new KeyedSerial();

  constructor(private readonly deps: RefundServiceDeps) {}

  async request(cabId: string, payload: unknown): Promise<RefundRequestAck> {
    const parsed = refundRequest.safeParse(payload);
    if (!parsed.success) return fail('invalid', `refund.request rejected: ${zodIssuesText(parsed.error, { limit: 5 })}`);
    const req = parsed.data;
    return this.serial.run(req.refundId, () => this.requestSerial(cabId, req));
  }

  private async requestSerial(cabId: string, req: RefundRequest): Promise<RefundRequestAck> {
    const { store, payments, providers, logger } = this.deps;
    if (cabIdFromMerchantOrderId(req.merchantOrderId) !== cabId || !req.merchantOrderId.endsWith(`.${req.rideId}`)) {
      return fail('forbidden', `order ${req.merchantOrderId} is not ride ${req.rideId} of this cab; a cab refunds only its own rides`);
    }
    const known = await payments.refund(req.refundId);
    if (known) {
      if (!sameRefund(known, cabId, req)) {
        return fail('invalid', `refund ${req.refundId} was already asked for with other details; use a new refundId`);
      }
      if (known.ack) return known.ack as RefundRequestAck;
    }
    const provider = providers.get(req.psp);
    if (!provider) {
      return fail('unsupported', `refunds of ${PSP_CAPABILITIES[req.psp].displayName} payments are not set up on this relay: set ${envFor(req.psp)}`);
    }
    const cab = await store.getCab(cabId);
    if (!cab) return fail('unavailable', 'the relay does not know this cab right now; send it again');

    const now = () => new Date().toISOString();
    await payments.insertRefund(
      {
        refundId: req.refundId,
        cabId,
        rideId: req.rideId,
        merchantOrderId: req.merchantOrderId,
        psp: req.psp,
        pspOrderId: req.pspOrderId,
        amount: req.amount,
        currency: req.currency,
        reason: req.reason,
        requestedBy: req.requestedBy,
        requestedAt: req.requestedAt,
      },
      now(),
    );
    const log = { cabId, refundId: req.refundId, merchantOrderId: req.merchantOrderId, amount: req.amount, currency: req.currency, requestedBy: req.requestedBy, requestedAt: req.requestedAt };
    const outcome = await provider.refund(req, cab);
    if (outcome.kind === 'retry') {
      logger.warn({ ...log, reason: outcome.reason }, 'refund not possible now; the tablet will retry');
      return fail('unavailable', `${PSP_CAPABILITIES[req.psp].displayName} could not be reached (${outcome.reason}); send the same refund again`);
    }
    if (outcome.kind === 'refused') {
      const ack = fail('refund_refused', outcome.message);
      await payments.finishRefund(req.refundId, 'refused', null, ack, now());
      logger.info({ ...log, code: outcome.code, message: outcome.message }, 'PSP refused the refund');
      return ack;
    }
    // The event first: its dedupe key makes a repeat after a crash harmless; the ack then seals it.
    await this.deps.emit(cabId, req.psp, `refund:${req.refundId}`, {
      type: 'order.refunded',
      data: { merchantOrderId: req.merchantOrderId, amount: req.amount, currency: req.currency, refundId: req.refundId },
    });
    const ack: RefundRequestAck = { ok: true, value: { refundedAmount: req.amount } };
    await payments.finishRefund(req.refundId, 'refunded', outcome.value.pspRefundId, ack, now());
    logger.info({ ...log, pspRefundId: outcome.value.pspRefundId }, 'refunded');
    return ack;
  }
}

function fail(code: string, message: string): { ok: false; error: { code: string; message: string } } {
  return { ok: false, error: { code, message } };
}

function sameRefund(row: RefundRecord, cabId: string, req: RefundRequest): boolean {
  return (
    row.cabId === cabId &&
    row.merchantOrderId === req.merchantOrderId &&
    row.pspOrderId === req.pspOrderId &&
    row.amount === req.amount &&
    row.currency === req.currency &&
    row.psp === req.psp
  );
}
