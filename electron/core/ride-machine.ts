/**
 * The ride state machine, as pure functions: (what the store holds now, input) → effects to
 * commit in one transaction. No I/O and no clock here; the caller passes `now` and ids.
 *
 * idle → on_ride → ended (no passenger session yet) → awaiting_payment → paid
 *                 ↘ awaiting_payment (a live session exists)        ↘ failed → (new session) → awaiting_payment
 * on_ride / ended / failed / queued → canceled;  paid / failed / canceled → (dismiss) idle
 *
 * What a payment needs comes from the PSP's capabilities, never its name: a payment attempt
 * starts once the ride is ended (or failed) AND the tip is picked (tipOnTablet) AND a live
 * passenger session exists (needsScanSession), in whatever order those arrive.
 */
import type { ExtraPreset, KioskCommand, Locale } from '../../protocol/kiosk-api.js';
import { formatMoney, maxTip, minorAmount } from '../../protocol/money.js';
import type { PspCapabilities } from '../../protocol/psp-capabilities.js';
import type { OrderLine, PspName, RelayEvent } from '../../protocol/relay-protocol.js';
import { fail, ok, type Result } from '../../protocol/result.js';
import { refusalOf } from './event-checks.js';
import { DEFAULT_VAT_RATE, defaultLabel } from './line-defaults.js';
import {
  idempotencyKeyFor,
  orderAmountOf,
  refundIdempotencyKey,
  type Failure,
  type OutboxJob,
  type PaymentRecord,
  type RefundRecord,
  type Ride,
  type Session,
} from './model.js';
import type { PaymentQrRule } from './payment-qr.js';
import { isPastExpiry, isSessionLive } from './session-clock.js';

export type Effect =
  | { type: 'saveRide'; ride: Ride }
  | { type: 'setScreenRide'; rideId: string | null }
  | { type: 'saveSession'; session: Session }
  | { type: 'setCurrentSession'; sessionId: string | null }
  | ({ type: 'enqueue' } & OutboxJob)
  | { type: 'dropOutbox'; rideId: string }
  | { type: 'recordPayment'; payment: PaymentRecord }
  | { type: 'addRefund'; rideId: string; amount: number }
  | { type: 'saveRefund'; refund: RefundRecord }
  | { type: 'dropRefundOutbox'; refundId: string }
  | { type: 'setSetting'; key: 'locale' | 'theme' | 'driverSettings' | 'refusedEvent'; value: string }
  // Rides left unfinished for the next fare (attention.ts).
  | { type: 'parkRide'; rideId: string }
  | { type: 'noteParkedOutcome'; rideId: string; outcome: 'paid' | 'failed' }
  | { type: 'markRideSeen'; rideId: string };

/** The PSP this cab pays with and what it asks of the tablet. */
export interface PayContext {
  psp: PspName;
  capabilities: PspCapabilities;
  /** What a payment QR from the relay may point at (payment-qr.ts). */
  paymentQr: PaymentQrRule;
}

/** A refused relay event about the ride on screen, kept for the driver's warning (setting `refusedEvent`). */
export interface RefusedEventNotice {
  rideId: string;
  type: RelayEvent['type'];
  reason: string;
  at: string;
}

export interface MachineContext extends PayContext {
  now: string;
  cabId: string;
  currency: string;
  locale: Locale;
  /** The fleet's language: the passenger's choice returns to it after each ride. */
  defaultLocale: Locale;
  /** The fleet's extras with their VAT rates (driver settings). */
  extras: ExtraPreset[];
  /** The ride on the driver's screen (null when idle). */
  screenRide: Ride | null;
  /** The passenger's latest session, as the screen shows it. */
  currentSession: Session | null;
  /** The ride whose create-order request is on the wire right now, if any. */
  inFlightRideId: string | null;
}

export const FAILURES = {
  sessionExpired: {
    code: 'session_expired',
    message: 'The passenger scanned too long ago. Ask them to scan the QR again.',
  },
  sessionCanceled: {
    code: 'session_canceled',
    message: 'The passenger canceled on their phone. Ask them to scan the QR again.',
  },
  sessionTimedOut: {
    code: 'session_timed_out',
    message: "The passenger's payment session timed out. Ask them to scan the QR again.",
  },
  paymentExpired: {
    code: 'payment_expired',
    message: 'Nobody paid before the payment request ran out. Try again, take payment another way, or cancel the ride.',
  },
  paymentUnconfirmed: {
    code: 'payment_unconfirmed',
    message:
      "No answer about this payment has reached the tablet. Check the passenger's app: if it shows paid, tap Paid another way; if not, ask them to cancel it in the app and scan the QR again.",
  },
  paymentFailed: (reason: string): Failure => ({
    code: 'payment_failed',
    message: `The payment did not go through (${reason}). Ask the passenger to scan the QR again, or take payment another way.`,
  }),
} as const;

/** The default reason sent with a refund when the driver gives none. */
export const DEFAULT_REFUND_REASON = 'Refund requested by the driver';

const MAX_LINES = 50;

