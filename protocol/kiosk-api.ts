/**
 * The kiosk bridge (DESIGN.md §4.5): the only API the renderer sees, as `window.cabpay`.
 * In Electron it crosses IPC; in the browser preview it crosses a local WebSocket to the same
 * core running under Node. Arguments are validated with these schemas on the core side.
 */
import { z } from 'zod';
import { minorAmount } from './money.js';
import { type OrderLine, type PspName, type RideStateName } from './relay-protocol.js';
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

/** One command call as it crosses a process boundary. */
export const kioskCommand = z.discriminatedUnion('name', [
  z.object({ name: z.literal('startRide') }),
  z.object({ name: z.literal('setFare'), amountMinor: minorAmount }),
  z.object({ name: z.literal('addExtra'), extra: addExtraArgs }),
  z.object({ name: z.literal('removeExtra'), lineId: z.string().min(1).max(100) }),
  z.object({ name: z.literal('endRide') }),
  z.object({ name: z.literal('cancelRide') }),
  z.object({ name: z.literal('dismiss') }),
  /** After a refused or failed order: the passenger paid by other means (cash, card terminal). */
  z.object({ name: z.literal('markPaidOtherwise') }),
  z.object({ name: z.literal('setLocale'), locale: localeName }),
  z.object({ name: z.literal('setTheme'), theme: themeSetting }),
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
  /** Where the create-order call stands. */
  order: 'none' | 'queued' | 'created';
  failure: { code: string; message: string } | null;
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
  pspOrderId: string;
  orderAmount: number;
  tipAmount: number;
  totalAmount: number;
  currency: string;
  paidAt: string;
}

export interface KioskSnapshot {
  cab: { cabId: string; plate: string; label: string; psp: PspName; qrContent: string | null };
  locale: Locale;
  theme: ThemeSetting;
  currency: string;
  connectivity: { relay: ConnectivityState; offlineSince: string | null };
  outboxDepth: number;
  /** Earlier rides whose payment is still pending confirmation. */
  pendingRides: number;
  ride: RideView | null;
  session: SessionView | null;
  payment: PaymentView | null;
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
  markPaidOtherwise(): CommandResult;
  setLocale(locale: Locale): CommandResult;
  setTheme(theme: ThemeSetting): CommandResult;
  getState(): Promise<KioskSnapshot>;
  /** Calls the listener with every new snapshot; returns the unsubscribe function. */
  onState(listener: (snapshot: KioskSnapshot) => void): () => void;
}


declare global {
  interface Window {
    cabpay: CabpayApi;
  }
}
