/**
 * The kiosk bridge (docs/contracts.md): the only API the renderer sees, as `window.cabpay`.
 * In Electron it crosses IPC; in the browser preview it crosses a local WebSocket to the same
 * core running under Node. Arguments are validated with these schemas on the core side.
 */
import { z } from 'zod';
import { minorAmount } from './money.js';
import { type OrderLine, type PspName, type RelayEventType, type RideStateName } from './relay-protocol.js';
import type { PspCapabilities } from './psp-capabilities.js';
import type { Result } from './result.js';

export const locales = ['en', 'sv', 'nb', 'da', 'fi'] as const;
export const localeName = z.enum(locales);
export type Locale = z.infer<typeof localeName>;

export const themeSetting = z.enum(['auto', 'day', 'night']);
export type ThemeSetting = z.infer<typeof themeSetting>;

export const extraKind = z.enum(['toll', 'airport_fee', 'luggage', 'booking_fee', 'other']);
export const addExtraArgs = z.object({
  kind: extraKind,
  amountMinor: minorAmount.positive(),
  label: z.string().min(1).max(100).optional(),
});
export type AddExtraArgs = z.infer<typeof addExtraArgs>;

/** One of the fleet's one-tap extras, as the driver settings hold it. */
export const extraPreset = z.object({
  kind: extraKind,
  amountMinor: minorAmount.positive(),
  /** VAT rate in whole percent, included in the amount (SE: 6% taxi, 0% road toll). */
  vatRate: z.number().int().min(0).max(100),
});
export type ExtraPreset = z.infer<typeof extraPreset>;

/** The driver's own settings, changed only after `unlockSettings` with the PIN. */
export const driverSettings = z.object({
  /** The driver's language for the driver's side; null follows the passenger's flag row. */
  locale: localeName.nullable(),
  theme: themeSetting,
  /** Screen brightness hint in percent (the shell or the driver applies it to the panel). */
  brightness: z.number().int().min(10).max(100),
  /** Printed on receipts; null when the fleet does not use driver ids. */
  driverId: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .regex(/^[\p{L}\p{N} ._-]+$/u, 'letters, digits, space, dot, dash')
    .nullable(),
  extras: z
    .array(extraPreset)
    .max(8)
    .refine((list) => new Set(list.map((e) => e.kind)).size === list.length, 'at most one preset per extra kind'),
});
export type DriverSettings = z.infer<typeof driverSettings>;

export const pinInput = z.string().regex(/^\d{4,12}$/, '4 to 12 digits');

/** One command call as it crosses a process boundary. */
export const kioskCommand = z.discriminatedUnion('name', [
  z.object({ name: z.literal('startRide') }),
  z.object({ name: z.literal('setFare'), amountMinor: minorAmount }),
  z.object({ name: z.literal('addExtra'), extra: addExtraArgs }),
  z.object({ name: z.literal('removeExtra'), lineId: z.string().min(1).max(100) }),
  z.object({ name: z.literal('endRide') }),
  z.object({ name: z.literal('cancelRide') }),
  z.object({ name: z.literal('dismiss') }),
  /**
   * After a refused or failed order: the passenger paid by other means (cash, card terminal).
   * `rideId`: a ride from the rides that need attention instead of the one on screen.
   */
  z.object({ name: z.literal('markPaidOtherwise'), rideId: z.string().min(1).max(100).optional() }),
  /** Takes a ride off the rides that need attention (the driver has seen how it ended). */
  z.object({ name: z.literal('markRideSeen'), rideId: z.string().min(1).max(100) }),
  z.object({ name: z.literal('setLocale'), locale: localeName }),
  z.object({ name: z.literal('setTheme'), theme: themeSetting }),
  /** Opens the driver settings for a short while if the PIN is right (checked in the core). */
  z.object({ name: z.literal('unlockSettings'), pin: pinInput }),
  z.object({ name: z.literal('lockSettings') }),
  z.object({ name: z.literal('saveDriverSettings'), settings: driverSettings }),
  /** The passenger's tip, picked on the tablet (PSPs with tipOnTablet); 0 is "no tip". */
  z.object({ name: z.literal('chooseTip'), tipAmountMinor: minorAmount }),
  /** After a failed or expired relay-made payment: send a fresh request (a new dynamic QR). */
  z.object({ name: z.literal('retryPayment') }),
  /** Refunds a paid ride in full or in part; only while the driver settings are unlocked. */
  z.object({
    name: z.literal('refundRide'),
    rideId: z.string().min(1).max(100),
    amountMinor: minorAmount.positive(),
    reason: z.string().trim().min(1).max(200).optional(),
  }),
]);
export type KioskCommand = z.infer<typeof kioskCommand>;