// ---- helpers ------------------------------------------------------------------------------

/** A ride on screen whose payment has not started or has failed: it may start a new attempt. */
export function needsSession(ride: Ride | null): ride is Ride {
  return ride !== null && (ride.state === 'ended' || ride.state === 'failed');
}

/**
 * Queues a fresh payment attempt for the ride: a create-order in the session (the tablet calls
 * the PSP), or a payment.request to the relay (relayMakesPayment), bound to the session when the
 * PSP needs one. Any older queued attempt is dropped first, so a ride never has two.
 */
export function startOrderAttempt(ride: Ride, session: Session | null, now: string, pay: Pick<PayContext, 'psp' | 'capabilities'>): Effect[] {
  const attempt = ride.attempt + 1;
  const next: Ride = {
    ...ride,
    state: 'awaiting_payment',
    endedAt: ride.endedAt ?? now,
    order: 'queued',
    attempt,
    sessionId: session?.sessionId ?? null,
    pspOrderId: null,
    failure: null,
    paymentQr: null,
    paymentExpiresAt: null,
  };
  const idempotencyKey = idempotencyKeyFor(ride.rideId, attempt);
  const job: OutboxJob = pay.capabilities.relayMakesPayment
    ? {
        kind: 'payment_request',
        job: {
          rideId: ride.rideId,
          merchantOrderId: ride.merchantOrderId,
          psp: pay.psp,
          sessionId: session?.sessionId ?? null,
          attempt,
          currency: ride.currency,
          lines: ride.lines,
          orderAmount: orderAmountOf(ride.lines),
          tipAmount: ride.tipAmount ?? 0,
          idempotencyKey,
        },
      }
    : {
        kind: 'create_order',
        job: {
          rideId: ride.rideId,
          merchantOrderId: ride.merchantOrderId,
          currency: ride.currency,
          lines: ride.lines,
          // The caller only starts a create-order with a live session (needsScanSession).
          sessionId: session?.sessionId ?? '',
          idempotencyKey,
        },
      };
  return [
    { type: 'dropOutbox', rideId: ride.rideId },
    ...(session ? [{ type: 'saveSession', session: { ...session, state: 'in_use', rideId: ride.rideId } } as const] : []),
    { type: 'saveRide', ride: next },
    ...(session ? [{ type: 'setCurrentSession', sessionId: session.sessionId } as const] : []),
    { type: 'enqueue', ...job },
  ];
}

/**
 * The attempt for a ride whose payment may start, if all it needs is there: the tip (when the
 * tablet asks for it) and a live session (when the PSP needs one). Null: keep waiting.
 */
function attemptIfReady(pay: PayContext, ride: Ride, session: Session | null, now: string): Effect[] | null {
  const caps = pay.capabilities;
  if (caps.tipOnTablet && ride.tipAmount === null) return null;
  if (!caps.needsScanSession) return startOrderAttempt(ride, null, now, pay);
  if (session && isSessionLive(session, now)) return startOrderAttempt(ride, session, now, pay);
  return null;
}

function failRide(ride: Ride, failure: Failure): Effect[] {
  return [
    { type: 'dropOutbox', rideId: ride.rideId },
    { type: 'saveRide', ride: { ...ride, state: 'failed', failure } },
  ];
}

/** Who is in the car now: enough to decide whether a failed order can be re-sent at once. */
export type Waiting = Pick<MachineContext, 'now' | 'screenRide' | 'currentSession' | 'psp' | 'capabilities'>;

/** Failures a new scan cures (the PSP has nothing against the order itself). */
export const CURED_BY_RESCAN: ReadonlySet<string> = new Set([
  'session_expired',
  'session_canceled',
  'session_timed_out',
  'session_not_waiting',
  'session_unknown',
  'order_key_rejected',
  // Vipps: the check-in's customer token is no longer valid, or the check-in paid another ride.
  'customer_token_expired',
  'checkin_used',
]);

/** Failures that say the ride's check-in can pay nothing more: it is ended with the ride. */
const DEAD_CHECKIN: ReadonlySet<string> = new Set(['customer_token_expired', 'checkin_used']);

/**
 * Fails the ride, unless the passenger has already scanned again: then the fresh session gets a
 * new attempt right away instead of asking them to scan a second time.
 */
function failOrResend(ride: Ride, failure: Failure, waiting: Waiting): Effect[] {
  const session = waiting.currentSession;
  if (
    waiting.capabilities.needsScanSession &&
    CURED_BY_RESCAN.has(failure.code) &&
    waiting.screenRide?.rideId === ride.rideId &&
    session &&
    isSessionLive(session, waiting.now)
  )
    return startOrderAttempt({ ...ride, state: 'failed', failure }, session, waiting.now, waiting);
  return failRide(ride, failure);
}

function rideOnScreen(ctx: MachineContext, action: string): Result<Ride> {
  const ride = ctx.screenRide;
  if (!ride) return fail('no_ride', `There is no ride on screen. Start a ride before you ${action}.`);
  return ok(ride);
}

