/**
 * Relay-made payments (Vipps, HitPay): payment.request from the tablet, the PSP's updates
 * from the ingress, captures and expiries. The payments table is the source of truth; every
 * event carries a dedupe key, so a crash between two writes is repaired by the next try.
 */
import type { Logger } from 'pino';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { paymentRequest, type PaymentFailureCode, type PaymentRequest, type PaymentRequestAck, type PspName } from '../../protocol/relay-protocol.js';
import type { PaymentHooks } from '../ingress.js';
import type { CheckIn, PaymentUpdate } from '../psp/psp-adapter.js';
import { FINAL_PAYMENT_STATUSES, type PaymentRecord, type PaymentStatus, type PaymentStore } from '../store/payment-store.js';
import type { CabRecord, CabRoute, RelayStore } from '../store/relay-store.js';
import { cabCurrency, type DefaultCurrencies } from './cab-currency.js';
import type { EmitEvent } from './emit.js';
import { capturedAlready } from './capture-lookup.js';
import type { PaymentProvider } from './payment-provider.js';
import { Preauthorizations, type PreauthSettings } from './preauth-service.js';
import type { PreauthStore } from './preauth-store.js';
import { paymentReference } from './reference.js';
import { KeyedSerial } from './serial.js';
import { zodIssuesText } from '../../protocol/zod-issues.js';

/** A capture that failed with a retryable answer is tried again after this (then doubling). */
const CAPTURE_RETRY_MS = 2_000;
const CAPTURE_RETRY_MAX_MS = 60_000;
/** A payment whose PSP names no expiry of its own ends this long after it was made. */
const DEFAULT_DEADLINE_MS = 10 * 60_000;
/** Ended by the relay (a deadline, a newer attempt), not by the PSP's word: a late payment still counts. */
const ENDED_BY_RELAY: readonly PaymentStatus[] = ['expired', 'canceled'];
/** Statuses in which an older attempt may still be paid and must be canceled first. */
const LIVE: readonly PaymentStatus[] = ['pending', 'created'];

const FAILURE_BY_STATUS: Record<'failed' | 'expired' | 'canceled', { code: PaymentFailureCode; status: PaymentStatus; reason: string }> = {
  failed: { code: 'payment_rejected', status: 'failed', reason: 'the payment was rejected' },
  expired: { code: 'payment_expired', status: 'expired', reason: 'nobody paid before the payment request expired' },
  canceled: { code: 'payment_canceled', status: 'canceled', reason: 'the payment was canceled' },
};

export interface PaymentServiceDeps {
  store: RelayStore;
  payments: PaymentStore;
  emit: EmitEvent;
  logger: Logger;
  providers: ReadonlyMap<PspName, PaymentProvider>;
  /** The URL the PSP calls back for this PSP's payments. */
  webhookUrl(psp: PspName): string;
  sweepMs: number;
  /** The currency of a cab registered without one, per PSP. */
  defaultCurrencies?: DefaultCurrencies;
  /** Vipps pre-authorization (preauth-service.ts); without it the relay makes no reservations. */
  preauth?: { reservations: PreauthStore; settings: PreauthSettings | null };
}

export class PaymentService implements PaymentHooks {
  private readonly serial = new KeyedSerial();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly captureTimers = new Map<string, NodeJS.Timeout>();
  private readonly capturing = new Set<string>();
  private stopped = false;
  private readonly preauth: Preauthorizations | null;

  constructor(private readonly deps: PaymentServiceDeps) {
    this.preauth = deps.preauth
      ? new Preauthorizations({
          ...deps,
          ...deps.preauth,
          underRide: (cabId, rideId, task) => this.serial.run(`${cabId}\u0000${rideId}`, task),
          settlePaid: (cab, row) => this.settlePaid(cab, row, {}, new Date().toISOString()),
          emitFailed: (row, code, reason) => this.emitFailed(row, code, reason),
        })
      : null;
  }

  // ---- payment.request ------------------------------------------------------------------

