/** The one place the screen state is built: from the store, after every change. */
import {
  localeName,
  themeSetting,
  type DriverView,
  type KioskSnapshot,
  type Locale,
  type RecentPaymentView,
  type RideView,
  type ThemeSetting,
} from '../../protocol/kiosk-api.js';
import { PSP_CAPABILITIES } from '../../protocol/psp-capabilities.js';
import { relayEvent, type RelayEventType } from '../../protocol/relay-protocol.js';
import { z } from 'zod';
import { ridesNeedingAttention } from './attention.js';
import { readDriverSettings } from './driver-settings.js';
import { receiptUrlFor } from './receipts.js';
import type { KioskConfig } from './config.js';
import { orderAmountOf } from './model.js';
import type { RelayConnectivity } from './relay-client.js';
import { refundableAmount } from './ride-machine.js';
import { displayedSessionState } from './session-clock.js';
import { isPlainHttpOffLoopback } from './relay-link.js';
import type { KioskStore } from './store.js';

export function currentLocale(store: KioskStore, config: Pick<KioskConfig, 'locale'>): Locale {
  const parsed = localeName.safeParse(store.getSetting('locale'));
  return parsed.success ? parsed.data : config.locale;
}

/** How many paid rides the refund menu lists. */
export const RECENT_PAYMENTS = 20;

/** The refund menu: the last paid rides, newest first, with what may still be refunded. */
export function recentPayments(store: KioskStore): RecentPaymentView[] {
  return store.listRecentPayments(RECENT_PAYMENTS).flatMap((payment) => {
    const ride = store.getRide(payment.rideId);
    if (!ride) return [];
    const refunds = store.listRefunds(payment.rideId);
    const latest = refunds[0];
    return [
      {
        rideId: payment.rideId,
        merchantOrderId: ride.merchantOrderId,
        method: payment.method,
        paidAt: payment.paidAt,
        totalAmount: payment.totalAmount,
        currency: payment.currency,
        refundedAmount: payment.refundedAmount,
        refundableAmount: refundableAmount(payment, refunds),
        refund: latest
          ? { refundId: latest.refundId, amount: latest.amount, state: latest.state, failure: latest.failure, requestedAt: latest.requestedAt }
          : null,
      },
    ];
  });
}

const refusedEventNotice = z.object({
  rideId: z.string(),
  type: z.enum(relayEvent.options.map((o) => o.shape.type.value) as [RelayEventType, ...RelayEventType[]]),
  reason: z.string(),
  at: z.string(),
});

/** The driver's warning about a refused relay event, if it concerns `rideId`. */
export function refusedEventFor(store: KioskStore, rideId: string): RideView['refusedEvent'] {
  const text = store.getSetting('refusedEvent');
  if (!text) return null;
  try {
    const notice = refusedEventNotice.parse(JSON.parse(text));
    return notice.rideId === rideId ? { type: notice.type, reason: notice.reason, at: notice.at } : null;
  } catch {
    return null;
  }
}

export function currentTheme(store: KioskStore): ThemeSetting {
  const parsed = themeSetting.safeParse(store.getSetting('theme'));
  return parsed.success ? parsed.data : 'auto';
}

/** What the core knows beside the store: the relay's refusal, the PIN lock, the config. */
export interface SnapshotExtras {
  problem: 'unauthorized' | null;
  driver: DriverView;
  location: KioskSnapshot['location'];
  receiptBaseUrl: string;
}

export function buildSnapshot(
  store: KioskStore,
  config: KioskConfig,
  relay: RelayConnectivity,
  now: Date,
  extras: SnapshotExtras = {
    problem: null,
    driver: { locale: null, brightness: 80, driverId: null, settings: 'unavailable', lockedUntil: null },
    location: null,
    receiptBaseUrl: config.relayUrl,
  },
): KioskSnapshot {
  const nowIso = now.toISOString();
  const screenRideId = store.getSetting('screenRideId');
  const ride = screenRideId ? store.getRide(screenRideId) : null;
  const sessionId = store.getSetting('currentSessionId');
  const session = sessionId ? store.getSession(sessionId) : null;
  const payment = ride ? store.getPayment(ride.rideId) : null;

  return {
    cab: {
      cabId: config.cabId,
      plate: config.plate,
      label: config.label ?? config.cabId,
      psp: config.psp,
      qrContent: config.qrContent,
      capabilities: PSP_CAPABILITIES[config.psp],
    },
    locale: currentLocale(store, config),
    theme: currentTheme(store),
    currency: config.currency,
    connectivity: {
      relay,
      offlineSince: relay === 'online' ? null : store.getSetting('offlineSince'),
      problem: relay === 'online' ? null : extras.problem,
      ...(isPlainHttpOffLoopback(config.relayUrl) ? { insecure: true as const } : {}),
    },
    outboxDepth: store.outboxDepth(),
    pendingRides: store.countPendingRides(ride?.rideId ?? null),
    ridesNeedingAttention: ridesNeedingAttention(store),
    ride: ride && {
      rideId: ride.rideId,
      merchantOrderId: ride.merchantOrderId,
      state: ride.state,
      startedAt: ride.startedAt,
      endedAt: ride.endedAt,
      lines: ride.lines,
      orderAmount: orderAmountOf(ride.lines),
      currency: ride.currency,
      order: ride.order,
      tipAmount: ride.tipAmount,
      paymentQr: ride.paymentQr && {
        qrData: ride.paymentQr.qrData,
        amount: ride.paymentQr.amount,
        currency: ride.paymentQr.currency,
        expiresAt: ride.paymentQr.expiresAt,
      },
      paymentExpiresAt: ride.paymentExpiresAt ?? null,
      failure: ride.failure,
      refusedEvent: refusedEventFor(store, ride.rideId),
    },
    session: session && {
      sessionId: session.sessionId,
      psp: session.psp,
      allowTip: session.allowTip,
      startedAt: session.startedAt,
      expiresAt: session.expiresAt,
      state: displayedSessionState(session, nowIso),
    },
    payment:
      payment && ride
        ? {
            rideId: payment.rideId,
            method: payment.method,
            pspOrderId: payment.pspOrderId ?? '',
            receiptUrl: receiptUrlFor(store, payment.rideId, extras.receiptBaseUrl),
            orderAmount: payment.orderAmount,
            tipAmount: payment.tipAmount,
            totalAmount: payment.totalAmount,
            currency: payment.currency,
            paidAt: payment.paidAt,
          }
        : null,
    recentPayments: recentPayments(store),
    driver: extras.driver,
    extras: readDriverSettings(store, config.currency).extras,
    location: extras.location,
  };
}