function requireOnRide(ctx: MachineContext, action: string): Result<Ride> {
  const found = rideOnScreen(ctx, action);
  if (!found.ok) return found;
  if (found.value.state !== 'on_ride') return fail('ride_not_active', `The ride has already ended, so you cannot ${action}. Start a new ride instead.`);
  return found;
}

function withLines(ride: Ride, lines: OrderLine[]): Result<Effect[]> {
  if (lines.length > MAX_LINES) return fail('too_many_lines', `A ride can have at most ${MAX_LINES} lines. Remove an extra first.`);
  if (!minorAmount.safeParse(orderAmountOf(lines)).success)
    return fail('amount_too_large', 'The total is larger than the payment provider accepts. Check the fare and extras.');
  return ok([{ type: 'saveRide', ride: { ...ride, lines } }]);
}

// ---- driver commands ----------------------------------------------------------------------

/** `newRideId` is generated by the caller before any I/O (UUIDv7). */
export function decideCommand(ctx: MachineContext, command: KioskCommand, newRideId: string): Result<Effect[]> {
  switch (command.name) {
    case 'startRide': {
      if (ctx.screenRide?.state === 'on_ride') return fail('ride_in_progress', 'A ride is already running. End or cancel it before starting a new one.');
      const ride: Ride = {
        rideId: newRideId,
        merchantOrderId: `${ctx.cabId}.${newRideId}`,
        state: 'on_ride',
        startedAt: ctx.now,
        endedAt: null,
        currency: ctx.currency,
        lines: [],
        order: 'none',
        attempt: 0,
        sessionId: null,
        pspOrderId: null,
        failure: null,
        tipAmount: null,
        paymentQr: null,
      };
      const effects: Effect[] = [
        { type: 'saveRide', ride },
        { type: 'setScreenRide', rideId: ride.rideId },
      ];
      // Left unfinished (nobody paid, or the payment is under way or failed): it needs the driver later.
      if (ctx.screenRide && PARKABLE.has(ctx.screenRide.state)) effects.push({ type: 'parkRide', rideId: ctx.screenRide.rideId });
      // Leaving a finished ride for the next: the last passenger's language goes with them.
      if (ctx.screenRide) effects.push(...resetPassengerLocale(ctx));
      // A session already used by an earlier ride is not this passenger's.
      if (ctx.currentSession && ctx.currentSession.rideId !== null) effects.push({ type: 'setCurrentSession', sessionId: null });
      return ok(effects);
    }

    case 'setFare': {
      const found = requireOnRide(ctx, 'change the fare');
      if (!found.ok) return found;
      const ride = found.value;
      const fare: OrderLine = ride.lines.find((l) => l.kind === 'fare') ?? {
        id: 'fare',
        kind: 'fare',
        label: defaultLabel('fare', ctx.locale),
        amount: 0,
        vatRate: DEFAULT_VAT_RATE.fare,
      };
      const extras = ride.lines.filter((l) => l.kind !== 'fare');
      return withLines(ride, [{ ...fare, amount: command.amountMinor }, ...extras]);
    }

    case 'addExtra': {
      const found = requireOnRide(ctx, 'add an extra');
      if (!found.ok) return found;
      const ride = found.value;
      const used = ride.lines.map((l) => Number(/^extra-(\d+)$/.exec(l.id)?.[1] ?? 0));
      const line: OrderLine = {
        id: `extra-${Math.max(0, ...used) + 1}`,
        kind: command.extra.kind,
        label: command.extra.label ?? defaultLabel(command.extra.kind, ctx.locale),
        amount: command.extra.amountMinor,
        vatRate: ctx.extras.find((e) => e.kind === command.extra.kind)?.vatRate ?? DEFAULT_VAT_RATE[command.extra.kind],
      };
      return withLines(ride, [...ride.lines, line]);
    }

    case 'removeExtra': {
      const found = requireOnRide(ctx, 'remove an extra');
      if (!found.ok) return found;
      const ride = found.value;
      const line = ride.lines.find((l) => l.id === command.lineId);
      if (!line) return fail('line_not_found', 'That extra is no longer on the ride. Check the list and try again.');
      if (line.kind === 'fare') return fail('cannot_remove_fare', 'The fare cannot be removed. Set it to the right amount instead.');
      return withLines(
        ride,
        ride.lines.filter((l) => l.id !== command.lineId),
      );
    }

    case 'endRide': {
      const found = requireOnRide(ctx, 'end it');
      if (!found.ok) return found;
      const ride = found.value;
      const fare = ride.lines.find((l) => l.kind === 'fare');
      if (!fare || fare.amount <= 0) return fail('fare_missing', 'Enter the fare before ending the ride.');
      const ended: Ride = { ...ride, endedAt: ctx.now };
      const session = ctx.currentSession;
      const started = attemptIfReady(ctx, ended, session, ctx.now);
      if (started) return ok(started);
      // Waiting for the tip or a scan. Say so when the passenger's scan has gone stale.
      const stale =
        ctx.capabilities.needsScanSession && session !== null && session.rideId === null && (session.state === 'expired' || isPastExpiry(session, ctx.now));
      return ok([{ type: 'saveRide', ride: { ...ended, state: 'ended', failure: stale ? FAILURES.sessionExpired : null } }]);
    }

    case 'cancelRide': {
      const found = rideOnScreen(ctx, 'cancel it');
      if (!found.ok) return found;
      const ride = found.value;
      const cancelable =
        ride.state === 'on_ride' ||
        ride.state === 'ended' ||
        // A relay-made payment that failed is over at the relay (ended or canceled there); a late
        // payment still arrives as order.paid.
        (ride.state === 'failed' && (ride.order !== 'created' || ctx.capabilities.relayMakesPayment)) ||
        (ride.state === 'awaiting_payment' && ride.order === 'queued' && ctx.inFlightRideId !== ride.rideId);
      if (!cancelable)
        return fail(
          'cannot_cancel',
          ride.state === 'awaiting_payment'
            ? 'The order has already been sent to the passenger. Wait for the payment, or ask the passenger to cancel on their phone.'
            : 'This ride is already finished. Dismiss it instead.',
        );
      return ok([
        { type: 'dropOutbox', rideId: ride.rideId },
        { type: 'saveRide', ride: { ...ride, state: 'canceled', endedAt: ride.endedAt ?? ctx.now } },
      ]);
    }

    case 'dismiss': {
      const found = rideOnScreen(ctx, 'dismiss it');
      if (!found.ok) return found;
      const ride = found.value;
      if (ride.state !== 'paid' && ride.state !== 'failed' && ride.state !== 'canceled')
        return fail('ride_not_finished', 'The ride is still in progress. End or cancel it first.');
      const effects: Effect[] = [{ type: 'setScreenRide', rideId: null }, ...resetPassengerLocale(ctx)];
      if (ctx.currentSession && ctx.currentSession.rideId === ride.rideId) effects.push({ type: 'setCurrentSession', sessionId: null });
      return ok(effects);
    }

    case 'markPaidOtherwise': {
      const found = rideOnScreen(ctx, 'mark it paid');
      if (!found.ok) return found;
      if (command.rideId !== undefined && command.rideId !== found.value.rideId)
        return fail('ride_not_on_screen', 'That ride is not on screen. Pick it from the rides that need attention.');
      return paidOtherwise(found.value, ctx.now);
    }

    case 'setLocale':
      return ok([{ type: 'setSetting', key: 'locale', value: command.locale }]);
    case 'setTheme':
      return ok([{ type: 'setSetting', key: 'theme', value: command.theme }]);
    case 'saveDriverSettings': {
      // The core checks the PIN unlock before this runs; the theme keeps its own key.
      const { theme, ...rest } = command.settings;
      return ok([
        { type: 'setSetting', key: 'driverSettings', value: JSON.stringify({ ...rest, theme }) },
        { type: 'setSetting', key: 'theme', value: theme },
      ]);
    }
    case 'chooseTip': {
      const found = rideOnScreen(ctx, 'pick a tip');
      if (!found.ok) return found;
      const ride = found.value;
      if (!ctx.capabilities.tipOnTablet)
        return fail('tip_in_app', `With ${ctx.capabilities.displayName} the passenger picks the tip in their own app, not on the tablet.`);
      if (ride.state !== 'ended' && ride.state !== 'failed')
        return fail(
          'cannot_choose_tip',
          ride.state === 'on_ride'
            ? 'End the ride first; then the passenger picks the tip.'
            : 'The payment is already under way or finished, so the tip can no longer change.',
        );
      if (ctx.inFlightRideId === ride.rideId) return fail('payment_in_flight', 'The payment request is being sent right now. Wait a moment, then try again.');
      const max = maxTip(orderAmountOf(ride.lines));
      if (command.tipAmountMinor > max)
        return fail('tip_too_high', `The tip can be at most ${formatMoney(max, ride.currency, 'en')} (20% of the fare and extras). Pick a smaller tip.`);
      const tipped: Ride = { ...ride, tipAmount: command.tipAmountMinor };
      return ok(attemptIfReady(ctx, tipped, ctx.currentSession, ctx.now) ?? [{ type: 'saveRide', ride: tipped }]);
    }

    case 'retryPayment': {
      const found = rideOnScreen(ctx, 'try the payment again');
      if (!found.ok) return found;
      const ride = found.value;
      if (!ctx.capabilities.relayMakesPayment)
        return fail('retry_not_supported', 'Ask the passenger to scan the QR again: a new scan sends the order again by itself.');
      if (ride.state !== 'failed') return fail('nothing_to_retry', 'Only a failed payment can be tried again.');
      if (ctx.inFlightRideId === ride.rideId) return fail('payment_in_flight', 'The payment request is being sent right now. Wait a moment, then try again.');
      if (ctx.capabilities.tipOnTablet && ride.tipAmount === null) return fail('tip_missing', 'Let the passenger pick a tip (or no tip) first.');
      let session: Session | null = null;
      if (ctx.capabilities.needsScanSession) {
        session = retrySession(ctx, ride);
        if (!session)
          return fail(
            'scan_needed',
            "The passenger's check-in is no longer valid. Ask the passenger to scan the QR again; the payment is then sent by itself.",
          );
      }
      return ok(startOrderAttempt(ride, session, ctx.now, ctx));
    }

    case 'unlockSettings':
    case 'lockSettings':
    case 'refundRide':
    case 'markRideSeen':
      return fail('not_a_ride_command', 'The driver settings lock, refunds and the rides that need attention are handled by the kiosk core, not the ride.');
  }
}