export type ConnectivityState = 'online' | 'connecting' | 'offline';

export interface RideView {
  rideId: string;
  /** `<cabId>.<rideId>`, the order id at the PSP. */
  merchantOrderId: string;
  state: RideStateName;
  startedAt: string;
  endedAt: string | null;
  /** The fare line and the extras, in order. */
  lines: OrderLine[];
  /** Fare plus extras: the order amount and the tip base. */
  orderAmount: number;
  currency: string;
  /** Where the create-order call (or the relay's payment.request) stands. */
  order: 'none' | 'queued' | 'created';
  /** The tip picked on the tablet (PSPs with tipOnTablet); null until picked, or when the passenger tips in their app. */
  tipAmount: number | null;
  /** The dynamic QR to pay this ride (PSPs with dynamicQr), once the relay has sent it. */
  paymentQr: { qrData: string; amount: number; currency: string; expiresAt: string } | null;
  /**
   * Relay-made payments: when the payment under way ends if nobody pays (the relay's deadline).
   * Then the ride fails with `payment_expired` and the driver may retry, cancel or mark it paid another way.
   */
  paymentExpiresAt?: string | null;
  /** `code` is stable and translated by the renderer; `message` is the core's English text. */
  failure: { code: string; message: string } | null;
  /**
   * The last relay event about this ride that the tablet refused (it did not match the ride: a
   * wrong amount, currency, cab or QR). Shown to the driver only; `reason` is the core's English text.
   */
  refusedEvent: { type: RelayEventType; reason: string; at: string } | null;
}

export interface SessionView {
  sessionId: string;
  psp: PspName;
  allowTip: boolean;
  startedAt: string;
  expiresAt: string;
  state: 'ready' | 'in_use' | 'canceled' | 'timed_out' | 'expired';
}

export interface PaymentView {
  rideId: string;
  /** 'psp' when confirmed by the PSP, 'other' when the driver took payment another way. */
  method: 'psp' | 'other';
  /** '' when method is 'other'. */
  pspOrderId: string;
  /** The digital receipt, known at once (also offline); published to the relay when online. */
  receiptUrl: string | null;
  orderAmount: number;
  tipAmount: number;
  totalAmount: number;
  currency: string;
  paidAt: string;
}

/** A paid ride the driver may refund from the PIN menu (newest first, the last 20). */
export interface RecentPaymentView {
  rideId: string;
  merchantOrderId: string;
  method: 'psp' | 'other';
  paidAt: string;
  totalAmount: number;
  currency: string;
  /** Refunded so far, as the PSP confirmed it. */
  refundedAmount: number;
  /** What may still be refunded: total − refunded − pending; 0 for method 'other'. */
  refundableAmount: number;
  /** The latest refund asked for on this ride. */
  refund: {
    refundId: string;
    amount: number;
    state: 'queued' | 'refunded' | 'failed';
    failure: { code: string; message: string } | null;
    requestedAt: string;
  } | null;
}

/**
 * A ride the driver left unfinished to take the next fare, while it still needs them: nobody has
 * paid yet (`open`), its payment is under way with no answer yet (`unconfirmed`), or its payment
 * failed (`failed`) or went through (`paid`) after the driver moved on. Newest first.
 */
