/**
 * Vipps pre-authorization (fleet setting VIPPS_PREAUTHORIZE, off by default). At check-in
 * the relay pushes a reservation of VIPPS_PREAUTH_AMOUNT to the passenger; at ride end the normal
 * payment.request uses it when it is authorized and covers order + tip: the final amount is
 * captured, order.paid follows, and the rest is released. Otherwise the reservation is canceled
 * and the payment service makes a normal payment. The tablet protocol does not change.
 *
 * Durable: every step is a status in `reservations` (`*_due` = work left), swept on start and on
 * every payment sweep; PSP calls are idempotent, so a crash between a call and its write repeats
 * the call harmlessly.
 */
import type { Logger } from 'pino';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import type { PaymentFailureCode, PaymentRequest, PaymentRequestAck, PspName } from '../../protocol/relay-protocol.js';
import type { CheckIn, PaymentUpdate } from '../psp/psp-adapter.js';
import { FINAL_PAYMENT_STATUSES, type PaymentRecord, type PaymentStore } from '../store/payment-store.js';
import type { CabRecord, CabRoute, RelayStore } from '../store/relay-store.js';
import { capturedAlready } from './capture-lookup.js';
import type { PaymentProvider } from './payment-provider.js';
import { OPEN_RESERVATION_STATUSES, type PreauthStore, type ReservationRecord, type ReservationStatus } from './preauth-store.js';
import { paymentReference } from './reference.js';
import { KeyedSerial } from './serial.js';
import type { VippsPaymentProvider } from './vipps-provider.js';

/** What the fleet reserves at check-in: the largest fare plus tip. */
export interface PreauthSettings {
  amount: number;
  currency: string;
}

/** A reservation nobody used (no ride end came) is released after this. */
export const RESERVATION_MAX_AGE_MS = 6 * 3600 * 1000;
const RETRY_MS = 2_000;
const RETRY_MAX_MS = 60_000;
const CLAIMED: readonly ReservationStatus[] = ['capture_due', 'release_due', 'settled', 'release_failed'];

/** The provider calls a reservation needs (Vipps' provider has them). */
type ReservingProvider = Pick<VippsPaymentProvider, 'reserve' | 'capturePayment' | 'capturedSoFar' | 'cancelPayment'>;

export interface PreauthDeps {
  store: RelayStore;
  payments: PaymentStore;
  reservations: PreauthStore;
  logger: Logger;
  providers: ReadonlyMap<PspName, PaymentProvider>;
  /** null: the fleet setting is off; no new reservations, but stored ones are still finished. */
  settings: PreauthSettings | null;
  /** Runs `task` in the payment service's queue of the ride (the same one payment.request uses). */
  underRide<T>(cabId: string, rideId: string, task: () => Promise<T>): Promise<T>;
  /** The payment service's own settle: status paid and order.paid once. */
  settlePaid(cab: CabRecord, row: PaymentRecord): Promise<unknown>;
  emitFailed(row: PaymentRecord, code: PaymentFailureCode, reason: string): Promise<void>;
}

/** The settings from the relay's Vipps configuration; null when pre-authorization is off. */
export function preauthSettings(vipps: { preauthorize?: boolean; preauthAmount?: number; preauthCurrency?: string } | undefined): PreauthSettings | null {
  if (!vipps?.preauthorize || vipps.preauthAmount === undefined) return null;
  return { amount: vipps.preauthAmount, currency: vipps.preauthCurrency ?? 'NOK' };
}

/** The reservation's reference: one per check-in (attempt 0 marks it as no ride attempt). */
export function reservationReference(cabId: string, sessionId: string): string {
  return paymentReference(cabId, `reserve-${sessionId}`, 0);
}

export function reservationDescription(plate: string): string {
  return `Reservation, taxi ${plate.trim()}: you pay only the final fare`;
}

export class Preauthorizations {
  private readonly serial = new KeyedSerial();
  private readonly queued = new Set<string>();
  private readonly backoff = new Map<string, { at: number; delayMs: number }>();
  private stopped = false;

  constructor(private readonly deps: PreauthDeps) {}

  private reserver(psp: PspName): ReservingProvider | null {
    const p = this.deps.providers.get(psp) as Partial<ReservingProvider> | undefined;
    return p && typeof p.reserve === 'function' && typeof p.capturePayment === 'function' ? (p as ReservingProvider) : null;
  }