/** States in which a ride the driver leaves for the next fare still needs them (attention.ts). */
export const PARKABLE: ReadonlySet<Ride['state']> = new Set(['ended', 'awaiting_payment', 'failed']);

/** The passenger paid by other means: only for a ride whose payment failed or never started. */
export function paidOtherwise(ride: Ride, now: string): Result<Effect[]> {
  if (ride.state !== 'failed' && ride.state !== 'ended')
    return fail(
      'cannot_mark_paid',
      ride.state === 'awaiting_payment'
        ? "This ride's payment is still under way. Wait for its answer, or ask the passenger to cancel it in their app."
        : 'Only a ride whose payment failed or never started can be marked as paid another way.',
    );
  const amount = orderAmountOf(ride.lines);
  return ok([
    { type: 'dropOutbox', rideId: ride.rideId },
    { type: 'saveRide', ride: { ...ride, state: 'paid', failure: null } },
    {
      type: 'recordPayment',
      payment: {
        rideId: ride.rideId,
        method: 'other',
        pspOrderId: null,
        orderAmount: amount,
        tipAmount: 0,
        totalAmount: amount,
        currency: ride.currency,
        paidAt: now,
      },
    },
  ]);
}

/**
 * The session a retry may use: a fresh scan, or the ride's own check-in while it still lives
 * (unless the failure said that check-in is no good).
 */
