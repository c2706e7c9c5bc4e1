/**
 * Where decisions meet the store: the machine's context read from SQLite, and its effects
 * written back. Callers wrap both in one transaction.
 */
import type { KioskCommand } from '../../protocol/kiosk-api.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import type { PspName, RelayEvent } from '../../protocol/relay-protocol.js';
import { ok, type Result } from '../../protocol/result.js';
import type { KioskConfig } from './config.js';
import { idempotencyKeyFor, type OutboxEntry } from './model.js';
import type { DeliveryResult } from './psp/psp-client.js';
import {
  decideCommand,
  decideDelivery,
  decideEvent,
  decideExpiry,
  decideRefund,
  decideSilence,
  DEFAULT_PAYMENT_SILENCE_MS,
  decideUnsendable,
  settleRefund,
  type Effect,
  type EventLookups,
  type MachineContext,
  type PayContext,
  type Waiting,
} from './ride-machine.js';
import { paymentQrRule } from './payment-qr.js';
import { isPastExpiry } from './session-clock.js';
import { decideAttentionCommand, parkedOutcomes } from './attention.js';
import { readDriverSettings } from './driver-settings.js';
import { saveReceiptFor } from './receipts.js';
import { currentLocale } from './snapshot.js';
import type { KioskStore } from './store.js';

/** What the cab's config says about its PSP beyond the name: where its payment QRs may point. */
export type PaySettings = Partial<Pick<KioskConfig, 'pspUrl' | 'paymentQr'>>;

/** The cab's PSP and its capabilities (Hips when the caller does not say: the first PSP). */
export function payContext(psp: PspName = 'hips', settings: PaySettings = {}): PayContext {
  return { psp, capabilities: PSP_CAPABILITIES[psp], paymentQr: paymentQrRule({ psp, ...settings }) };
}

export function machineContext(
  store: KioskStore,
  config: Pick<KioskConfig, 'cabId' | 'currency' | 'locale'> & { psp?: PspName } & PaySettings,
  now: string,
  inFlightRideId: string | null,
): MachineContext {
  const screenRideId = store.getSetting('screenRideId');
  const sessionId = store.getSetting('currentSessionId');
  return {
    ...payContext(config.psp, { pspUrl: config.pspUrl, paymentQr: config.paymentQr }),
    now,
    cabId: config.cabId,
    currency: config.currency,
    locale: currentLocale(store, config),
    defaultLocale: config.locale,
    extras: readDriverSettings(store, config.currency).extras,
    screenRide: screenRideId ? store.getRide(screenRideId) : null,
    currentSession: sessionId ? store.getSession(sessionId) : null,
    inFlightRideId,
  };
}

/** The ride on screen and the passenger's latest session, for deciding a re-send. */
export function waitingPassenger(store: KioskStore, now: string, psp?: PspName): Waiting {
  const screenRideId = store.getSetting('screenRideId');
  const sessionId = store.getSetting('currentSessionId');
  return {
    ...payContext(psp),
    now,
    screenRide: screenRideId ? store.getRide(screenRideId) : null,
    currentSession: sessionId ? store.getSession(sessionId) : null,
  };
}

export function eventLookups(store: KioskStore): EventLookups {
  return {
    ride: (id) => store.getRide(id),
    rideByMerchantOrderId: (id) => store.getRideByMerchantOrderId(id),
    session: (id) => store.getSession(id),
    refund: (id) => store.getRefund(id),
    payment: (rideId) => store.getPayment(rideId),
  };
}