  async request(cabId: string, payload: unknown): Promise<PaymentRequestAck> {
    const parsed = paymentRequest.safeParse(payload);
    if (!parsed.success) return fail('invalid', `payment.request rejected: ${zodIssuesText(parsed.error, { limit: 5 })}`);
    const req = parsed.data;
    // One ride at a time: a repeat waits for the first call and gets its answer.
    return this.serial.run(`${cabId}\u0000${req.rideId}`, () => this.requestSerial(cabId, req));
  }

  private async requestSerial(cabId: string, req: PaymentRequest): Promise<PaymentRequestAck> {
    const { store, payments, providers, logger } = this.deps;
    const cab = await store.getCab(cabId);
    if (!cab) return fail('unavailable', 'the relay does not know this cab right now; send it again');
    if (req.psp !== cab.psp) {
      return fail('wrong_psp', `this cab is registered for ${cab.psp}, not ${req.psp}; re-provision the cab or the tablet`);
    }
    const provider = providers.get(req.psp);
    if (!PSP_CAPABILITIES[req.psp].relayMakesPayment || !provider) {
      return fail(
        'unsupported',
        `the relay makes no ${req.psp} payments${PSP_CAPABILITIES[req.psp].relayMakesPayment ? ` (set ${envFor(req.psp)} on the relay)` : ''}`,
      );
    }
    // The cab's currency is the relay's to say: a tablet naming another is refused, not obeyed.
    const currency = cabCurrency(cab, this.deps.defaultCurrencies);
    if (req.currency !== currency) {
      return fail(
        'wrong_currency',
        `this cab charges in ${currency}, not ${req.currency}; set the tablet's currency to ${currency} (or the cab's with npm run fleet -- add … --currency)`,
      );
    }

    const existing = await payments.payment(cabId, req.rideId, req.attempt);
    if (existing) {
      if (!sameRequest(existing, req)) {
        return fail('invalid', `attempt ${req.attempt} of ride ${req.rideId} was already sent with other amounts; send a new attempt`);
      }
      if (existing.ack) return existing.ack as PaymentRequestAck;
    }
    if (await payments.paidAttemptOfRide(cabId, req.rideId)) {
      return fail('already_paid', `ride ${req.rideId} is already paid`);
    }

    // A check-in pays one ride: a second ride naming it (a passenger long gone) is refused.
    if (PSP_CAPABILITIES[req.psp].needsScanSession && req.sessionId) {
      const claim = await payments.claimCheckIn(cabId, req.sessionId, req.rideId);
      if (claim.status === 'used') {
        logger.warn(
          { cabId, rideId: req.rideId, sessionId: req.sessionId, usedBy: claim.rideId },
          'a check-in already used by another ride was sent again; refused',
        );
        return fail('checkin_used', `check-in ${req.sessionId} already paid another ride; ask the passenger to scan the QR again`);
      }
    }

    const canceled = await this.cancelOlderAttempts(cab, req, provider);
    if (canceled) return canceled;

    // An authorized reservation that covers the fare is used (no check-in token needed then).
    const reserved = await this.preauth?.atRideEnd(cab, req);
    if (reserved) return reserved;

    let customerToken: string | undefined;
    if (PSP_CAPABILITIES[req.psp].needsScanSession) {
      if (!req.sessionId) return fail('session_unknown', 'this payment needs the passenger’s check-in: send the sessionId of qr.session.started');
      const checkIn = await payments.checkIn(cabId, req.sessionId);
      if (!checkIn) return fail('session_unknown', `no check-in ${req.sessionId} for this cab; ask the passenger to scan the QR again`);
      if (Date.parse(checkIn.expiresAt) <= Date.now()) {
        return fail('customer_token_expired', 'the passenger’s check-in has expired; ask them to scan the QR again');
      }
      customerToken = checkIn.customerToken;
    }

    const reference = existing?.reference ?? paymentReference(cabId, req.rideId, req.attempt);
    const row =
      existing ??
      (await payments.insertPayment(
        {
          cabId,
          rideId: req.rideId,
          attempt: req.attempt,
          psp: req.psp,
          reference,
          sessionId: req.sessionId ?? null,
          orderAmount: req.orderAmount,
          tipAmount: req.tipAmount,
          currency: req.currency,
          lines: req.orderLines,
        },
        new Date().toISOString(),
      ));

    const outcome = await provider.createPayment({
      cab,
      request: req,
      reference: row.reference,
      idempotencyKey: row.reference,
      webhookUrl: this.deps.webhookUrl(req.psp),
      customerToken,
    });
    const now = new Date().toISOString();
    if (outcome.kind === 'retry') {
      // The row stays pending: the same attempt again calls the PSP with the same key.
      logger.warn({ cabId, rideId: req.rideId, attempt: req.attempt, reason: outcome.reason }, 'PSP not reachable for payment.request; the tablet will retry');
      return fail('unavailable', `${PSP_CAPABILITIES[req.psp].displayName} could not be reached (${outcome.reason}); send the same attempt again`);
    }
    if (outcome.kind === 'refused') {
      const ack = fail(outcome.code, outcome.message);
      await payments.updatePayment(row.reference, { status: 'failed', ack }, now, ['pending']);
      logger.info({ cabId, rideId: req.rideId, attempt: req.attempt, code: outcome.code }, 'PSP refused the payment request');
      return ((await payments.payment(cabId, req.rideId, req.attempt))?.ack as PaymentRequestAck | null) ?? ack;
    }
    const created = outcome.value;
    // Every open payment has a deadline, told to the tablet: past it the relay ends the payment.
    const expiresAt = created.expiresAt ?? created.qr?.expiresAt ?? new Date(Date.now() + DEFAULT_DEADLINE_MS).toISOString();
    const ack: PaymentRequestAck = { ok: true, value: { pspReference: created.pspReference, expiresAt } };
    await payments.updatePayment(row.reference, { status: 'created', pspReference: created.pspReference, ack, qr: created.qr ?? null, expiresAt }, now, [
      'pending',
    ]);
    if (created.qr) {
      await this.deps.emit(cabId, req.psp, `payment.qr:${row.reference}`, {
        type: 'payment.qr',
        data: {
          rideId: req.rideId,
          attempt: req.attempt,
          paymentRequestId: created.qr.paymentRequestId,
          qrData: created.qr.qrData,
          amount: req.orderAmount + req.tipAmount,
          currency: req.currency,
          expiresAt: created.qr.expiresAt,
        },
      });
    }
    logger.info(
      { cabId, rideId: req.rideId, attempt: req.attempt, reference: row.reference, pspReference: created.pspReference },
      'payment request created at the PSP',
    );
    return ack;
  }