export interface RideAttentionView {
  rideId: string;
  merchantOrderId: string;
  status: 'open' | 'unconfirmed' | 'failed' | 'paid';
  startedAt: string;
  endedAt: string | null;
  lines: OrderLine[];
  orderAmount: number;
  currency: string;
  /** Paid: what the passenger paid in all (fare, extras and tip); null otherwise. */
  paidTotal: number | null;
  failure: { code: string; message: string } | null;
  /** When the driver moved on to the next ride. */
  parkedAt: string;
  /** When it was paid or failed after the driver moved on; null while nothing has happened since. */
  outcomeAt: string | null;
  /** What the driver can do from the list; `seen` takes it off the list. */
  actions: ('seen' | 'paid_otherwise')[];
}

export interface KioskSnapshot {
  cab: { cabId: string; plate: string; label: string; psp: PspName; qrContent: string | null; capabilities: PspCapabilities };
  locale: Locale;
  theme: ThemeSetting;
  currency: string;
  connectivity: {
    relay: ConnectivityState;
    offlineSince: string | null;
    /** Why the relay is unreachable when the cab itself must act: 'unauthorized' = re-provision. */
    problem: 'unauthorized' | null;
    /** Set (true) only while the relay link is plain HTTP off loopback: the development setting `allowInsecureRelay`. */
    insecure?: true;
  };
  outboxDepth: number;
  /** Earlier rides whose payment is still pending confirmation. */
  pendingRides: number;
  /** Earlier rides the driver left unfinished that still need them (newest first, at most 20). */
  ridesNeedingAttention: RideAttentionView[];
  ride: RideView | null;
  session: SessionView | null;
  payment: PaymentView | null;
  /** Paid rides for the refund menu. */
  recentPayments: RecentPaymentView[];
  /** The driver's settings (the PIN itself never leaves the core). */
  driver: DriverView;
  /** The fleet's one-tap extras, from the driver settings. */
  extras: ExtraPreset[];
  /** The cab's position for sunrise/sunset; null: the auto theme goes by the clock. */
  location: { latitude: number; longitude: number } | null;
}

export interface DriverView {
  locale: Locale | null;
  brightness: number;
  driverId: string | null;
  /** 'unavailable': no PIN hash is configured, so the settings cannot be opened. */
  settings: 'locked' | 'unlocked' | 'locked_out' | 'unavailable';
  /** While locked out after repeated wrong PINs. */
  lockedUntil: string | null;
}

export type CommandResult = Promise<Result<null>>;

export interface CabpayApi {
  startRide(): CommandResult;
  setFare(amountMinor: number): CommandResult;
  addExtra(extra: AddExtraArgs): CommandResult;
  removeExtra(lineId: string): CommandResult;
  endRide(): CommandResult;
  cancelRide(): CommandResult;
  dismiss(): CommandResult;
  /** `rideId`: a ride from `ridesNeedingAttention` rather than the one on screen. */
  markPaidOtherwise(rideId?: string): CommandResult;
  markRideSeen(rideId: string): CommandResult;
  setLocale(locale: Locale): CommandResult;
  setTheme(theme: ThemeSetting): CommandResult;
  unlockSettings(pin: string): CommandResult;
  lockSettings(): CommandResult;
  saveDriverSettings(settings: DriverSettings): CommandResult;
  chooseTip(tipAmountMinor: number): CommandResult;
  retryPayment(): CommandResult;
  refundRide(rideId: string, amountMinor: number, reason?: string): CommandResult;
  getState(): Promise<KioskSnapshot>;
  /** Calls the listener with every new snapshot; returns the unsubscribe function. */
  onState(listener: (snapshot: KioskSnapshot) => void): () => void;
}

declare global {
  interface Window {
    cabpay: CabpayApi;
  }
}