function retrySession(ctx: MachineContext, ride: Ride): Session | null {
  const session = ctx.currentSession;
  if (!session) return null;
  if (isSessionLive(session, ctx.now)) return session;
  const own =
    session.sessionId === ride.sessionId &&
    session.rideId === ride.rideId &&
    session.state === 'in_use' &&
    !isPastExpiry(session, ctx.now) &&
    !CURED_BY_RESCAN.has(ride.failure?.code ?? '');
  return own ? session : null;
}

function resetPassengerLocale(ctx: MachineContext): Effect[] {
  return ctx.locale === ctx.defaultLocale ? [] : [{ type: 'setSetting', key: 'locale', value: ctx.defaultLocale }];
}

// ---- relay events -------------------------------------------------------------------------

export interface EventLookups {
  ride(rideId: string): Ride | null;
  rideByMerchantOrderId(merchantOrderId: string): Ride | null;
  session(sessionId: string): Session | null;
  refund?(refundId: string): RefundRecord | null;
  payment?(rideId: string): (PaymentRecord & { refundedAmount: number }) | null;
}

export interface EventDecision {
  effects: Effect[];
  /** Why nothing happened, or what is odd, for the log. */
  note?: string;
  /** False when the event was stale (an older attempt, a ride that moved on): acked `{applied: false}`. */
  applied?: boolean;
  /** Set when the event failed the tablet's checks (event-checks.ts): acked `rejected`, nothing applied. */
  rejected?: string;
}

const ignored = (note: string): EventDecision => ({ effects: [], note, applied: false });