  /** Cancels every older attempt still live; an answer when the new attempt must not go ahead. */
  private async cancelOlderAttempts(cab: CabRecord, req: PaymentRequest, provider: PaymentProvider): Promise<PaymentRequestAck | null> {
    const { payments, logger } = this.deps;
    for (const old of await payments.olderAttempts(cab.cabId, req.rideId, req.attempt)) {
      if (old.status === 'authorized' || old.status === 'captured' || old.captureDue) {
        return fail('already_paid', `attempt ${old.attempt} of ride ${req.rideId} is already paid (being captured)`);
      }
      if (!LIVE.includes(old.status)) continue;
      const outcome = await provider.cancelPayment(old.pspReference ?? old.reference, cab);
      if (outcome.kind === 'retry') {
        return fail('unavailable', `attempt ${old.attempt} could not be canceled yet (${outcome.reason}); send attempt ${req.attempt} again`);
      }
      if (outcome.kind === 'refused' && outcome.code === 'already_paid') {
        logger.warn({ cabId: cab.cabId, rideId: req.rideId, attempt: old.attempt }, 'older attempt was paid; newer attempt refused');
        return fail('already_paid', `attempt ${old.attempt} of ride ${req.rideId} was already paid`);
      }
      if (outcome.kind === 'refused') {
        // Not live at the PSP any more (never created, already ended): nothing left to pay.
        logger.info(
          { cabId: cab.cabId, rideId: req.rideId, attempt: old.attempt, code: outcome.code, message: outcome.message },
          'older attempt not cancelable; treated as ended',
        );
      }
      await payments.updatePayment(old.reference, { status: 'canceled' }, new Date().toISOString(), LIVE);
    }
    return null;
  }

  // ---- from the ingress ---------------------------------------------------------------