  // ---- check-in ---------------------------------------------------------------------------

  /** Stores a reservation for the check-in and pushes it; the hook's answer does not wait for Vipps. */
  async onCheckIn(cab: CabRecord, checkIn: CheckIn): Promise<void> {
    const { settings, reservations, logger } = this.deps;
    if (!settings || !PSP_CAPABILITIES[cab.psp].needsScanSession || !this.reserver(cab.psp)) return;
    if (Date.parse(checkIn.expiresAt) <= Date.now()) return;
    const now = new Date().toISOString();
    // A new check-in is a new passenger (or a rescan): what the cab reserved before is released.
    for (const old of await reservations.openOfCab(cab.cabId)) {
      if (old.sessionId === checkIn.sessionId) continue;
      if (await reservations.move(old.reference, OPEN_RESERVATION_STATUSES, 'cancel_due', now)) {
        logger.info({ cabId: cab.cabId, reference: old.reference }, 'a newer check-in on the cab; releasing the older reservation');
        this.kick(old.reference);
      }
    }
    const res = await reservations.insert(
      { reference: reservationReference(cab.cabId, checkIn.sessionId), cabId: cab.cabId, sessionId: checkIn.sessionId, psp: cab.psp, ...settings },
      now,
    );
    if (res.status === 'pending') this.kick(res.reference);
  }

  // ---- ride end -----------------------------------------------------------------------------

  /**
   * Called by payment.request (in the ride's queue) before a normal payment is made. An ack when
   * the session's authorized reservation covers the fare (claimed: capture follows); null when
   * the normal path must pay, after marking an unusable reservation for cancellation.
   */
  async atRideEnd(cab: CabRecord, req: PaymentRequest): Promise<PaymentRequestAck | null> {
    const { reservations, logger } = this.deps;
    if (!req.sessionId) return null;
    const res = await reservations.bySession(cab.cabId, req.sessionId);
    if (!res) return null;
    const total = req.orderAmount + req.tipAmount;
    const log = { cabId: cab.cabId, rideId: req.rideId, attempt: req.attempt, reference: res.reference, reserved: res.amount, total };
    const now = new Date().toISOString();
    if (res.status === 'authorized' && res.currency === req.currency && total <= res.amount) {
      const ack: PaymentRequestAck = { ok: true, value: { pspReference: res.reference } };
      const payment = {
        cabId: cab.cabId,
        rideId: req.rideId,
        attempt: req.attempt,
        psp: req.psp,
        reference: res.reference,
        sessionId: req.sessionId,
        orderAmount: req.orderAmount,
        tipAmount: req.tipAmount,
        currency: req.currency,
        lines: req.orderLines,
      };
      if (await reservations.claim(res.reference, payment, total, ack, now)) {
        logger.info(log, 'the reservation covers the fare; capturing the final amount and releasing the rest');
        this.kick(res.reference);
        return ack;
      }
    }
    if (await reservations.move(res.reference, OPEN_RESERVATION_STATUSES, 'cancel_due', now)) {
      const why =
        res.status !== 'authorized'
          ? `the reservation is ${res.status}, not authorized`
          : res.currency !== req.currency
            ? `the reservation is in ${res.currency}, the fare in ${req.currency}`
            : 'the fare is more than was reserved';
      logger.info({ ...log, why }, 'reservation not usable; canceling it and making a normal payment');
      this.kick(res.reference);
    }
    return null;
  }

  // ---- from the ingress ---------------------------------------------------------------------

  async cabForReservation(reference: string): Promise<CabRoute | null> {
    const res = await this.deps.reservations.byReference(reference);
    return res ? this.deps.store.findRoute({ cabId: res.cabId }) : null;
  }