export function decideEvent(ctx: MachineContext, lookups: EventLookups, event: RelayEvent): EventDecision {
  const refusal = refusalOf(ctx, lookups, event);
  if (refusal) {
    // Only the driver's warning changes, and only when the event was about the ride on screen.
    const notice: RefusedEventNotice | null =
      refusal.rideId !== null && refusal.rideId === ctx.screenRide?.rideId
        ? { rideId: refusal.rideId, type: event.type, reason: refusal.reason, at: ctx.now }
        : null;
    return {
      effects: notice ? [{ type: 'setSetting', key: 'refusedEvent', value: JSON.stringify(notice) }] : [],
      applied: false,
      rejected: `${event.type} refused: ${refusal.reason}`,
    };
  }
  switch (event.type) {
    case 'qr.session.started': {
      const d = event.data;
      if (lookups.session(d.sessionId)) return { effects: [], note: 'session already known' };
      const session: Session = {
        sessionId: d.sessionId,
        psp: d.psp,
        qrCode: d.qrCode,
        allowTip: d.allowTip,
        oneTimeOrderApiKey: d.oneTimeOrderApiKey ?? null,
        startedAt: event.occurredAt,
        expiresAt: d.expiresAt,
        state: 'ready',
        rideId: null,
      };
      if (isPastExpiry(session, ctx.now)) {
        // Replayed after a long time offline: never send an order into a dead session.
        return { effects: [{ type: 'saveSession', session: { ...session, state: 'expired' } }], note: 'session arrived already expired' };
      }
      if (ctx.capabilities.needsScanSession && needsSession(ctx.screenRide)) {
        const started = attemptIfReady(ctx, ctx.screenRide, session, ctx.now);
        if (started) return { effects: [{ type: 'saveSession', session }, ...started] };
      }
      return {
        effects: [
          { type: 'saveSession', session },
          { type: 'setCurrentSession', sessionId: session.sessionId },
        ],
      };
    }

    case 'qr.session.canceled':
    case 'qr.session.timed_out': {
      const session = lookups.session(event.data.sessionId);
      if (!session) return { effects: [], note: 'unknown session' };
      if (session.state !== 'ready' && session.state !== 'in_use') return { effects: [], note: 'session already over' };
      const canceled = event.type === 'qr.session.canceled';
      const effects: Effect[] = [{ type: 'saveSession', session: { ...session, state: canceled ? 'canceled' : 'timed_out' } }];
      const ride = session.rideId ? lookups.ride(session.rideId) : null;
      if (ride && ride.state === 'awaiting_payment' && ride.sessionId === session.sessionId)
        effects.push(...failOrResend(ride, canceled ? FAILURES.sessionCanceled : FAILURES.sessionTimedOut, ctx));
      return { effects };
    }

    case 'order.paid': {
      const d = event.data;
      const ride = lookups.rideByMerchantOrderId(d.merchantOrderId);
      if (!ride) return { effects: [], note: 'payment for an order this tablet does not know' };
      const note =
        ride.state === 'paid'
          ? 'ride was already marked paid; the PSP payment replaces that record'
          : ride.tipAmount !== null && ride.tipAmount !== d.tipAmount
            ? `paid tip ${d.tipAmount} differs from the tip picked on the tablet (${ride.tipAmount})`
            : undefined;
      return {
        effects: [
          { type: 'dropOutbox', rideId: ride.rideId },
          { type: 'saveRide', ride: { ...ride, state: 'paid', order: 'created', pspOrderId: d.pspOrderId, failure: null } },
          {
            type: 'recordPayment',
            payment: {
              rideId: ride.rideId,
              method: 'psp',
              pspOrderId: d.pspOrderId,
              orderAmount: d.orderAmount,
              tipAmount: d.tipAmount,
              totalAmount: d.totalAmount,
              currency: d.currency,
              paidAt: event.occurredAt,
            },
          },
        ],
        ...(note ? { note } : {}),
      };
    }

    case 'order.failed': {
      const d = event.data;
      const ride = lookups.rideByMerchantOrderId(d.merchantOrderId);
      if (!ride) return { effects: [], note: 'failure for an order this tablet does not know' };
      if (ride.state === 'paid') return { effects: [], note: 'ride already paid' };
      // Relay-made payments name their attempt; Hips failures are told apart by the PSP's order id.
      if (d.attempt !== undefined) {
        if (d.attempt !== ride.attempt) return ignored(`failure of attempt ${d.attempt}; the ride is at attempt ${ride.attempt}`);
      } else if (ride.pspOrderId && d.pspOrderId && ride.pspOrderId !== d.pspOrderId) return { effects: [], note: 'failure of an earlier attempt' };
      if (ride.state !== 'awaiting_payment') return { effects: [], note: `ride is ${ride.state}` };
      if (!d.code) return { effects: failRide(ride, FAILURES.paymentFailed(d.reason)) };
      const failure: Failure = { code: d.code, message: d.reason };
      const effects: Effect[] = [];
      // A dead check-in must not be offered to retryPayment again.
      const session = DEAD_CHECKIN.has(d.code) && ride.sessionId ? lookups.session(ride.sessionId) : null;
      if (session && (session.state === 'in_use' || session.state === 'ready'))
        effects.push({ type: 'saveSession', session: { ...session, state: 'expired' } });
      return { effects: [...effects, ...failOrResend(ride, failure, ctx)] };
    }

    case 'order.refunded': {
      const d = event.data;
      const ride = lookups.rideByMerchantOrderId(d.merchantOrderId);
      if (!ride) return { effects: [], note: 'refund for an order this tablet does not know' };
      const refund = d.refundId ? (lookups.refund?.(d.refundId) ?? null) : null;
      if (refund && refund.rideId === ride.rideId) {
        // The ack of refund.request may have settled it already: count it once.
        if (refund.state === 'refunded') return ignored(`refund ${refund.refundId} already recorded`);
        return {
          effects: settleRefund(refund, { kind: 'refunded' }, event.occurredAt),
          ...(d.amount !== refund.amount ? { note: `refunded ${d.amount}, asked for ${refund.amount}` } : {}),
        };
      }
      return { effects: [{ type: 'addRefund', rideId: ride.rideId, amount: d.amount }] };
    }

    case 'payment.qr': {
      const d = event.data;
      const ride = lookups.ride(d.rideId);
      if (!ride) return ignored('payment QR for a ride this tablet does not know');
      if (d.attempt !== undefined && d.attempt !== ride.attempt) return ignored(`payment QR of attempt ${d.attempt}; the ride is at attempt ${ride.attempt}`);
      if (ride.state !== 'awaiting_payment') return ignored(`payment QR for a ride that is ${ride.state}`);
      const paymentQr = {
        qrData: d.qrData,
        amount: d.amount,
        currency: d.currency,
        expiresAt: d.expiresAt,
        attempt: d.attempt ?? null,
        paymentRequestId: d.paymentRequestId ?? null,
      };
      return { effects: [{ type: 'saveRide', ride: { ...ride, paymentQr } }] };
    }
  }
}