  async cabForPayment(pspReference: string): Promise<CabRoute | null> {
    const row = await this.deps.payments.paymentByPspReference(pspReference);
    if (!row && this.preauth) return this.preauth.cabForReservation(pspReference);
    return row ? this.deps.store.findRoute({ cabId: row.cabId }) : null;
  }

  async storeCheckIn(cab: CabRecord, checkIn: CheckIn): Promise<void> {
    await this.deps.payments.putCheckIn(cab.cabId, checkIn);
    await this.preauth?.onCheckIn(cab, checkIn);
  }

  async applyUpdate(cab: CabRecord, update: PaymentUpdate, _now: Date): Promise<'applied' | 'ignored'> {
    const reservation = await this.preauth?.applyUpdate(cab, update);
    if (reservation) return reservation;
    const row = await this.deps.payments.paymentByPspReference(update.pspReference);
    if (!row || row.cabId !== cab.cabId) return 'ignored';
    return this.serial.run(`${row.cabId}\u0000${row.rideId}`, () => this.applySerial(cab, row.reference, update));
  }

  private async applySerial(cab: CabRecord, reference: string, update: PaymentUpdate): Promise<'applied' | 'ignored'> {
    const { payments, logger } = this.deps;
    const row = await payments.paymentByReference(reference);
    if (!row) return 'ignored';
    // Money taken after the relay gave up on the payment (its deadline, a newer attempt) is still
    // the passenger's payment: it is recorded and the tablet told, never dropped.
    const latePaid = ENDED_BY_RELAY.includes(row.status) && (update.status === 'captured' || update.status === 'completed');
    if (FINAL_PAYMENT_STATUSES.has(row.status) && !latePaid) return 'ignored';
    const log = { cabId: row.cabId, rideId: row.rideId, attempt: row.attempt, reference, status: update.status };
    if (update.reference !== undefined && update.reference !== row.reference) {
      logger.error({ ...log, echoed: update.reference }, 'the PSP echoed another reference for this payment; update ignored');
      return 'ignored';
    }
    const now = new Date().toISOString();
    switch (update.status) {
      case 'authorized': {
        const provider = this.deps.providers.get(row.psp);
        if (!provider?.capturePayment) return 'ignored';
        if (row.status === 'authorized') return 'ignored';
        // Durable before the hook is answered: a restart finds capture_due and captures.
        if (!(await payments.updatePayment(reference, { status: 'authorized', captureDue: true }, now, ['pending', 'created']))) return 'ignored';
        logger.info(log, 'payment authorized; capturing');
        this.scheduleCapture(reference, 0);
        return 'applied';
      }
      case 'captured':
      case 'completed':
        return this.settlePaid(cab, row, update, now);
      case 'failed':
      case 'expired':
      case 'canceled': {
        const f = FAILURE_BY_STATUS[update.status];
        const code = update.failureCode ?? f.code;
        if (!(await payments.updatePayment(reference, { status: f.status, captureDue: false }, now, ['pending', 'created', 'authorized']))) return 'ignored';
        await this.emitFailed(row, code, update.reason ?? f.reason);
        logger.info({ ...log, code }, 'payment ended without payment');
        return 'applied';
      }
      case 'refunded':
        return 'ignored';
    }
  }