/** Applies effects to the store; the caller holds the transaction. `psp`: the cab's, for receipts. */
export function applyEffects(store: KioskStore, effects: Effect[], now: string, psp?: PspName): void {
  for (const effect of effects) {
    switch (effect.type) {
      case 'saveRide':
        store.saveRide(effect.ride);
        break;
      case 'setScreenRide':
        store.setSetting('screenRideId', effect.rideId);
        break;
      case 'saveSession':
        store.saveSession(effect.session);
        break;
      case 'setCurrentSession':
        store.setSetting('currentSessionId', effect.sessionId);
        break;
      case 'enqueue': {
        const { type: _type, ...job } = effect;
        store.enqueue(job, now);
        break;
      }
      case 'dropOutbox':
        store.deleteOutboxForRide(effect.rideId);
        break;
      case 'recordPayment':
        store.recordPayment(effect.payment);
        // The receipt is part of the paid state: same transaction, published later.
        saveReceiptFor(store, effect.payment.rideId, now, psp ?? null);
        break;
      case 'addRefund':
        store.addRefund(effect.rideId, effect.amount);
        break;
      case 'saveRefund':
        store.saveRefund(effect.refund);
        break;
      case 'dropRefundOutbox':
        store.deleteOutboxForRefund(effect.refundId);
        break;
      case 'setSetting':
        store.setSetting(effect.key, effect.value);
        break;
      case 'parkRide':
        store.parkRide(effect.rideId, now);
        break;
      case 'noteParkedOutcome':
        store.noteParkedOutcome(effect.rideId, effect.outcome, now);
        break;
      case 'markRideSeen':
        store.markParkedSeen(effect.rideId, now);
        break;
    }
  }
}

/** `apiKey` is the session's one-time order key for a create-order; null for relay requests. */
export type PreparedDelivery = { kind: 'send'; apiKey: string | null } | { kind: 'skip'; reason: 'stale' | 'session_over' };

/**
 * Just before sending the head of the outbox: drop it if its ride (or refund) moved on; fail the
 * ride if its session can no longer take an order (never send into a dead session).
 */
export function prepareDelivery(store: KioskStore, entry: OutboxEntry, now: string, psp?: PspName): PreparedDelivery {
  return store.transaction(() => {
    if (entry.kind === 'refund') {
      if (store.getRefund(entry.job.refundId)?.state === 'queued') return { kind: 'send', apiKey: null } as const;
      store.deleteOutboxEntry(entry.id);
      return { kind: 'skip', reason: 'stale' } as const;
    }
    const ride = store.getRide(entry.rideId);
    if (!ride || ride.state !== 'awaiting_payment' || idempotencyKeyFor(ride.rideId, ride.attempt) !== entry.job.idempotencyKey) {
      store.deleteOutboxEntry(entry.id);
      return { kind: 'skip', reason: 'stale' } as const;
    }
    const sessionId = entry.job.sessionId;
    // A relay-made payment without a session (HitPay) needs nothing more.
    if (entry.kind === 'payment_request' && !sessionId) return { kind: 'send', apiKey: null } as const;
    const session = sessionId ? store.getSession(sessionId) : null;
    const usable = session && (session.state === 'in_use' || session.state === 'ready') && !isPastExpiry(session, now);
    const key = entry.kind === 'create_order' ? (session?.oneTimeOrderApiKey ?? null) : '';
    if (!usable || key === null) {
      applyEffects(store, decideUnsendable(ride, session, waitingPassenger(store, now, psp)), now);
      return { kind: 'skip', reason: 'session_over' } as const;
    }
    return { kind: 'send', apiKey: entry.kind === 'create_order' ? key : null } as const;
  });
}

/** The final answer for an entry (PSP or relay): remove it and apply what it means. */
export function settleDelivery(store: KioskStore, entry: OutboxEntry, result: Exclude<DeliveryResult, { kind: 'retry' }>, now: string, psp?: PspName): void {
  store.transaction(() => {
    store.deleteOutboxEntry(entry.id);
    if (entry.kind === 'refund') {
      const outcome = result.kind === 'success' ? ({ kind: 'refunded' } as const) : ({ kind: 'failed', failure: result.failure } as const);
      applyEffects(store, settleRefund(store.getRefund(entry.job.refundId), outcome, now), now);
      return;
    }
    // An order made at the PSP exists whatever the ride does now: the relay is told of it, so it
    // can ask the PSP how it ended if its webhooks are lost (order-reporter.ts).
    if (entry.kind === 'create_order' && result.kind === 'success' && result.pspOrderId) {
      store.addOrderReport({ pspOrderId: result.pspOrderId, rideId: entry.rideId, attempt: attemptOf(entry.job.idempotencyKey), createdAt: now });
    }
    const outcome =
      result.kind === 'success'
        ? ({ kind: 'created', pspOrderId: result.pspOrderId ?? '', expiresAt: result.expiresAt ?? null } as const)
        : ({ kind: 'refused', failure: result.failure } as const);
    applyEffects(store, withParkedOutcomes(store, decideDelivery(store.getRide(entry.rideId), entry.job, outcome, waitingPassenger(store, now, psp))), now);
  });
}