  /**
   * A Vipps update for a reservation. null: not a reservation's, or the capture of a claimed one,
   * which the payment service settles like any payment (amount check, order.paid once).
   */
  async applyUpdate(cab: CabRecord, update: PaymentUpdate): Promise<'applied' | 'ignored' | null> {
    const { reservations, logger } = this.deps;
    const res = await reservations.byReference(update.pspReference);
    if (!res) return null;
    if (res.cabId !== cab.cabId) return 'ignored';
    const log = { cabId: res.cabId, reference: res.reference, status: update.status };
    if (CLAIMED.includes(res.status)) {
      // The release's CANCELLED and late repeats change nothing; the tablet hears of none of it.
      return update.status === 'captured' || update.status === 'completed' ? null : 'ignored';
    }
    const now = new Date().toISOString();
    const to: Partial<Record<PaymentUpdate['status'], { to: ReservationStatus; from: readonly ReservationStatus[] }>> = {
      authorized: { to: 'authorized', from: ['pending', 'created'] },
      failed: { to: 'rejected', from: [...OPEN_RESERVATION_STATUSES, 'cancel_due'] },
      expired: { to: 'expired', from: [...OPEN_RESERVATION_STATUSES, 'cancel_due'] },
      canceled: { to: 'canceled', from: [...OPEN_RESERVATION_STATUSES, 'cancel_due'] },
    };
    const move = to[update.status];
    if (!move) {
      if (update.status === 'captured') logger.error(log, 'Vipps reports a capture of a reservation no ride used; check it in the business portal');
      return 'ignored';
    }
    if (!(await reservations.move(res.reference, move.from, move.to, now))) return 'ignored';
    logger.info({ ...log, reservation: move.to }, move.to === 'authorized' ? 'the passenger approved the reservation' : 'reservation ended without use');
    return 'applied';
  }

  // ---- the work: create, capture, release, cancel ------------------------------------------------

  /** Runs the reservation's due work soon (at most one run waiting per reservation). */
  private kick(reference: string): void {
    if (this.stopped || this.queued.has(reference)) return;
    this.queued.add(reference);
    void this.serial
      .run(reference, async () => {
        this.queued.delete(reference);
        for (let step = 0; step < 4 && !this.stopped; step++) {
          if (!(await this.step(reference))) break;
        }
      })
      .catch((err: unknown) => {
        this.deps.logger.error({ err, reference }, 'reservation work failed; the next sweep tries again');
        this.retryLater(reference);
      });
  }

  /** One step of due work; true when it moved on and there may be more. */
  private async step(reference: string): Promise<boolean> {
    const { reservations, store, logger } = this.deps;
    const res = await reservations.byReference(reference);
    if (!res || !['pending', 'cancel_due', 'capture_due', 'release_due'].includes(res.status)) return false;
    const wait = this.backoff.get(reference);
    if (wait && wait.at > Date.now()) return false;
    const cab = await store.getCab(res.cabId);
    const provider = this.reserver(res.psp);
    if (!cab || !provider) {
      logger.error({ reference, cabId: res.cabId, status: res.status }, 'reservation work is due but the cab or its PSP is gone; left for the operator');
      return false;
    }
    switch (res.status) {
      case 'pending':
        return this.create(res, cab, provider);
      case 'capture_due':
        return this.capture(res, cab, provider);
      default:
        return this.cancel(res, cab, provider);
    }
  }

  private async create(res: ReservationRecord, cab: CabRecord, provider: ReservingProvider): Promise<boolean> {
    const { payments, reservations, logger } = this.deps;
    const log = { cabId: res.cabId, reference: res.reference };
    const checkIn = await payments.checkIn(res.cabId, res.sessionId);
    if (!checkIn || Date.parse(checkIn.expiresAt) <= Date.now()) {
      await reservations.move(res.reference, ['pending'], 'failed', new Date().toISOString());
      logger.info(log, 'the check-in expired before the reservation could be made; the ride end pays normally');
      return false;
    }
    const outcome = await provider.reserve(
      {
        reference: res.reference,
        amount: { value: res.amount, currency: res.currency },
        customerToken: checkIn.customerToken,
        description: reservationDescription(cab.plate),
      },
      cab,
    );
    if (this.stopped) return false;
    if (outcome.kind === 'retry') return this.retryLater(res.reference, outcome.reason);
    this.backoff.delete(res.reference);
    const now = new Date().toISOString();
    if (outcome.kind === 'refused') {
      await reservations.move(res.reference, ['pending'], 'failed', now);
      logger.warn({ ...log, code: outcome.code, message: outcome.message }, 'Vipps refused the reservation; the ride end pays normally');
      return false;
    }
    // A cancel asked for meanwhile (ride end, newer check-in) still finds the row in cancel_due.
    if (await reservations.move(res.reference, ['pending'], 'created', now))
      logger.info({ ...log, amount: res.amount, currency: res.currency }, 'reservation pushed to the passenger');
    return true;
  }