// ---- refunds ------------------------------------------------------------------------------

/** What the driver may still refund: total − refunded − refunds on their way; 0 if paid another way. */
export function refundableAmount(payment: PaymentRecord & { refundedAmount: number }, refunds: RefundRecord[]): number {
  if (payment.method !== 'psp') return 0;
  const queued = refunds.filter((r) => r.state === 'queued').reduce((sum, r) => sum + r.amount, 0);
  return Math.max(0, payment.totalAmount - payment.refundedAmount - queued);
}

export interface RefundContext {
  now: string;
  psp: PspName;
  /** uuid made by the caller before any I/O. */
  refundId: string;
  requestedBy: string;
  ride: Ride | null;
  payment: (PaymentRecord & { refundedAmount: number }) | null;
  refunds: RefundRecord[];
}

/** `refundRide` (the core has checked the PIN unlock): a refund row and its refund.request job. */
export function decideRefund(ctx: RefundContext, command: Extract<KioskCommand, { name: 'refundRide' }>): Result<Effect[]> {
  const { ride, payment } = ctx;
  if (!ride || !payment || ride.state !== 'paid')
    return fail('ride_not_paid', 'That ride is not a paid ride on this tablet. Pick it from the list of recent payments.');
  if (payment.method !== 'psp' || !payment.pspOrderId)
    return fail('not_refundable', 'This ride was paid another way (not through the payment app), so refund it the same way.');
  const refundable = refundableAmount(payment, ctx.refunds);
  if (command.amountMinor > refundable)
    return fail(
      'refund_too_large',
      refundable === 0
        ? 'Nothing is left to refund on this ride (refunds already made or on their way count).'
        : `At most ${formatMoney(refundable, payment.currency, 'en')} can still be refunded on this ride. Enter a smaller amount.`,
    );
  const refund: RefundRecord = {
    refundId: ctx.refundId,
    rideId: ride.rideId,
    amount: command.amountMinor,
    currency: payment.currency,
    reason: command.reason ?? DEFAULT_REFUND_REASON,
    requestedBy: ctx.requestedBy,
    requestedAt: ctx.now,
    state: 'queued',
    failure: null,
    settledAt: null,
  };
  return ok([
    { type: 'saveRefund', refund },
    {
      type: 'enqueue',
      kind: 'refund',
      job: {
        refundId: refund.refundId,
        rideId: ride.rideId,
        merchantOrderId: ride.merchantOrderId,
        psp: ctx.psp,
        pspOrderId: payment.pspOrderId,
        amount: refund.amount,
        currency: refund.currency,
        reason: refund.reason,
        requestedBy: refund.requestedBy,
        requestedAt: refund.requestedAt,
        idempotencyKey: refundIdempotencyKey(refund.refundId),
      },
    },
  ]);
}

export type RefundOutcome = { kind: 'refunded' } | { kind: 'failed'; failure: Failure };

/** The relay's answer (ack or order.refunded) for a refund; only a queued refund changes. */
export function settleRefund(refund: RefundRecord | null, outcome: RefundOutcome, now: string): Effect[] {
  if (!refund || refund.state === 'refunded') return [];
  if (outcome.kind === 'refunded')
    return [
      { type: 'dropRefundOutbox', refundId: refund.refundId },
      { type: 'saveRefund', refund: { ...refund, state: 'refunded', failure: null, settledAt: now } },
      { type: 'addRefund', rideId: refund.rideId, amount: refund.amount },
    ];
  if (refund.state !== 'queued') return [];
  return [
    { type: 'dropRefundOutbox', refundId: refund.refundId },
    { type: 'saveRefund', refund: { ...refund, state: 'failed', failure: outcome.failure, settledAt: now } },
  ];
}

// ---- time and the outbox --------------------------------------------------------------------

/**
 * Sessions that reached `expiresAt`: a ready one just expires; one whose ride's order has not
 * gone out yet also fails that ride, so the driver asks for a new scan.
 */
export function decideExpiry(ctx: MachineContext, lookups: EventLookups, sessions: Session[]): Effect[] {
  const effects: Effect[] = [];
  for (const session of sessions) {
    if (!isPastExpiry(session, ctx.now)) continue;
    const ride = session.rideId ? lookups.ride(session.rideId) : null;
    if (session.state === 'ready') {
      effects.push({ type: 'saveSession', session: { ...session, state: 'expired' } });
    } else if (
      session.state === 'in_use' &&
      ride?.state === 'awaiting_payment' &&
      ride.order === 'queued' &&
      ride.sessionId === session.sessionId &&
      ctx.inFlightRideId !== ride.rideId
    ) {
      effects.push({ type: 'saveSession', session: { ...session, state: 'expired' } }, ...failOrResend(ride, FAILURES.sessionExpired, ctx));
    }
  }
  return effects;
}