/** Effects not from the driver, with the news they bring for rides left unfinished (attention.ts). */
function withParkedOutcomes(store: KioskStore, effects: Effect[]): Effect[] {
  return [...effects, ...parkedOutcomes(effects, { ride: (id) => store.getRide(id), parked: (id) => store.getParkedRide(id) })];
}

/** The attempt an idempotency key names: `<rideId>` is 1, `<rideId>.<n>` is n. */
function attemptOf(idempotencyKey: string): number {
  const n = Number(/\.(\d+)$/.exec(idempotencyKey)?.[1] ?? '1');
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

export interface AppliedEvent {
  applied: boolean;
  note?: string;
  /** Why the tablet refused it (event-checks.ts); the relay is told so in the ack. */
  rejected?: string;
}

/** One relay event (already known to be the next seq): its effect and the new lastSeq, together. */
export function applyRelayEvent(store: KioskStore, ctx: MachineContext, event: RelayEvent): AppliedEvent {
  return store.transaction(() => {
    const decision = decideEvent(ctx, eventLookups(store), event);
    applyEffects(store, withParkedOutcomes(store, decision.effects), ctx.now, ctx.psp);
    // Recorded even when stale or refused, so the seq moves on and a resend gets the same answer.
    store.recordEvent(event.id, event.seq, event.type, ctx.now, decision.rejected ?? null);
    return {
      applied: decision.applied ?? true,
      ...(decision.note ? { note: decision.note } : {}),
      ...(decision.rejected ? { rejected: decision.rejected } : {}),
    };
  });
}

/** Sessions whose time is up, and the rides that needed them. Returns how many effects ran. */
export function expireSessions(store: KioskStore, ctx: MachineContext, paymentSilenceMs = DEFAULT_PAYMENT_SILENCE_MS): number {
  return store.transaction(() => {
    const lookups = eventLookups(store);
    const effects = withParkedOutcomes(store, [
      ...decideExpiry(ctx, lookups, store.listExpirableSessions(ctx.now)),
      ...decideSilence(ctx, lookups, store.listRidesAwaitingConfirmation(), paymentSilenceMs),
    ]);
    applyEffects(store, effects, ctx.now);
    return effects.length;
  });
}

/** One driver command: decided and written in one transaction, or refused with a reason. */
export function applyCommand(store: KioskStore, ctx: MachineContext, command: KioskCommand, newRideId: string): Result<null> {
  return store.transaction(() => {
    const decision = decideCommand(ctx, command, newRideId);
    if (!decision.ok) return decision;
    applyEffects(store, decision.value, ctx.now, ctx.psp);
    return ok(null);
  });
}

/** `markRideSeen`, or `markPaidOtherwise` for a ride off screen: decided and written in one transaction. */
export function applyAttentionCommand(
  store: KioskStore,
  command: Extract<KioskCommand, { name: 'markRideSeen' | 'markPaidOtherwise' }>,
  now: string,
  psp?: PspName,
): Result<null> {
  return store.transaction(() => {
    const rideId = command.rideId ?? '';
    const decision = decideAttentionCommand(store.getRide(rideId), store.getParkedRide(rideId), command, now);
    if (!decision.ok) return decision;
    applyEffects(store, decision.value, now, psp);
    return ok(null);
  });
}

/** `refundRide`, after the core checked the PIN unlock: decided and written in one transaction. */
export function applyRefundCommand(
  store: KioskStore,
  command: Extract<KioskCommand, { name: 'refundRide' }>,
  input: { now: string; psp: PspName; refundId: string; requestedBy: string },
): Result<null> {
  return store.transaction(() => {
    const decision = decideRefund(
      {
        ...input,
        ride: store.getRide(command.rideId),
        payment: store.getPayment(command.rideId),
        refunds: store.listRefunds(command.rideId),
      },
      command,
    );
    if (!decision.ok) return decision;
    applyEffects(store, decision.value, input.now);
    return ok(null);
  });
}
