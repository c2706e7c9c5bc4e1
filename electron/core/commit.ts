/**
 * Where decisions meet the store: the machine's context read from SQLite, and its effects
 * written back. Callers wrap both in one transaction.
 */
import type { KioskCommand } from '../../protocol/kiosk-api.js';
import type { RelayEvent } from '../../protocol/relay-protocol.js';
import { ok, type Result } from '../../protocol/result.js';
import type { KioskConfig } from './config.js';
import { idempotencyKeyFor, type OutboxEntry } from './model.js';
import type { CreateOrderResult } from './psp/psp-client.js';
import {
  decideCommand,
  decideDelivery,
  decideEvent,
  decideExpiry,
  decideSilence,
  DEFAULT_PAYMENT_SILENCE_MS,
  decideUnsendable,
  type Effect,
  type EventLookups,
  type MachineContext,
  type Waiting,
} from './ride-machine.js';
import { isPastExpiry } from './session-clock.js';
import { readDriverSettings } from './driver-settings.js';
import { saveReceiptFor } from './receipts.js';
import { currentLocale } from './snapshot.js';
import type { KioskStore } from './store.js';

export function machineContext(
  store: KioskStore,
  config: Pick<KioskConfig, 'cabId' | 'currency' | 'locale'>,
  now: string,
  inFlightRideId: string | null,
): MachineContext {
  const screenRideId = store.getSetting('screenRideId');
  const sessionId = store.getSetting('currentSessionId');
  return {
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
export function waitingPassenger(store: KioskStore, now: string): Waiting {
  const screenRideId = store.getSetting('screenRideId');
  const sessionId = store.getSetting('currentSessionId');
  return {
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
  };
}

/** Applies effects to the store; the caller holds the transaction. */
export function applyEffects(store: KioskStore, effects: Effect[], now: string): void {
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
      case 'enqueue':
        store.enqueue(effect.job, now);
        break;
      case 'dropOutbox':
        store.deleteOutboxForRide(effect.rideId);
        break;
      case 'recordPayment':
        store.recordPayment(effect.payment);
        // The receipt is part of the paid state: same transaction, published later.
        saveReceiptFor(store, effect.payment.rideId, now);
        break;
      case 'addRefund':
        store.addRefund(effect.rideId, effect.amount);
        break;
      case 'setSetting':
        store.setSetting(effect.key, effect.value);
        break;
    }
  }
}


export type PreparedDelivery = { kind: 'send'; apiKey: string } | { kind: 'skip'; reason: 'stale' | 'session_over' };

/**
 * Just before sending the head of the outbox: drop it if its ride moved on; fail the ride if
 * its session can no longer take an order (never send into a dead session).
 */
export function prepareDelivery(store: KioskStore, entry: OutboxEntry, now: string): PreparedDelivery {
  return store.transaction(() => {
    const ride = store.getRide(entry.rideId);
    if (!ride || ride.state !== 'awaiting_payment' || idempotencyKeyFor(ride.rideId, ride.attempt) !== entry.job.idempotencyKey) {
      store.deleteOutboxEntry(entry.id);
      return { kind: 'skip', reason: 'stale' } as const;
    }
    const session = store.getSession(entry.job.sessionId);
    const usable = session && (session.state === 'in_use' || session.state === 'ready') && !isPastExpiry(session, now);
    if (!usable || !session.oneTimeOrderApiKey) {
      applyEffects(store, decideUnsendable(ride, session, waitingPassenger(store, now)), now);
      return { kind: 'skip', reason: 'session_over' } as const;
    }
    return { kind: 'send', apiKey: session.oneTimeOrderApiKey } as const;
  });
}

/** The PSP's final answer for an entry: remove it and apply what it means to the ride. */
export function settleDelivery(
  store: KioskStore,
  entry: OutboxEntry,
  result: Exclude<CreateOrderResult, { kind: 'retry' }>,
  now: string,
): void {
  store.transaction(() => {
    store.deleteOutboxEntry(entry.id);
    const outcome =
      result.kind === 'success'
        ? ({ kind: 'created', pspOrderId: result.pspOrderId } as const)
        : ({ kind: 'refused', failure: result.failure } as const);
    applyEffects(store, decideDelivery(store.getRide(entry.rideId), entry.job, outcome, waitingPassenger(store, now)), now);
  });
}

/** One relay event (already known to be the next seq): its effect and the new lastSeq, together. */
export function applyRelayEvent(store: KioskStore, ctx: MachineContext, event: RelayEvent): string | undefined {
  return store.transaction(() => {
    const decision = decideEvent(ctx, eventLookups(store), event);
    applyEffects(store, decision.effects, ctx.now);
    store.recordEvent(event.id, event.seq, event.type, ctx.now);
    return decision.note;
  });
}

/** Sessions whose time is up, and the rides that needed them. Returns how many effects ran. */
export function expireSessions(store: KioskStore, ctx: MachineContext, paymentSilenceMs = DEFAULT_PAYMENT_SILENCE_MS): number {
  return store.transaction(() => {
    const lookups = eventLookups(store);
    const effects = [
      ...decideExpiry(ctx, lookups, store.listExpirableSessions()),
      ...decideSilence(ctx, lookups, store.listRidesAwaitingConfirmation(), paymentSilenceMs),
    ];
    applyEffects(store, effects, ctx.now);
    return effects.length;
  });
}

/** One driver command: decided and written in one transaction, or refused with a reason. */
export function applyCommand(
  store: KioskStore,
  ctx: MachineContext,
  command: KioskCommand,
  newRideId: string,
): Result<null> {
  return store.transaction(() => {
    const decision = decideCommand(ctx, command, newRideId);
    if (!decision.ok) return decision;
    applyEffects(store, decision.value, ctx.now);
    return ok(null);
  });
}