  private async settlePaid(
    cab: CabRecord,
    row: PaymentRecord,
    update: Pick<PaymentUpdate, 'amount' | 'pspPaymentId'>,
    now: string,
  ): Promise<'applied' | 'ignored'> {
    const { payments, logger } = this.deps;
    const expected = row.orderAmount + row.tipAmount;
    const log = { cabId: row.cabId, rideId: row.rideId, attempt: row.attempt, reference: row.reference };
    if (update.amount && (update.amount.value !== expected || update.amount.currency.toUpperCase() !== row.currency.toUpperCase())) {
      if (!(await payments.updatePayment(row.reference, { status: 'failed', captureDue: false }, now, ['pending', 'created', 'authorized']))) return 'ignored';
      logger.error(
        { ...log, expected: { value: expected, currency: row.currency }, reported: update.amount },
        'the PSP reported another amount than requested; not paid',
      );
      await this.emitFailed(
        row,
        'amount_mismatch',
        `the payment service reported ${update.amount.value} ${update.amount.currency}, not ${expected} ${row.currency}`,
      );
      return 'applied';
    }
    const other = await payments.paidAttemptOfRide(row.cabId, row.rideId);
    if (
      !(await payments.updatePayment(row.reference, { status: 'paid', captureDue: false }, now, [
        'pending',
        'created',
        'authorized',
        'captured',
        ...ENDED_BY_RELAY,
      ]))
    )
      return 'ignored';
    if (ENDED_BY_RELAY.includes(row.status)) logger.warn({ ...log, was: row.status }, 'paid after the relay had ended the payment; recorded as paid');
    if (other && other.reference !== row.reference) {
      // Two attempts of one ride both paid: the tablet already has its order.paid; refund this one.
      logger.error({ ...log, paidAttempt: other.attempt }, 'a second attempt of a paid ride was paid too; refund it');
      return 'applied';
    }
    await this.deps.emit(cab.cabId, row.psp, `paid:${row.reference}`, {
      type: 'order.paid',
      data: {
        merchantOrderId: `${row.cabId}.${row.rideId}`,
        pspOrderId: update.pspPaymentId ?? row.pspReference ?? row.reference,
        currency: row.currency,
        orderAmount: row.orderAmount,
        tipAmount: row.tipAmount,
        totalAmount: expected,
      },
    });
    logger.info(log, 'payment paid');
    return 'applied';
  }

  private async emitFailed(row: PaymentRecord, code: PaymentFailureCode, reason: string): Promise<void> {
    await this.deps.emit(row.cabId, row.psp, `failed:${row.reference}`, {
      type: 'order.failed',
      data: {
        merchantOrderId: `${row.cabId}.${row.rideId}`,
        pspOrderId: row.pspReference ?? row.reference,
        reason: reason.slice(0, 500) || code,
        code,
        attempt: row.attempt,
      },
    });
  }

  // ---- captures and expiries --------------------------------------------------------------

  private scheduleCapture(reference: string, delayMs: number): void {
    if (this.stopped || this.captureTimers.has(reference)) return;
    const timer = setTimeout(() => {
      this.captureTimers.delete(reference);
      void this.capture(reference, delayMs);
    }, delayMs);
    timer.unref();
    this.captureTimers.set(reference, timer);
  }

  private async capture(reference: string, lastDelayMs: number): Promise<void> {
    if (this.stopped || this.capturing.has(reference)) return;
    this.capturing.add(reference);
    const { payments, store, logger } = this.deps;
    try {
      const row = await payments.paymentByReference(reference);
      if (!row || !row.captureDue || row.status !== 'authorized') return;
      const cab = await store.getCab(row.cabId);
      const provider = this.deps.providers.get(row.psp);
      if (!cab || !provider?.capturePayment) {
        logger.error({ reference, psp: row.psp }, 'a capture is due but the cab or its PSP is gone; left for the operator');
        return;
      }
      const amount = { value: row.orderAmount + row.tipAmount, currency: row.currency };
      const pspReference = row.pspReference ?? row.reference;
      // A capture sent before without an answer (a timeout, a crash) is looked up, not repeated blindly.
      let outcome = (await payments.captureSentAt(reference)) ? await capturedAlready(provider, pspReference, amount.value, cab, logger) : null;
      if (outcome === null) {
        await payments.markCaptureSent(reference, new Date().toISOString());
        outcome = await provider.capturePayment(pspReference, amount, cab);
      }
      if (this.stopped) return;
      if (outcome.kind === 'retry') {
        const next = Math.min(Math.max(lastDelayMs * 2, CAPTURE_RETRY_MS), CAPTURE_RETRY_MAX_MS);
        logger.warn({ reference, reason: outcome.reason, retryInMs: next }, 'capture not possible now; trying again');
        this.scheduleCapture(reference, next);
        return;
      }
      await this.serial.run(`${row.cabId}\u0000${row.rideId}`, async () => {
        const now = new Date().toISOString();
        const fresh = await payments.paymentByReference(reference);
        if (!fresh || fresh.status !== 'authorized') return;
        if (outcome.kind === 'refused') {
          logger.error({ reference, code: outcome.code, message: outcome.message }, 'the PSP refused the capture');
          if (await payments.updatePayment(reference, { status: 'failed', captureDue: false }, now, ['authorized'])) {
            await this.emitFailed(fresh, 'payment_canceled', `the payment could not be captured: ${outcome.message}`);
          }
          return;
        }
        await this.settlePaid(cab, fresh, {}, now);
      });
    } catch (err) {
      logger.error({ err, reference }, 'capture failed; trying again');
      this.scheduleCapture(reference, Math.min(Math.max(lastDelayMs * 2, CAPTURE_RETRY_MS), CAPTURE_RETRY_MAX_MS));
    } finally {
      this.capturing.delete(reference);
    }
  }