/**
 * How long after its session's order deadline a created order may stay without a payment event
 * before the driver is told. The PSP's outcome hook can be lost for good (it gives up after a few
 * attempts); without this the ride would wait forever with no reason on screen. A late
 * `order.paid` still marks the ride paid.
 */
export const DEFAULT_PAYMENT_SILENCE_MS = 20 * 60 * 1000;

/** When the ride's payment counts as unconfirmed: its session's order deadline + the silence allowed. */
export function confirmationDeadline(session: Session, silenceMs: number): number {
  return Date.parse(session.expiresAt) + silenceMs;
}

/**
 * After a relay-made payment's deadline, how long the tablet waits for the relay's own
 * `payment_expired` (its sweep runs every few seconds, and the two clocks may differ a little)
 * before it times the ride out itself.
 */
export const RELAY_DEADLINE_GRACE_MS = 10_000;

/**
 * The same for any payment: the relay's deadline for the attempt (relay-made payments) plus a
 * short grace; else the dynamic QR's expiry (dynamicQr) or the session's, plus the silence allowed.
 * Null while none is known (no deadline yet).
 */
export function paymentDeadline(ride: Ride, session: Session | null, silenceMs: number): number | null {
  if (ride.paymentExpiresAt) return Date.parse(ride.paymentExpiresAt) + RELAY_DEADLINE_GRACE_MS;
  if (ride.paymentQr) return Date.parse(ride.paymentQr.expiresAt) + silenceMs;
  return session ? confirmationDeadline(session, silenceMs) : null;
}

/** Rides whose order went out but whose payment outcome never came: fail them with what to do. */
export function decideSilence(ctx: Pick<MachineContext, 'now'>, lookups: EventLookups, rides: Ride[], silenceMs: number): Effect[] {
  const now = Date.parse(ctx.now);
  const effects: Effect[] = [];
  for (const ride of rides) {
    if (ride.state !== 'awaiting_payment' || ride.order !== 'created') continue;
    const session = ride.sessionId ? lookups.session(ride.sessionId) : null;
    const deadline = paymentDeadline(ride, session, silenceMs);
    if (deadline !== null && now >= deadline) effects.push(...failRide(ride, ride.paymentExpiresAt ? FAILURES.paymentExpired : FAILURES.paymentUnconfirmed));
  }
  return effects;
}

export type DeliveryOutcome =
  | { kind: 'created'; pspOrderId: string; /** The relay's deadline for the attempt, if it gave one. */ expiresAt?: string | null }
  | { kind: 'refused'; failure: Failure };

/** The PSP (or the relay) answered the payment attempt `job` for good (success or a definitive no). */
export function decideDelivery(ride: Ride | null, job: { idempotencyKey: string }, outcome: DeliveryOutcome, waiting: Waiting): Effect[] {
  // The ride moved on meanwhile (paid, canceled, or a newer attempt): the answer is stale.
  if (!ride || ride.state !== 'awaiting_payment' || idempotencyKeyFor(ride.rideId, ride.attempt) !== job.idempotencyKey) return [];
  if (outcome.kind === 'created')
    return [{ type: 'saveRide', ride: { ...ride, order: 'created', pspOrderId: outcome.pspOrderId, paymentExpiresAt: outcome.expiresAt ?? null } }];
  // The relay refuses a dead Vipps check-in in its ack: end that check-in too, as order.failed
  // does, so neither the screen nor a resend treats it as live.
  const session = waiting.currentSession;
  if (DEAD_CHECKIN.has(outcome.failure.code) && session && session.sessionId === ride.sessionId && (session.state === 'ready' || session.state === 'in_use')) {
    const ended: Session = { ...session, state: 'expired' };
    return [{ type: 'saveSession', session: ended }, ...failOrResend(ride, outcome.failure, { ...waiting, currentSession: ended })];
  }
  return failOrResend(ride, outcome.failure, waiting);
}

/**
 * At send time: the queued order's session can no longer take an order (ended or expired).
 * Fails the ride with the reason, so the driver asks for a new scan; a new session re-sends.
 */
export function decideUnsendable(ride: Ride, session: Session | null, waiting: Waiting): Effect[] {
  const now = waiting.now;
  if (!session) return failOrResend(ride, FAILURES.sessionExpired, waiting);
  const failure = session.state === 'canceled' ? FAILURES.sessionCanceled : session.state === 'timed_out' ? FAILURES.sessionTimedOut : FAILURES.sessionExpired;
  const effects: Effect[] = [];
  if ((session.state === 'ready' || session.state === 'in_use') && isPastExpiry(session, now))
    effects.push({ type: 'saveSession', session: { ...session, state: 'expired' } });
  return [...effects, ...failOrResend(ride, failure, waiting)];
}