  private async capture(res: ReservationRecord, cab: CabRecord, provider: ReservingProvider): Promise<boolean> {
    const { payments, reservations, logger } = this.deps;
    const log = { cabId: res.cabId, rideId: res.rideId, attempt: res.attempt, reference: res.reference };
    const row = await payments.paymentByReference(res.reference);
    if (!row || res.captureAmount === null) {
      logger.error(log, 'a claimed reservation has no payment row; left for the operator');
      return false;
    }
    if (FINAL_PAYMENT_STATUSES.has(row.status)) {
      // Settled already (the CAPTURED hook came first) or failed: only the release is left.
      return reservations.move(res.reference, ['capture_due'], 'release_due', new Date().toISOString());
    }
    // A capture sent before without an answer is looked up first, not sent again blindly.
    let outcome = (await payments.captureSentAt(res.reference)) ? await capturedAlready(provider, res.reference, res.captureAmount, cab, logger) : null;
    if (outcome === null) {
      await payments.markCaptureSent(res.reference, new Date().toISOString());
      outcome = await provider.capturePayment(res.reference, { value: res.captureAmount, currency: res.currency }, cab);
    }
    if (this.stopped) return false;
    if (outcome.kind === 'retry') return this.retryLater(res.reference, outcome.reason);
    this.backoff.delete(res.reference);
    await this.deps.underRide(row.cabId, row.rideId, async () => {
      const now = new Date().toISOString();
      const fresh = await payments.paymentByReference(res.reference);
      if (fresh?.status === 'authorized') {
        if (outcome.kind === 'refused') {
          logger.error({ ...log, code: outcome.code, message: outcome.message }, 'Vipps refused to capture the fare from the reservation');
          if (await payments.updatePayment(res.reference, { status: 'failed' }, now, ['authorized'])) {
            await this.deps.emitFailed(fresh, 'payment_canceled', `the fare could not be taken from the reservation: ${outcome.message}`);
          }
        } else {
          await this.deps.settlePaid(cab, fresh);
        }
      }
      // Captured or not, the rest of the reservation is released now.
      await reservations.move(res.reference, ['capture_due'], 'release_due', now);
    });
    return true;
  }

  /** cancel_due: the whole (unused) reservation; release_due: what the capture left. */
  private async cancel(res: ReservationRecord, cab: CabRecord, provider: ReservingProvider): Promise<boolean> {
    const { reservations, logger } = this.deps;
    const log = { cabId: res.cabId, reference: res.reference, status: res.status };
    const outcome = await provider.cancelPayment(res.reference, cab);
    if (this.stopped) return false;
    if (outcome.kind === 'retry') return this.retryLater(res.reference, outcome.reason);
    this.backoff.delete(res.reference);
    const now = new Date().toISOString();
    if (outcome.kind === 'refused') {
      await reservations.move(res.reference, [res.status], 'release_failed', now);
      logger.error({ ...log, code: outcome.code, message: outcome.message }, 'Vipps would not release the reservation; release it in the business portal');
      return false;
    }
    const done: ReservationStatus = res.status === 'release_due' ? 'settled' : 'canceled';
    if (await reservations.move(res.reference, [res.status], done, now)) {
      logger.info(log, done === 'settled' ? 'fare captured and the rest of the reservation released' : 'reservation canceled');
    }
    return false;
  }

  private retryLater(reference: string, reason?: string): false {
    const delayMs = Math.min(Math.max((this.backoff.get(reference)?.delayMs ?? 0) * 2, RETRY_MS), RETRY_MAX_MS);
    this.backoff.set(reference, { at: Date.now() + delayMs, delayMs });
    if (reason) this.deps.logger.warn({ reference, reason, retryInMs: delayMs }, 'Vipps not reachable for the reservation; trying again');
    return false;
  }

  // ---- sweep --------------------------------------------------------------------------------

  /** Resumes due work (after a restart, after retries) and releases abandoned reservations. */
  async sweep(now = new Date()): Promise<void> {
    const { reservations, logger } = this.deps;
    for (const res of await reservations.due()) this.kick(res.reference);
    const before = new Date(now.getTime() - RESERVATION_MAX_AGE_MS).toISOString();
    for (const res of await reservations.staleOpen(before)) {
      if (await reservations.move(res.reference, OPEN_RESERVATION_STATUSES, 'cancel_due', now.toISOString())) {
        logger.info({ cabId: res.cabId, reference: res.reference }, 'reservation unused for too long; releasing it');
        this.kick(res.reference);
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