  /** Expired payment requests are canceled at the PSP and reported; due captures are resumed. */
  async sweep(now = new Date()): Promise<void> {
    const { payments, store, logger } = this.deps;
    for (const row of await payments.capturesDue()) this.scheduleCapture(row.reference, 0);
    await this.preauth?.sweep(now);
    for (const row of await payments.expiredPayments(now.toISOString())) {
      if (this.stopped) return;
      const cab = await store.getCab(row.cabId);
      const provider = this.deps.providers.get(row.psp);
      if (!cab || !provider) continue;
      await this.serial.run(`${row.cabId}\u0000${row.rideId}`, async () => {
        const fresh = await payments.paymentByReference(row.reference);
        if (fresh?.status !== 'created') return;
        const outcome = await provider.cancelPayment(fresh.pspReference ?? fresh.reference, cab);
        if (outcome.kind === 'retry') {
          // The ride ends at its deadline all the same; the row stays live, so the next sweep (and a
          // newer attempt) cancels it at the PSP, and a payment that comes meanwhile is still applied.
          await this.emitFailed(fresh, 'payment_expired', DEADLINE_REASON);
          logger.warn(
            { reference: row.reference, reason: outcome.reason },
            'payment past its deadline could not be canceled at the PSP yet; the tablet was told it expired',
          );
          return;
        }
        if (outcome.kind === 'refused' && outcome.code === 'already_paid') {
          logger.warn({ reference: row.reference }, 'an expired payment request was paid; waiting for its hook');
          return;
        }
        if (await payments.updatePayment(fresh.reference, { status: 'expired' }, new Date().toISOString(), ['created'])) {
          await this.emitFailed(fresh, 'payment_expired', FAILURE_BY_STATUS.expired.reason);
          logger.info({ cabId: fresh.cabId, rideId: fresh.rideId, attempt: fresh.attempt }, 'payment request expired; canceled at the PSP');
        }
      });
    }
  }

  start(): void {
    if (this.sweepTimer) return;
    const run = () => void this.sweep().catch((err: unknown) => this.deps.logger.error({ err }, 'payment sweep failed'));
    run();
    this.sweepTimer = setInterval(run, this.deps.sweepMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.preauth?.stop();
    clearInterval(this.sweepTimer);
    for (const timer of this.captureTimers.values()) clearTimeout(timer);
    this.captureTimers.clear();
  }
}

const DEADLINE_REASON = 'nobody paid before the payment’s deadline';

function fail(code: string, message: string): { ok: false; error: { code: string; message: string } } {
  return { ok: false, error: { code, message } };
}

function sameRequest(row: PaymentRecord, req: PaymentRequest): boolean {
  return row.orderAmount === req.orderAmount && row.tipAmount === req.tipAmount && row.currency === req.currency && row.psp === req.psp;
}

/** The relay's environment variables that enable a PSP's calls, for messages. */
export function envFor(psp: PspName): string {
  switch (psp) {
    case 'hips':
      return 'HIPS_API_URL and HIPS_MERCHANT_KEY';
    case 'vipps':
      return 'VIPPS_BASE_URL, VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY, VIPPS_MSN and RELAY_PUBLIC_URL';
    case 'hitpay':
      return 'HITPAY_BASE_URL, HITPAY_API_KEY, HITPAY_SALT and RELAY_PUBLIC_URL';
  }
}
